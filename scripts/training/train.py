#!/usr/bin/env python3
"""Trains the kiosk's classifier in two steps, on this CPU or any other.

  teacher: fine-tunes ImageNet-pretrained EfficientNet-Lite0 (its last stages and a new head) on the photos.
  student: trains a ResNet50 from scratch (no pretrained ResNet50 can be downloaded here), distilling the
           teacher: both see the same augmented crop in every step ("consistent teaching", Beyer et al. 2022),
           loss = alpha * T^2 * KL(teacher || student at temperature T) + (1 - alpha) * cross-entropy.
           Optionally also "function matching" (same paper): mixup of pairs of photos, which the teacher labels
           like any other input (--mixup), and the ImageNet Lite0's own 1000-way answers, matched by an extra
           head on the student's pooled features that is dropped when the weights are saved (--imagenet-weight):
           1000 soft classes carry far more of what the teacher knows than eight.

Both: class-balanced sampling, seeded, evaluation on the validation split after every epoch, the best epoch
kept, early stopping after `--patience` epochs without improvement. Writes <out>/<step>.pt and <step>-log.json.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import nets  # noqa: E402

CACHE_SIDE = 224


class Photos(torch.utils.data.Dataset):
    """Augmented crops of the cached photos: the student's input, and the teacher's of the same crop."""

    def __init__(self, images, labels, seed, student_size, teacher_size, train):
        self.images, self.labels, self.seed = images, labels, seed
        self.student_size, self.teacher_size, self.train = student_size, teacher_size, train
        self.epoch = 0

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        im = self.images[i]
        out = {"label": self.labels[i]}
        if self.train:
            rng = random.Random(hash((self.seed, self.epoch, i)))
            im = data.augment(rng, im)
            crop = im.crop(data.random_resized_box(rng, *im.size))
            if self.student_size:
                out["student"] = data.to_tensor(crop.resize((self.student_size,) * 2, data.Image.BILINEAR),
                                                data.IMAGENET_MEAN, data.IMAGENET_STD)
            if self.teacher_size:
                out["teacher"] = data.to_tensor(crop.resize((self.teacher_size,) * 2, data.Image.BILINEAR),
                                                data.LITE_MEAN, data.LITE_STD)
        else:
            for key, size, mean, std in (("student", self.student_size, data.IMAGENET_MEAN, data.IMAGENET_STD),
                                         ("teacher", self.teacher_size, data.LITE_MEAN, data.LITE_STD)):
                if size:
                    out[key] = data.to_tensor(data.center_crop(im, round(size * 256 / 224), size), mean, std)
        return out


def balanced_sampler(labels, seed):
    counts = np.bincount(labels, minlength=len(data.LABELS)).astype(np.float64)
    weights = torch.tensor([1.0 / counts[y] for y in labels], dtype=torch.double)
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.WeightedRandomSampler(weights, num_samples=len(labels), replacement=True, generator=g)


def evaluate(net, loader, key):
    net.eval()
    correct, total = 0, 0
    per_class = np.zeros((len(data.LABELS), len(data.LABELS)), dtype=np.int64)
    with torch.no_grad():
        for batch in loader:
            x = batch[key].to(memory_format=torch.channels_last)
            pred = net(x).argmax(1)
            for t, p in zip(batch["label"].tolist(), pred.tolist()):
                per_class[t, p] += 1
            correct += int((pred == batch["label"]).sum())
            total += len(pred)
    return correct / total, per_class


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["teacher", "student"])
    ap.add_argument("--data", required=True, help="folder holding trashnet/, e-waste/ and produce/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--size", type=int, default=None, help="training resolution (teacher 192, student 112)")
    ap.add_argument("--teacher-size", type=int, default=192)
    ap.add_argument("--alpha", type=float, default=0.7)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--train-from", type=int, default=11, help="teacher: first of the 16 blocks to fine-tune")
    ap.add_argument("--seed", type=int, default=20261129, help="the train/validation split's seed")
    ap.add_argument("--round", type=int, default=1,
                    help="round K of training: crops, sampling and mixup are seeded with --seed + K - 1, so a "
                         "further round from --init sees fresh ones while the split stays")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--limit", type=int, default=0, help="use only this many training photos (for a smoke test)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="end after this many epochs of the --epochs schedule (a time budget); 0: run it all")
    ap.add_argument("--init", help="student: start from these weights (e.g. an earlier run's best epoch)")
    ap.add_argument("--name", help="output name (default: the step): NAME.pt and NAME-log.json")
    ap.add_argument("--mixup", type=float, default=0.0,
                    help="student: share of batches mixed with a shuffled copy of themselves (mixup, ratio ~ U(0,1))")
    ap.add_argument("--imagenet-weight", type=float, default=0.0,
                    help="student: weight of matching the ImageNet Lite0's 1000-way answers (0: off)")
    ap.add_argument("--warmup-epochs", type=float, default=None,
                    help="linear warm-up of the learning rate (default 0.5, or 0 with --init)")
    args = ap.parse_args()

    augment_seed = args.seed + args.round - 1
    torch.manual_seed(augment_seed)
    random.seed(augment_seed)
    np.random.seed(augment_seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    is_teacher = args.step == "teacher"
    size = args.size or (192 if is_teacher else 112)

    train_set, val_set = data.split(data.collect(args.data), seed=args.seed)
    if args.limit:
        train_set = random.Random(args.seed).sample(train_set, args.limit)
        val_set = val_set[:: max(1, len(val_set) // args.limit)]
    index = {name: i for i, name in enumerate(data.LABELS)}
    t0 = time.time()
    train_images = [data.load_cached(p, CACHE_SIDE) for p, *_ in train_set]
    val_images = [data.load_cached(p, CACHE_SIDE) for p, *_ in val_set]
    train_labels = [index[l] for _, l, *_ in train_set]
    val_labels = [index[l] for _, l, *_ in val_set]
    print(f"{args.step}: {len(train_images)} training, {len(val_images)} validation photos decoded in "
          f"{time.time() - t0:.0f} s", flush=True)

    if is_teacher:
        net = nets.efficientnet_lite0_pretrained(len(data.LABELS))
        for p in net.parameters():
            p.requires_grad = False
        trained = list(net._blocks[args.train_from:]) + [net._conv_head, net._bn1, net._fc]
        for m in trained:
            for p in m.parameters():
                p.requires_grad = True
        frozen = [net._conv_stem, net._bn0] + list(net._blocks[:args.train_from])
        teacher = None
        tr = Photos(train_images, train_labels, augment_seed, None, size, True)
        va = Photos(val_images, val_labels, args.seed, None, size, False)
        key, lr = "teacher", args.lr or 1e-3
    else:
        net = nets.resnet50(len(data.LABELS))
        if args.init:
            net.load_state_dict(torch.load(args.init, map_location="cpu"))
        frozen = []
        teacher = nets.EfficientNetLite0(len(data.LABELS))
        teacher.load_state_dict(torch.load(os.path.join(args.out, "teacher.pt"), map_location="cpu"))
        teacher = teacher.to(memory_format=torch.channels_last).eval()
        tr = Photos(train_images, train_labels, augment_seed, size, args.teacher_size, True)
        va = Photos(val_images, val_labels, args.seed, size, None, False)
        key, lr = "student", args.lr or 2e-3
    imagenet_teacher, imagenet_head = None, None
    if teacher is not None and args.imagenet_weight > 0:
        imagenet_teacher = nets.efficientnet_lite0_imagenet().to(memory_format=torch.channels_last).eval()
        imagenet_head = torch.nn.Linear(2048, 1000)
        # A further round keeps the head it matched with, so the backbone is not pulled about by a fresh one.
        head_path = args.init and os.path.splitext(args.init)[0] + "-imagenet-head.pt"
        if head_path and os.path.exists(head_path):
            imagenet_head.load_state_dict(torch.load(head_path, map_location="cpu"))
            print(f"{args.step}: ImageNet head continued from {head_path}", flush=True)
    net = net.to(memory_format=torch.channels_last)
    params = [p for p in net.parameters() if p.requires_grad]
    if imagenet_head is not None:
        params += list(imagenet_head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    steps_per_epoch = math.ceil(len(tr) / args.batch)
    # No warm-up by default when continuing from trained weights: the schedule only anneals.
    warmup_epochs = args.warmup_epochs if args.warmup_epochs is not None else (0 if args.init else 0.5)
    total_steps, warmup = steps_per_epoch * args.epochs, int(steps_per_epoch * warmup_epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, warmup)) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / total_steps))))
    val_loader = torch.utils.data.DataLoader(va, batch_size=64, num_workers=1)

    log = {"step": args.step, "args": vars(args), "augment_seed": augment_seed, "train_photos": len(tr),
           "validation_photos": len(va), "epochs": []}
    name = args.name or args.step
    best, since_best = -1.0, 0
    for epoch in range(args.stop_after or args.epochs):
        tr.epoch = epoch
        loader = torch.utils.data.DataLoader(tr, batch_size=args.batch, sampler=balanced_sampler(
            train_labels, augment_seed + epoch), num_workers=1, drop_last=True, persistent_workers=False)
        net.train()
        for m in frozen:
            m.eval()
        t_epoch, losses = time.time(), []
        mixing = np.random.RandomState(augment_seed + epoch)
        shuffling = torch.Generator().manual_seed(augment_seed + epoch)
        for batch in loader:
            x, y = batch[key], batch["label"]
            x_teacher = batch.get("teacher")
            ratio, partner = 1.0, None
            if teacher is not None and mixing.random_sample() < args.mixup:
                # Teacher and student see the same mixture; the teacher's answer to it is the target.
                ratio, partner = float(mixing.uniform()), torch.randperm(len(y), generator=shuffling)
                x = ratio * x + (1 - ratio) * x[partner]
                x_teacher = ratio * x_teacher + (1 - ratio) * x_teacher[partner]
            x = x.to(memory_format=torch.channels_last)
            if teacher is not None:
                pooled = net.pooled(x)  # the ImageNet head reads it too
                logits = net.fc(pooled)
            else:
                logits = net(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            if partner is not None:
                loss = ratio * loss + (1 - ratio) * F.cross_entropy(logits, y[partner], label_smoothing=0.1)
            if teacher is not None:
                t = args.temperature
                x_teacher = x_teacher.to(memory_format=torch.channels_last)
                with torch.no_grad():
                    soft = F.softmax(teacher(x_teacher) / t, 1)
                kd = F.kl_div(F.log_softmax(logits / t, 1), soft, reduction="batchmean")
                loss = args.alpha * t ** 2 * kd + (1 - args.alpha) * loss
                if imagenet_head is not None:
                    with torch.no_grad():
                        soft_imagenet = F.softmax(imagenet_teacher(x_teacher) / t, 1)
                    kd_imagenet = F.kl_div(F.log_softmax(imagenet_head(pooled) / t, 1), soft_imagenet,
                                           reduction="batchmean")
                    loss = loss + args.imagenet_weight * t ** 2 * kd_imagenet
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        accuracy, confusion = evaluate(net, val_loader, key)
        entry = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_top1": accuracy,
                 "seconds": time.time() - t_epoch}
        log["epochs"].append(entry)
        print(json.dumps(entry), flush=True)
        if accuracy > best:
            best, since_best = accuracy, 0
            torch.save(net.state_dict(), os.path.join(args.out, f"{name}.pt"))
            if imagenet_head is not None:  # not part of the model; only for a further round (--init)
                torch.save(imagenet_head.state_dict(), os.path.join(args.out, f"{name}-imagenet-head.pt"))
            log["best"] = entry
            log["confusion"] = confusion.tolist()
        else:
            since_best += 1
        with open(os.path.join(args.out, f"{name}-log.json"), "w") as f:
            json.dump(log, f, indent=1)
        if since_best >= args.patience:
            print(f"{args.step}: no improvement for {args.patience} epochs, stopping", flush=True)
            break
    print(f"{name}: best validation top-1 {best:.4f}", flush=True)


if __name__ == "__main__":
    main()
