#!/usr/bin/env python3
"""Evaluates a kiosk model file on the validation split through the kiosk itself (`kiosk classify --json`), so
the figures are those of the shipped path: the kiosk's decoder, resize, crop and backend.

Writes a JSON report: top-1 over all labels and over TrashNet's six, per-class recall and precision, per-category
accuracy (labels mapped to bins by Resources/catalogue.json), and the confusion matrix.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def kiosk_predictions(kiosk, model, backend, paths, threads):
    out = subprocess.run([kiosk, "classify", "--json", "--model", model, "--backend", backend,
                          "--threads", str(threads)] + paths, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    by_path = {r["image"]: r for r in rows}
    return [by_path[p] for p in paths]


def report(true_labels, predicted_labels, category_of):
    labels = data.LABELS
    n = len(labels)
    index = {l: i for i, l in enumerate(labels)}
    confusion = [[0] * n for _ in range(n)]
    for t, p in zip(true_labels, predicted_labels):
        confusion[index[t]][index[p]] += 1
    per_class = {}
    for i, l in enumerate(labels):
        support = sum(confusion[i])
        predicted = sum(confusion[r][i] for r in range(n))
        per_class[l] = {"support": support,
                        "recall": confusion[i][i] / support if support else None,
                        "precision": confusion[i][i] / predicted if predicted else None}
    pairs = list(zip(true_labels, predicted_labels))
    six = [(t, p) for t, p in pairs if t in data.TRASHNET]
    categories = {}
    for t, p in pairs:
        c = category_of[t]
        entry = categories.setdefault(c, {"support": 0, "correct": 0})
        entry["support"] += 1
        entry["correct"] += int(category_of[p] == c)
    for entry in categories.values():
        entry["accuracy"] = entry["correct"] / entry["support"]
    return {
        "top1_all": sum(t == p for t, p in pairs) / len(pairs),
        "top1_trashnet6": sum(t == p for t, p in six) / len(six),
        "photos": len(pairs), "photos_trashnet6": len(six),
        "category_accuracy_all": sum(category_of[t] == category_of[p] for t, p in pairs) / len(pairs),
        "per_class": per_class, "per_category": categories,
        "labels": labels, "confusion": confusion,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="kiosk model file")
    ap.add_argument("--kiosk", default=".build/release/kiosk")
    ap.add_argument("--catalogue", default="Resources/catalogue.json")
    ap.add_argument("--backends", default="int8,fp32")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", required=True, help="JSON report to write")
    args = ap.parse_args()

    with open(args.catalogue) as f:
        category_of = {label: entry["category"] for label, entry in json.load(f)["labels"].items()}
    _, validation = data.split(data.collect(args.data), seed=args.seed)
    paths = [os.path.abspath(p) for p, *_ in validation]
    truth = [l for _, l, *_ in validation]
    result = {"model": args.model, "seed": args.seed, "backends": {}}
    for backend in args.backends.split(","):
        rows = kiosk_predictions(args.kiosk, args.model, backend, paths, args.threads)
        r = report(truth, [row["label"] for row in rows], category_of)
        r["predictions"] = [{"image": p, "label": t, "predicted": row["label"], "p": row["confidence"],
                             "topk": row["topk"], "asked": row["asked"], "other_bins": row["other_bins"]}
                            for p, t, row in zip(paths, truth, rows)]
        result["backends"][backend] = r
        print(f"{backend}: top-1 {r['top1_all']:.4f} over {r['photos']} photos, TrashNet six "
              f"{r['top1_trashnet6']:.4f}, trash recall {r['per_class']['trash']['recall']:.3f}, categories "
              + ", ".join(f"{c} {v['accuracy']:.3f}" for c, v in sorted(r["per_category"].items())), flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
