#!/usr/bin/env python3
"""Keeps finished teachers in the repository, so that a new machine starts the student at once instead of
fine-tuning the teachers again (about 75 CPU-minutes each here). The training folder is lost with each machine;
the checkout is not.

    teacher_store.py save --work DIR --name teacher-lite0 [--to scripts/training/teachers]
    teacher_store.py restore --work DIR [--from scripts/training/teachers]

`save` writes the teacher's best weights as fp16 (half the size) with its training log; `restore` puts every
stored teacher the work folder lacks back as a finished step (fp32 weights and the log), which train.py then skips.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "teachers")


def save(work, name, to):
    with open(os.path.join(work, f"{name}-log.json")) as f:
        log = json.load(f)
    if not log.get("finished"):
        sys.exit(f"teacher_store: {name} has not finished training ({len(log.get('epochs', []))} epochs so far)")
    state = torch.load(os.path.join(work, f"{name}.pt"), map_location="cpu")
    os.makedirs(to, exist_ok=True)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    train.save_atomic(half, os.path.join(to, f"{name}.fp16.pt"))
    train.write_json(log, os.path.join(to, f"{name}-log.json"))
    print(f"teacher_store: {name} saved to {to} (best: {json.dumps(log.get('best'))})")


def restore(work, source):
    if not os.path.isdir(source):
        return
    os.makedirs(work, exist_ok=True)
    for file in sorted(os.listdir(source)):
        if not file.endswith(".fp16.pt"):
            continue
        name = file.removesuffix(".fp16.pt")
        target = os.path.join(work, f"{name}.pt")
        if train.finished_log(work, name):
            continue
        state = torch.load(os.path.join(source, file), map_location="cpu")
        train.save_atomic({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, target)
        with open(os.path.join(source, f"{name}-log.json")) as f:
            log = json.load(f)
        log["restored_from"] = os.path.relpath(os.path.join(source, file), os.path.dirname(HERE))
        train.write_json(log, os.path.join(work, f"{name}-log.json"))
        print(f"teacher_store: {name} restored into {work} from the repository")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save")
    s.add_argument("--work", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--to", default=HERE)
    r = sub.add_parser("restore")
    r.add_argument("--work", required=True)
    r.add_argument("--from", dest="source", default=HERE)
    args = ap.parse_args()
    if args.command == "save":
        save(args.work, args.name, args.to)
    else:
        restore(args.work, args.source)


if __name__ == "__main__":
    main()
