#!/usr/bin/env python3
"""Generates the ESC/POS test vectors in this directory with python-escpos.

The `.bin` files are exactly what python-escpos's `Dummy` printer collected
for each job; `kiosk-hal/tests/escpos_vectors.rs` decodes them. They are
committed, so the Rust tests need no Python. To regenerate:

    python3 -m venv /tmp/escpos-venv
    /tmp/escpos-venv/bin/pip install python-escpos==3.1
    /tmp/escpos-venv/bin/python kiosk-hal/tests/vectors/escpos/generate.py

Generated with python-escpos 3.1, Pillow 13.0.0, qrcode 8.2 (see VERSIONS,
written by this script). The images are built pixel by pixel so that their
data contains bytes that look like commands (GS V 0 = cut, LF, ESC @): a
decoder that reads image data as commands prints a cut out of an image.
"""

import os
import sys
from importlib.metadata import version

from PIL import Image
from escpos.printer import Dummy

OUT = os.path.dirname(os.path.abspath(__file__))

# Bytes a decoder must never act on when they are image data.
TRAPS = [
    bytes([0x1D, 0x56, 0x00]),  # GS V 0: full cut
    bytes([0x0A, 0x0A, 0x0A]),  # LF LF LF
    bytes([0x1B, 0x40, 0x1B]),  # ESC @ ESC
    bytes([0x1B, 0x70, 0x00]),  # ESC p 0: drawer pulse
]


def raster_image(rows):
    """An image whose GS v 0 raster data is exactly `rows` (equal-length byte strings).

    python-escpos inverts the image (black = bit 1), so a black pixel is a set bit.
    """
    width = len(rows[0]) * 8
    img = Image.new("L", (width, len(rows)), 255)
    for y, row in enumerate(rows):
        for x in range(width):
            if row[x // 8] & (0x80 >> (x % 8)):
                img.putpixel((x, y), 0)
    return img


def column_image(columns):
    """An image 24 dots high whose ESC * (24-dot) column data is exactly `columns` (3 bytes each)."""
    img = Image.new("L", (len(columns), 24), 255)
    for x, col in enumerate(columns):
        for y in range(24):
            if col[y // 8] & (0x80 >> (y % 8)):
                img.putpixel((x, y), 0)
    return img


def job(name, build):
    p = Dummy()
    build(p)
    data = p.output
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(data)
    print(f"{name}.bin: {len(data)} bytes", file=sys.stderr)
    return data


def text_job(p):
    p.hw("INIT")
    p.textln("Kiosk 7 receipt")
    p.set(bold=True, align="center", double_height=True, double_width=True)
    p.textln("TOTAL 50.00")
    p.set(bold=False, align="left", normal_textsize=True, underline=1)
    p.textln("Cafe")
    p.set(underline=0)
    p.text("no newline")
    p.ln(2)
    p.cut()


RASTER_ROWS = TRAPS * 2  # 8 rows of 3 bytes = 24 x 8 dots


def raster_job(p):
    p.textln("before")
    p.image(raster_image(RASTER_ROWS), impl="bitImageRaster")
    p.textln("after")
    p.cut()


# 30 columns: the traps, then blank columns to 30 dots.
COLUMNS = [t for t in TRAPS] + [bytes(3)] * 26


def column_job(p):
    p.textln("before")
    p.image(column_image(COLUMNS), impl="bitImageColumn")
    p.textln("after")
    p.cut()


def graphics_job(p):
    p.image(raster_image(RASTER_ROWS), impl="graphics")
    p.cut()


QR_TEXT = "https://pay.example.com/t/TX-2024-0001"


def qr_native_job(p):
    p.qr(QR_TEXT, native=True, size=6, ec=1)
    p.cut()


def qr_image_job(p):
    p.qr(QR_TEXT, native=False, size=3)
    p.cut()


def barcode_job(code, bc, function_type):
    def build(p):
        p.barcode(code, bc, function_type=function_type)
        p.cut()

    return build


def cut_job(mode, feed):
    def build(p):
        p.text("x")
        p.cut(mode=mode, feed=feed)

    return build


def cashdraw_job(p):
    p.cashdraw(2)
    p.cashdraw(5)
    p.cashdraw([27, 112, 0, 25, 255])
    p.textln("drawer")
    p.cut()


def main():
    job("text", text_job)
    raster = job("image_raster", raster_job)
    assert all(t in raster for t in TRAPS), "raster data holds the trap bytes"
    column = job("image_column", column_job)
    assert all(t in column for t in TRAPS), "column data holds the trap bytes"
    job("image_graphics", graphics_job)
    job("qr_native", qr_native_job)
    job("qr_image", qr_image_job)
    job("barcode_code39_a", barcode_job("KIOSK-42", "CODE39", "A"))
    job("barcode_code39_b", barcode_job("KIOSK-42", "CODE39", "B"))
    job("barcode_ean13_a", barcode_job("4006381333931", "EAN13", "A"))
    job("barcode_ean13_b", barcode_job("4006381333931", "EAN13", "B"))
    job("barcode_code128_b", barcode_job("{BTX-2024-0001", "CODE128", "B"))
    job("cut_full", cut_job("FULL", True))
    job("cut_partial", cut_job("PART", True))
    job("cut_no_feed", cut_job("FULL", False))
    job("cashdraw", cashdraw_job)
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        for pkg in ("python-escpos", "pillow", "qrcode", "python-barcode"):
            f.write(f"{pkg} {version(pkg)}\n")


if __name__ == "__main__":
    main()
