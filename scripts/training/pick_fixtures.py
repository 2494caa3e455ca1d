#!/usr/bin/env python3
"""Copies one validation photo per label into the test fixtures, for the shipped-model test: the first (in path
order) that both backends answer correctly with confidence >= 0.6. They check that the shipped file loads and the
int8 path answers end to end; accuracy is the model card's business, measured on the whole validation split."""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

LICENCES = {
    "trashnet": "TrashNet photos by Gary Thung and Mindy Yang (2016), MIT licence (see LICENSE-trashnet).",
    "e-waste": 'E-waste dataset, Roboflow Universe (object-detection/e-waste-mx8fq), CC BY 4.0 '
               '(https://creativecommons.org/licenses/by/4.0/); resized.',
    "produce": "Grocery Store Dataset (Klasson et al., WACV 2019), MIT licence (see LICENSE-produce).",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    evaluation = json.load(open(args.eval))
    int8 = {p["image"]: p for p in evaluation["backends"]["int8"]["predictions"]}
    fp32 = {p["image"]: p for p in evaluation["backends"]["fp32"]["predictions"]}
    os.makedirs(args.out, exist_ok=True)
    lines = ["# Photos for the shipped-model test", "",
             "One validation photo per label (never used in training), chosen by scripts/training/pick_fixtures.py:",
             "the first in path order that both backends answered correctly with confidence >= 0.6.", "",
             "| file | label | source |", "|---|---|---|"]
    for label in data.LABELS:
        chosen = next((path for path in sorted(int8) if int8[path]["label"] == label
                       and int8[path]["predicted"] == label and fp32[path]["predicted"] == label
                       and int8[path]["p"] >= 0.6), None)
        if chosen is None:
            print(f"pick_fixtures: no confident correct validation photo for {label}", file=sys.stderr)
            continue
        dataset = os.path.relpath(chosen, os.path.abspath(args.data)).split(os.sep)[0]
        name = f"{label}{os.path.splitext(chosen)[1].lower()}"
        shutil.copyfile(chosen, os.path.join(args.out, name))
        lines.append(f"| {name} | {label} | {LICENCES[dataset]} `{os.path.relpath(chosen, os.path.abspath(args.data))}` |")
    shutil.copyfile(os.path.join(args.data, "trashnet", "LICENSE"), os.path.join(args.out, "LICENSE-trashnet"))
    shutil.copyfile(os.path.join(args.data, "produce", "LICENSE"), os.path.join(args.out, "LICENSE-produce"))
    with open(os.path.join(args.out, "SOURCE.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"pick_fixtures: wrote {args.out}")


if __name__ == "__main__":
    main()
