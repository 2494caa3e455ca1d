#!/usr/bin/env python3
"""Links a stratified, seeded sample of training photos into a folder for `kiosk model quantize --calibration`:
calibration never sees a validation photo."""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-label", type=int, default=25)
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()
    train, _ = data.split(data.collect(args.data), seed=args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        os.unlink(os.path.join(args.out, name))
    count = 0
    for label in data.LABELS:
        photos = sorted(p for p, l, *_ in train if l == label)
        for i, path in enumerate(rng.sample(photos, min(args.per_label, len(photos)))):
            os.symlink(os.path.abspath(path), os.path.join(args.out, f"{label}-{i:03d}{os.path.splitext(path)[1]}"))
            count += 1
    print(f"calibration: {count} training photos linked in {args.out}")


if __name__ == "__main__":
    main()
