"""Deterministic synthetic test pictures (smooth colour fields with shapes) and a tiny PNG writer.

The oracle tests cannot rely on a photo collection being present, so they draw their own pictures.
"""
import struct
import zlib

import numpy as np


def write_png(path, rgb):
    """Writes an HxWx3 uint8 array as an 8-bit RGB PNG."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def synthetic_image(rng, size=256):
    """A smooth random colour field with a few filled ellipses and rectangles, plus mild noise."""
    coarse = rng.uniform(0, 255, size=(5, 5, 3))
    grid = np.linspace(0, 4, size)
    x0 = np.floor(grid).astype(int).clip(0, 3)
    t = (grid - x0)[:, None]
    rows = coarse[x0] * (1 - t[:, :, None]) + coarse[x0 + 1] * t[:, :, None]  # (size, 5, 3)
    img = rows[:, x0] * (1 - t[None, :, :]) + rows[:, x0 + 1] * t[None, :, :]
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(rng.integers(1, 5)):
        colour = rng.uniform(0, 255, size=3)
        cy, cx = rng.uniform(0, size, size=2)
        ry, rx = rng.uniform(size / 12, size / 3, size=2)
        if rng.random() < 0.5:
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        else:
            mask = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
        img[mask] = colour
    img += rng.normal(0, 6, size=img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess_256(rgb):
    """The kiosk's preprocessing for a 256x256 picture: centre-crop 224, ImageNet mean/std, NCHW float32."""
    assert rgb.shape[:2] == (256, 256)
    crop = rgb[16:240, 16:240].astype(np.float32) / 255.0
    return ((crop - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)
