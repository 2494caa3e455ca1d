#!/usr/bin/env python3
"""Chooses the catalogue's recycling guard on the validation split, and reports the kiosk's operating point.

The guard: a recyclable answer is shown without asking only while the model's probability on labels of other
bins stays below `max_other_bins` (Resources/catalogue.json, safety.bin_guards). The largest limit that sends at
most one in 24 `trash` photos to recycling without asking is chosen (the fewest extra questions for that).
With --write the catalogue's value is replaced; the kiosk's own answers (`asked` in eval.json, from
`kiosk classify --json` with the catalogue it was given) must agree with the rule as computed here.
"""
import argparse
import json
import os
import re
import sys

MIN_CONFIDENCE, MIN_MARGIN = 0.55, 0.15  # the kiosk's defaults (Sources/Screens/ScreenSettings.swift)
TRASH_SHARE = 1 / 24


def asks_by_thresholds(p):
    top = p["topk"]
    margin = top[0]["p"] - top[1]["p"] if len(top) > 1 else 1
    return p["p"] < MIN_CONFIDENCE or margin < MIN_MARGIN


def asks(p, limit, bin_of):
    return asks_by_thresholds(p) or (bin_of[p["predicted"]] == "recyclable" and p["other_bins"] >= limit)


def point(predictions, limit, bin_of):
    """What the kiosk does with each photo under this limit (None: no guard)."""
    answered = [p for p in predictions if not (asks(p, limit, bin_of) if limit is not None else asks_by_thresholds(p))]
    trash = [p for p in predictions if p["label"] == "trash"]
    return {
        "limit": limit,
        "answered_share": len(answered) / len(predictions),
        "answered_accuracy": sum(p["label"] == p["predicted"] for p in answered) / max(1, len(answered)),
        "answered_right_bin": sum(bin_of[p["label"]] == bin_of[p["predicted"]] for p in answered) / max(1, len(answered)),
        "trash_photos": len(trash),
        "trash_to_recycling_unasked": sum(1 for p in answered if p["label"] == "trash"
                                          and bin_of[p["predicted"]] == "recyclable"),
    }


def choose(predictions, bin_of):
    trash = sum(p["label"] == "trash" for p in predictions)
    allowed = int(trash * TRASH_SHARE + 1e-9)
    for limit in [round(1 - k / 100, 2) for k in range(0, 100)]:  # from no guard (1.0) down to 0.01
        if point(predictions, limit, bin_of)["trash_to_recycling_unasked"] <= allowed:
            return limit
    return 0.01


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", required=True, help="eval.json from evaluate.py")
    ap.add_argument("--catalogue", default="Resources/catalogue.json")
    ap.add_argument("--backend", default="int8")
    ap.add_argument("--write", action="store_true", help="put the chosen limit into the catalogue")
    ap.add_argument("--out", help="JSON report (operating points without and with the guard)")
    args = ap.parse_args()
    with open(args.catalogue) as f:
        catalogue = json.load(f)
    bin_of = {label: entry["category"] for label, entry in catalogue["labels"].items()}
    predictions = json.load(open(args.eval))["backends"][args.backend]["predictions"]
    current = next(g["max_other_bins"] for g in catalogue["safety"]["bin_guards"] if g["category"] == "recyclable")
    disagree = [p["image"] for p in predictions if p["asked"] != asks(p, current, bin_of)]
    if disagree:
        sys.exit(f"operating_point: the kiosk and this rule disagree on {len(disagree)} photos, e.g. {disagree[0]}")
    limit = choose(predictions, bin_of)
    report = {"without_guard": point(predictions, None, bin_of), "evaluated_with": point(predictions, current, bin_of),
              "chosen": point(predictions, limit, bin_of)}
    for name, r in report.items():
        print(f"{name}: limit {r['limit']}, answered {100 * r['answered_share']:.1f}% by itself "
              f"({100 * r['answered_accuracy']:.1f}% right, {100 * r['answered_right_bin']:.1f}% right bin), "
              f"{r['trash_to_recycling_unasked']} of {r['trash_photos']} trash photos to recycling unasked")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    if args.write and limit != current:
        with open(args.catalogue) as f:
            text = f.read()
        pattern = r'(\{"category": "recyclable", "max_other_bins": )[0-9.]+(\})'
        text, n = re.subn(pattern, rf"\g<1>{limit}\g<2>", text)
        if n != 1:
            sys.exit(f"operating_point: could not find the recyclable guard in {args.catalogue}")
        with open(args.catalogue, "w") as f:
            f.write(text)
        print(f"operating_point: {args.catalogue}: recyclable guard max_other_bins {current} → {limit}; evaluate "
              "again so that eval.json and the card use it")


if __name__ == "__main__":
    main()
