#!/usr/bin/env python3
"""Chooses the student's teacher among the fine-tuned EfficientNet-Lites: each alone and every ensemble of two or
more (their softmax answers averaged), scored on the validation split at each one's native size. The best by
top-1 over TrashNet's six (then over all labels) wins; writes <work>/teacher.json with every candidate's scores."""
import argparse
import itertools
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import nets  # noqa: E402
import train  # noqa: E402


def probabilities(name, work, images):
    arch = name.removeprefix("teacher-")
    net = train.load_teacher(os.path.join(work, f"{name}.pt"), arch).eval()
    size = nets.LITE_SIZE[arch]
    out = []
    with torch.no_grad():
        for i in range(0, len(images), 32):
            x = np.stack([data.to_tensor(data.center_crop(im, round(size * 256 / 224), size), data.LITE_MEAN,
                                         data.LITE_STD) for im in images[i:i + 32]])
            out.append(torch.softmax(net(torch.from_numpy(x)), 1).numpy())
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--teachers", required=True, help="comma-separated names, e.g. teacher-lite0,teacher-lite2")
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()
    names = [n for n in args.teachers.split(",") if os.path.exists(os.path.join(args.work, f"{n}.pt"))]
    if not names:
        sys.exit(f"choose_teacher: no trained teacher in {args.work} ({args.teachers})")
    _, validation = data.split(data.collect(args.data), seed=args.seed)
    images = [data.load_cached(p, train.CACHE_SIDE) for p, *_ in validation]
    index = {l: i for i, l in enumerate(data.LABELS)}
    truth = np.array([index[l] for _, l, *_ in validation])
    probs = {n: probabilities(n, args.work, images) for n in names}
    candidates = []
    for k in range(1, len(names) + 1):
        for group in itertools.combinations(names, k):
            predicted = np.mean([probs[n] for n in group], axis=0).argmax(1)
            confusion = np.zeros((len(data.LABELS),) * 2, dtype=np.int64)
            np.add.at(confusion, (truth, predicted), 1)
            candidates.append({"teachers": list(group), **train.scores(confusion)})
            print(json.dumps(candidates[-1]), flush=True)
    best = max(candidates, key=lambda c: (c["val_trashnet_top1"], c["val_top1"], -len(c["teachers"])))
    train.write_json({"chosen": best, "candidates": candidates}, os.path.join(args.work, "teacher.json"))
    print(f"choose_teacher: {'+'.join(best['teachers'])}: TrashNet six {best['val_trashnet_top1']:.4f}, "
          f"all labels {best['val_top1']:.4f}")


if __name__ == "__main__":
    main()
