"""Still images and folders of numbered frames (PNG, JPG, ...), read and written with OpenCV.

A frame folder holds one image per frame. Frames are ordered by the numbers in their names
(``f2.png`` before ``f10.png``), hidden files and non-image files are ignored, and the frame
rate comes from an ``fps.txt`` file in the folder (``30000/1001``, ``25`` or ``29.97``), or is
24 when there is none.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.io.formats import FPS_SIDECAR, IMAGE_EXTENSIONS
from seedvr.io.image_header import image_header_size
from seedvr.io.info import DEFAULT_FOLDER_FPS, parse_fps
from seedvr.io.precision import eight_bits
from seedvr.io.threshold import levels_from_colour, levels_from_grey

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: ``f2`` < ``f10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in _DIGITS.split(name) if part)


def list_frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder, in frame order (numeric order of their names)."""
    files = [
        entry
        for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith(".") and entry.suffix.lower() in IMAGE_EXTENSIONS
    ]
    return sorted(files, key=lambda entry: natural_key(entry.name))


def read_folder_fps(folder: Path) -> Fraction:
    """Frame rate of a frame folder: from its ``fps.txt`` if present, else 24."""
    sidecar = folder / FPS_SIDECAR
    if not sidecar.is_file():
        return DEFAULT_FOLDER_FPS
    text = sidecar.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return parse_fps(text)
    except SeedVRError:
        raise SeedVRError(f"{sidecar} must hold a frame rate such as 25 or 30000/1001, found {text[:40]!r}") from None


def write_folder_fps(folder: Path, fps) -> None:
    """Write the ``fps.txt`` that :func:`read_folder_fps` reads (exact fraction, e.g. ``30000/1001``)."""
    rate = parse_fps(fps)
    (folder / FPS_SIDECAR).write_text(f"{rate}\n", encoding="utf-8")


def _read_raw(path: Path) -> np.ndarray:
    """The image as OpenCV stores it: [H,W] grey or [H,W,3|4] BGR(A), 8 or 16 bits."""
    # imdecode over a byte buffer instead of imread: imread cannot open non-ASCII paths on
    # every platform and returns None without saying why.
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as error:
        raise SeedVRError(f"cannot read image {path}: {error.strerror}") from None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise SeedVRError(f"{path} is not a readable image")
    if image.dtype == np.uint16:
        # 16-bit PNG/TIFF: rounded to 8 bits, the rule for every high-precision source.
        image = eight_bits(image)
    elif image.dtype != np.uint8:
        raise SeedVRError(f"{path} has {image.dtype} pixels; only 8- and 16-bit images are supported")
    return image


def read_image_rgb(path: Path) -> np.ndarray:
    """An image as uint8 RGB ``[H, W, 3]``; grey is replicated, alpha is dropped."""
    image = _read_raw(path)
    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    if image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    raise SeedVRError(f"{path} has {image.shape[2]} channels; expected grey, RGB or RGBA")


def read_image_mask_levels(path: Path) -> np.ndarray:
    """An image as uint8 mask levels ``[H, W]``, before thresholding (see :mod:`seedvr.io.threshold`)."""
    image = _read_raw(path)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        # OpenCV's BGR(A) order; the mask rule only cares about colour vs alpha channels.
        return levels_from_colour(image[:, :, :3], image[:, :, 3] if image.shape[2] == 4 else None)
    if image.ndim == 2:
        return levels_from_grey(image)
    raise SeedVRError(f"{path} has {image.shape[2]} channels; expected grey, RGB or RGBA")


def image_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` of an image file, from its header when it can be read without decoding."""
    size = image_header_size(path)
    if size is not None:
        return size
    image = _read_raw(path)
    return int(image.shape[0]), int(image.shape[1])


def write_png(path: Path, image: np.ndarray) -> None:
    """Write a uint8 or uint16 ``[H, W, 3]`` RGB or ``[H, W]`` grey image as PNG (lossless)."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise SeedVRError(f"could not encode frame for {path}")
    encoded.tofile(str(path))
