"""The kiosk's training data: which photo gets which label, the train/validation split, and augmentation.

Labels: TrashNet's six material classes by their own names, plus `electronics` (the e-waste photos) and `food`
(the fruit and vegetable photos, a stand-in for kitchen waste). Resources/catalogue.json maps each to a bin.
"""
import os
import random
import re

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

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


def split(samples, seed=20261129, share=VALIDATION_SHARE):
    """Stratified, seeded, by units: within each stratum, whole units in a seeded order go to validation until
    it holds `share` of the stratum's photos."""
    rng = random.Random(seed)
    strata = {}
    for s in samples:
        strata.setdefault(s[2], {}).setdefault(s[3], []).append(s)
    train, validation = [], []
    for stratum in sorted(strata):
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


def augment(rng, im):
    """The photo as a tray camera might see it: rotation, flip, colour jitter, exposure, white balance, blur.
    Returns the augmented full picture; the caller takes a random resized crop of it."""
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    angle = rng.uniform(-20, 20)
    if abs(angle) > 1:
        im = im.rotate(angle, resample=Image.BILINEAR, expand=False, fillcolor=(235, 235, 235))
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.7, 1.3))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.7, 1.3))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.6, 1.4))
    a = np.asarray(im, dtype=np.float32)
    gains = np.array([rng.uniform(0.88, 1.12), 1.0, rng.uniform(0.88, 1.12)], dtype=np.float32)  # white balance
    gamma = rng.uniform(0.8, 1.25)  # exposure curve
    a = 255.0 * np.clip(a * gains / 255.0, 0, 1) ** gamma
    im = Image.fromarray(a.astype(np.uint8))
    if rng.random() < 0.25:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
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
