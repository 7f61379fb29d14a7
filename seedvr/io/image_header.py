"""An image's size read from its header, without decoding a pixel.

A mask or frame is compared with the video's size before it is decoded: a small file can
hold a huge image (a 250 KB PNG of 16000x16000 decodes to 256 MB of grey), and decoding it
only to refuse it costs that memory. The headers of the formats in
:data:`seedvr.io.formats.IMAGE_EXTENSIONS` are read here; an image whose header is not
understood (an unusual variant) gives ``None`` and is measured by decoding it instead.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

# Enough for the PNG, BMP and WebP headers; JPEG and TIFF say where their size lies further in.
_HEAD_BYTES = 64

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic...): not C4 (DHT),
# C8 (reserved) or CC (DAC), which share the range.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# JPEG markers that stand alone, without a length: TEM, RST0-7, SOI.
_JPEG_BARE = frozenset({0x01, *range(0xD0, 0xD9)})
_JPEG_SOS = 0xDA
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257
_TIFF_SHORT, _TIFF_LONG = 3, 4
_TIFF_MAX_ENTRIES = 1024  # far more tags than any real directory holds


def image_header_size(path: Path) -> tuple[int, int] | None:
    """``(height, width)`` from the header of a PNG, JPEG, BMP, WebP or TIFF file, else ``None``."""
    try:
        size = _header_size(path)
    except (OSError, struct.error, IndexError):
        # Unreadable or cut short: the decoder that follows says what is wrong with the file.
        return None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


def _header_size(path: Path) -> tuple[int, int] | None:
    with open(path, "rb") as file:
        head = file.read(_HEAD_BYTES)
        if head.startswith(b"\xff\xd8"):
            file.seek(2)
            return _jpeg_size(file)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_size(file, head)
    for reader in (_png_size, _bmp_size, _webp_size):
        size = reader(head)
        if size is not None:
            return size
    return None


def _png_size(head: bytes) -> tuple[int, int] | None:
    if not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return height, width


def _bmp_size(head: bytes) -> tuple[int, int] | None:
    if not head.startswith(b"BM"):
        return None
    (info_size,) = struct.unpack("<I", head[14:18])
    if info_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", head[18:22])
    else:
        width, height = struct.unpack("<ii", head[18:26])
    return abs(height), width  # a negative height is a top-down bitmap


def _webp_size(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return height, width
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: two 14-bit sizes minus one
        bits = int.from_bytes(head[21:25], "little")
        return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        width, height = struct.unpack("<HH", head[26:30])
        return height & 0x3FFF, width & 0x3FFF
    return None


def _tiff_size(file: BinaryIO, head: bytes) -> tuple[int, int] | None:
    order = "<" if head.startswith(b"II") else ">"
    # The first image directory (the first page, the one OpenCV reads), often after the pixels.
    (directory,) = struct.unpack(order + "I", head[4:8])
    file.seek(directory)
    (entries,) = struct.unpack(order + "H", file.read(2))
    table = file.read(12 * min(entries, _TIFF_MAX_ENTRIES))
    sizes: dict[int, int] = {}
    for start in range(0, len(table) - 11, 12):
        tag, kind = struct.unpack(order + "HH", table[start : start + 4])
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT) and kind in (_TIFF_SHORT, _TIFF_LONG):
            value = "H" if kind == _TIFF_SHORT else "I"
            (sizes[tag],) = struct.unpack(order + value, table[start + 8 : start + 8 + struct.calcsize(value)])
    if _TIFF_WIDTH in sizes and _TIFF_HEIGHT in sizes:
        return sizes[_TIFF_HEIGHT], sizes[_TIFF_WIDTH]
    return None


def _jpeg_size(file: BinaryIO) -> tuple[int, int] | None:
    """Walk the JPEG segments up to the first start-of-frame, which holds the size."""
    while True:
        byte = file.read(1)
        if byte != b"\xff":
            return None
        marker = file.read(1)
        while marker == b"\xff":  # fill bytes before a marker
            marker = file.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _JPEG_BARE:
            continue
        if code == _JPEG_SOS:  # image data begins: no frame header came first
            return None
        length_bytes = file.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if code in _JPEG_SOF:
            frame_header = file.read(5)  # precision, height, width
            if len(frame_header) < 5:
                return None
            _, height, width = struct.unpack(">BHH", frame_header)
            return height, width  # a height of 0 (given later by a DNL marker) is left to the decoder
        if length < 2:
            return None
        file.seek(length - 2, 1)
