"""Real photographs bundled inside scikit-image, read straight from the installed package.

Only files that ship in the wheel are listed (no download, no network). They are read
with OpenCV from ``skimage/data`` rather than through ``skimage.data.<name>()``, whose
fetcher may try to reach the internet for images that are not bundled.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np

from seedvr.errors import SeedVRError

# Colour photographs, by a readable name: the backgrounds and sprite textures of clips.
PHOTO_FILES: dict[str, str] = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "retina": "retina.jpg",
    "motorcycle": "motorcycle_left.png",
}
PHOTO_NAMES: tuple[str, ...] = tuple(PHOTO_FILES)

# Silhouettes: a shape's alpha, for sprites cut out as a real outline (dark = inside).
SILHOUETTE_FILES: dict[str, str] = {"horse": "horse.png"}
SILHOUETTE_NAMES: tuple[str, ...] = tuple(SILHOUETTE_FILES)


def skimage_data_dir() -> Path:
    """Folder of the images bundled with the installed scikit-image."""
    import skimage.data  # local import: only needed when a photo is read

    return Path(skimage.data.__file__).parent


def _read(file_name: str, flags: int) -> np.ndarray:
    path = skimage_data_dir() / file_name
    image = cv2.imread(str(path), flags) if path.is_file() else None
    if image is None:
        raise SeedVRError(f"bundled scikit-image photo {file_name} is missing from {path.parent}")
    return image


@cache
def load_photo(name: str) -> np.ndarray:
    """The photo ``name`` as read-only ``uint8 [H, W, 3]`` RGB.

    ``name`` is one of :data:`PHOTO_NAMES` (bundled with scikit-image) or the path of an
    image file (the pretraining set adds the photographs of the real-footage cache).
    """
    if name in PHOTO_FILES:
        bgr = _read(PHOTO_FILES[name], cv2.IMREAD_COLOR)
    elif Path(name).suffix.lower() in (".png", ".jpg", ".jpeg") and Path(name).is_file():
        bgr = cv2.imread(name, cv2.IMREAD_COLOR)
        if bgr is None:
            raise SeedVRError(f"photo {name} cannot be read as an image")
    else:
        raise SeedVRError(f"unknown photo {name!r}; choose from {', '.join(PHOTO_NAMES)} or give an image file")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    rgb.setflags(write=False)
    return rgb


@cache
def load_silhouette(name: str) -> np.ndarray:
    """The silhouette ``name`` as read-only ``float32 [H, W]`` alpha in [0, 1], cropped tight."""
    if name not in SILHOUETTE_FILES:
        raise SeedVRError(f"unknown silhouette {name!r}; choose from {', '.join(SILHOUETTE_NAMES)}")
    grey = _read(SILHOUETTE_FILES[name], cv2.IMREAD_GRAYSCALE)
    alpha = 1.0 - grey.astype(np.float32) / 255.0
    rows, cols = np.nonzero(alpha > 0.5)
    alpha = np.ascontiguousarray(alpha[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])
    alpha.setflags(write=False)
    return alpha
