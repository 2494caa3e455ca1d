"""The kiosk's training data: which photo gets which label, the train/validation split, and augmentation.

Labels: TrashNet's six material classes by their own names, plus `electronics` (the e-waste photos) and `food`
(the fruit and vegetable photos, a stand-in for kitchen waste). Resources/catalogue.json maps each to a bin.
"""
import os
import random
import re

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

TRASHNET = ["cardboard", "glass", "metal", "paper", "plastic", "trash"]
LABELS = TRASHNET + ["electronics", "food"]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
VALIDATION_SHARE = 0.2
BLOCK = 8  # consecutive photos that go to the same side of the split: bursts of one item stay together


def label_for(dataset, folder):
    """The model label of a photo in ../shared/data/<dataset>/<folder>, or None when the folder is not used."""
    if dataset == "trashnet":
        return folder if folder in TRASHNET else None
    if dataset == "e-waste":
        return "electronics"
    if dataset == "produce":
        return "food" if folder.startswith(("fruit_", "vegetable_")) else None
    return None


def _number_key(name):
    """Sorts 'glass10.jpg' after 'glass9.jpg', and names with several numbers by all of them."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def collect(data_root):
    """[(path, label, stratum, unit)] for every photo. Photos of one unit (a burst of one item or display) stay on
    one side of the split; the split keeps each stratum's share."""
    samples = []
    for dataset in ("trashnet", "e-waste", "produce"):
        root = os.path.join(data_root, dataset)
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            label = label_for(dataset, folder) if os.path.isdir(path) else None
            if label is None:
                continue
            names = [n for n in sorted(os.listdir(path), key=_number_key) if n.lower().endswith(IMAGE_SUFFIXES)]
            for i, name in enumerate(names):
                if dataset == "produce":
                    # Grocery Store Dataset names say the capture session and variety: test_Kiwi_Kiwi_004.jpg
                    stratum, unit = dataset, f"{folder}/{re.sub(r'_?[0-9]+$', '', os.path.splitext(name)[0])}"
                else:
                    stratum, unit = f"{dataset}/{folder}", f"{dataset}/{folder}/{i // BLOCK}"
                samples.append((os.path.join(path, name), label, stratum, unit))
    return samples


def collect_extra(folder):
    """Field photos from `kiosk-central export-training` (FOLDER/manifest.json): [(path, label, stratum, unit)] for
    those whose label is a model label, and {label: count} of those left out (a bin only, no label, or a label the
    model does not have yet, e.g. battery). Each label is its own stratum (`extra/<label>`), so adding field photos
    never moves the base photos across the split; a unit is BLOCK consecutive photos of one label at one kiosk in
    time order, so a technician's burst of one item stays on one side."""
    import json
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"--extra {folder}: {path} is missing or not JSON ({e}); export with kiosk-central export-training")
    groups, skipped = {}, {}
    for entry in manifest.get("photos", []):
        label = entry.get("label")
        if label not in LABELS:
            key = label or "(none)"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        groups.setdefault((entry["kiosk"], label), []).append(entry)
    samples = []
    for (kiosk, label), entries in sorted(groups.items()):
        entries.sort(key=lambda e: (e["taken_at_ms"], e["id"]))
        for i, e in enumerate(entries):
            photo = os.path.join(folder, e["file"])
            if not os.path.isfile(photo):
                raise SystemExit(f"--extra {folder}: {e['file']} is in the manifest but not in the folder")
            samples.append((photo, label, f"extra/{label}", f"extra/{kiosk}/{label}/{i // BLOCK}"))
    return samples, skipped


def split(samples, seed=20261129, share=VALIDATION_SHARE):
    """Stratified, seeded, by units: within each stratum, whole units in a seeded order go to validation until
    it holds `share` of the stratum's photos."""
    rng = random.Random(seed)
    strata = {}
    for s in samples:
        strata.setdefault(s[2], {}).setdefault(s[3], []).append(s)
    train, validation = [], []
    # Field photos' strata last: the base photos' split is the same with or without them.
    for stratum in sorted(strata, key=lambda name: (name.startswith("extra/"), name)):
        units = strata[stratum]
        total = sum(len(u) for u in units.values())
        order = sorted(units)
        rng.shuffle(order)
        taken = 0
        for key in order:
            if taken + len(units[key]) / 2 <= total * share:
                validation.extend(units[key])
                taken += len(units[key])
            else:
                train.extend(units[key])
    return train, validation


def load_cached(path, shorter_side):
    """Decodes a photo once, shrunk so its shorter side is `shorter_side` (training never needs more)."""
    im = Image.open(path)
    im.draft("RGB", (shorter_side, shorter_side))  # JPEG DCT scaling: decode smaller when possible
    im = im.convert("RGB")
    w, h = im.size
    scale = shorter_side / min(w, h)
    if scale < 1:
        im = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR, reducing_gap=None)
    return im


def random_resized_box(rng, w, h, scale=(0.3, 1.0), ratio=(3 / 4, 4 / 3)):
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(*scale)
        r = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
        cw, ch = int(round((target * r) ** 0.5)), int(round((target / r) ** 0.5))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return (x, y, x + cw, y + ch)
    s = min(w, h)
    return ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)


def augment(rng, im, strong=False, white_board=False):
    """The photo as a tray camera might see it: rotation, flip, colour jitter, exposure, white balance, blur.
    `strong` adds what residents' items bring and TrashNet lacks: a cluttered background instead of the white
    board (`white_board`: the photo is TrashNet's), printed labels, a hand or another item over part of it,
    wider colour and blur. Returns the augmented full picture; the caller takes a random resized crop of it."""
    if strong and white_board and rng.random() < 0.4:
        im = paste_on_background(rng, im)
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    angle = rng.uniform(-20, 20)
    if abs(angle) > 1:
        im = im.rotate(angle, resample=Image.BILINEAR, expand=False, fillcolor=(235, 235, 235))
    if strong and rng.random() < 0.25:
        im = add_print(rng, im)
    spread = 0.45 if strong else 0.3
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(1 - spread, 1 + spread))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(1 - spread, 1 + spread))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.6, 1.4) if not strong else rng.uniform(0.3, 1.6))
    a = np.asarray(im, dtype=np.float32)
    tint = 0.2 if strong else 0.12
    gains = np.array([rng.uniform(1 - tint, 1 + tint), 1.0, rng.uniform(1 - tint, 1 + tint)], dtype=np.float32)
    gamma = rng.uniform(0.8, 1.25)  # exposure curve
    a = 255.0 * np.clip(a * gains / 255.0, 0, 1) ** gamma
    im = Image.fromarray(a.astype(np.uint8))
    if strong and rng.random() < 0.3:
        im = occlude(rng, im)
    if rng.random() < (0.35 if strong else 0.25):
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.5 if strong else 1.5)))
    return im


def board_mask(im):
    """Where a TrashNet photo shows its white board: bright, unsaturated pixels connected to the picture's edge
    (a white item in the middle stays), softened at the edges. 255 is board, 0 is item. Found at a quarter of
    the size: the flood fill is Python's."""
    small = im.resize((max(1, im.width // 4), max(1, im.height // 4)), Image.BILINEAR)
    a = np.asarray(small, dtype=np.int16)
    lo, hi = a.min(axis=2), a.max(axis=2)
    board = Image.fromarray(((lo > 150) & (hi - lo < 40)).astype(np.uint8) * 255).copy()  # writable
    w, h = board.size
    edge = [(x, y) for x in range(0, w, 2) for y in (0, h - 1)] + [(x, y) for y in range(0, h, 2) for x in (0, w - 1)]
    for xy in edge:
        if board.getpixel(xy) == 255:
            ImageDraw.floodfill(board, xy, 128)
    reached = Image.fromarray((np.asarray(board) == 128).astype(np.uint8) * 255)
    return reached.resize(im.size, Image.BILINEAR).filter(ImageFilter.GaussianBlur(2))


def clutter(rng, size):
    """A background of the kind a tray or a kitchen counter shows: a tinted gradient with texture and shapes."""
    w, h = size
    base = np.array([rng.randint(20, 235) for _ in range(3)], dtype=np.float32)
    other = np.array([rng.randint(20, 235) for _ in range(3)], dtype=np.float32)
    t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
    ramp = t[None, :, None] if len(t) == w else t[:, None, None]
    a = base * (1 - ramp) + other * ramp + np.zeros((h, w, 3), np.float32)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(3, 18), (h, w, 1))
    im = Image.fromarray(np.clip(a + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randint(0, 6)):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randint(w // 10, w // 2), y0 + rng.randint(h // 10, h // 2)
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)((x0, y0, x1, y1), fill=fill)
    return im.filter(ImageFilter.GaussianBlur(rng.uniform(0, 2)))


def paste_on_background(rng, im):
    """The item of a white-board photo on a cluttered background instead."""
    return Image.composite(clutter(rng, im.size), im, board_mask(im))


def add_print(rng, im):
    """A printed label on the item: a pale or coloured patch with lines of dark text or bars."""
    w, h = im.size
    im = im.copy()
    draw = ImageDraw.Draw(im)
    lw, lh = rng.randint(w // 8, w // 3), rng.randint(h // 10, h // 4)
    x, y = rng.randint(w // 5, max(w // 5, w * 4 // 5 - lw)), rng.randint(h // 5, max(h // 5, h * 4 // 5 - lh))
    paper = tuple(rng.randint(150, 255) for _ in range(3))
    draw.rectangle((x, y, x + lw, y + lh), fill=paper)
    ink = tuple(rng.randint(0, 90) for _ in range(3))
    line = y + 3
    while line < y + lh - 4:
        length = rng.randint(lw // 3, lw - 4)
        if rng.random() < 0.5:
            draw.text((x + 2, line), "".join(rng.choice("ABCDEFGHKLMNPRSTUVXYZ0123456789 ") for _ in range(12)),
                      fill=ink)
        else:
            draw.line((x + 2, line, x + 2 + length, line), fill=ink, width=rng.randint(1, 3))
        line += rng.randint(6, 12)
    return im


def occlude(rng, im):
    """Part of the item hidden: a skin-toned or random-coloured blob over 4-15% of the picture."""
    w, h = im.size
    area = w * h * rng.uniform(0.04, 0.15)
    ratio = rng.uniform(0.5, 2.0)
    bw, bh = int((area * ratio) ** 0.5), int((area / ratio) ** 0.5)
    x, y = rng.randint(-bw // 3, w - bw * 2 // 3), rng.randint(-bh // 3, h - bh * 2 // 3)
    skin = [(224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172)]
    fill = rng.choice(skin) if rng.random() < 0.5 else tuple(rng.randint(0, 255) for _ in range(3))
    im = im.copy()
    ImageDraw.Draw(im).ellipse((x, y, x + bw, y + bh), fill=fill)
    return im


def center_crop(im, resize, crop):
    """The kiosk's own preprocessing: shorter side to `resize`, then the centre `crop` square."""
    w, h = im.size
    scale = resize / min(w, h)
    im = im.resize((max(crop, int(w * scale)), max(crop, int(h * scale))), Image.BILINEAR)
    w, h = im.size
    x, y = round((w - crop) / 2), round((h - crop) / 2)
    return im.crop((x, y, x + crop, y + crop))


def to_tensor(im, mean, std):
    a = (np.asarray(im, dtype=np.float32) / 255.0 - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return a.transpose(2, 0, 1).copy()


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
LITE_MEAN, LITE_STD = (127 / 255, 127 / 255, 127 / 255), (128 / 255, 128 / 255, 128 / 255)
