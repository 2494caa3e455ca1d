#!/usr/bin/env python3
"""Exports the trained ResNet50 to ONNX fp32 at a fixed input size, with BatchNormalization kept (the kiosk's
importer folds it), and writes labels.txt beside it."""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import nets  # noqa: E402


def export(state_path, size, out_onnx):
    net = nets.resnet50(len(data.LABELS))
    net.load_state_dict(torch.load(state_path, map_location="cpu"))
    net.eval()
    x = torch.zeros(1, 3, size, size)
    # The TorchScript exporter writes the plain Conv/BatchNormalization graph the kiosk imports; the newer
    # torch.export-based one is still the default's experiment, so keep the warning about it quiet.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.onnx.export(net, (x,), out_onnx, input_names=["input"], output_names=["logits"], opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL, dynamo=False)
    return net


def validation_accuracy(net, images, labels, size):
    """Top-1 with the kiosk's preprocessing at input `size` (shorter side to size*256/224, centre crop)."""
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 64):
            batch = np.stack([data.to_tensor(data.center_crop(im, round(size * 256 / 224), size),
                                             data.IMAGENET_MEAN, data.IMAGENET_STD) for im in images[i:i + 64]])
            pred = net(torch.from_numpy(batch)).argmax(1).numpy()
            correct += int((pred == np.asarray(labels[i:i + 64])).sum())
    return correct / len(images)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--sizes", default="112,128,144",
                    help="input sizes to compare on the validation split; the best is exported")
    ap.add_argument("--data", help="data folder, for choosing among several sizes")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--out", required=True, help="folder for model.onnx, labels.txt and export.json")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    scores = {}
    if len(sizes) > 1:
        if not args.data:
            ap.error("--data is needed to choose among several sizes")
        _, validation = data.split(data.collect(args.data), seed=args.seed)
        images = [data.load_cached(p, 256) for p, *_ in validation]
        index = {l: i for i, l in enumerate(data.LABELS)}
        labels = [index[l] for _, l, *_ in validation]
        net = nets.resnet50(len(data.LABELS))
        net.load_state_dict(torch.load(args.weights, map_location="cpu"))
        for size in sizes:
            scores[size] = validation_accuracy(net, images, labels, size)
            print(f"export: validation top-1 at {size}x{size}: {scores[size]:.4f}", flush=True)
    best = max(sizes, key=lambda s: scores.get(s, 0))
    export(args.weights, best, os.path.join(args.out, "model.onnx"))
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(data.LABELS) + "\n")
    with open(os.path.join(args.out, "export.json"), "w") as f:
        # The weights' name tells the model card which training phases led to this model.
        json.dump({"size": best, "validation_top1_by_size": scores,
                   "weights": os.path.splitext(os.path.basename(args.weights))[0]}, f, indent=1)
    print(f"export: wrote {args.out}/model.onnx at {best}x{best}")


if __name__ == "__main__":
    main()
