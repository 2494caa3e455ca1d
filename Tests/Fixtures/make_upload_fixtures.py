#!/usr/bin/env python3
"""Writes the two hostile PNGs the upload tests send (run from this folder):
claims-100000x100000.png states 100,000 x 100,000 pixels but holds a few rows; bomb-8000x8000.png is a real
decompression bomb, 8000 x 8000 black pixels (192 MB as RGB) in 62 KB."""
import struct
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, raw):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


open("claims-100000x100000.png", "wb").write(png(100000, 100000, b"\0" * 100001 * 2))
open("bomb-8000x8000.png", "wb").write(png(8000, 8000, b"\0" * (8001 * 8000)))
