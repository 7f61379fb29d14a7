"""Where the models the project ships live: ``models/seedvr-base`` and ``models/seedvr-detector``.

``seedvr repair`` uses the base model when no ``--model`` is given, and training starts from it
when the registry has no champion yet (``train.init: auto``); ``seedvr pretrain`` rebuilds it.
``seedvr detect`` and ``seedvr repair --mask auto`` use the detector when no ``--detector`` is
given; ``seedvr detect-train --out models/seedvr-detector`` rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

from seedvr.errors import SeedVRError

SHIPPED_MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED_BASE_MODEL = SHIPPED_MODELS / "seedvr-base"
SHIPPED_DETECTOR = SHIPPED_MODELS / "seedvr-detector"


def shipped_base_model() -> Path:
    """The shipped base model folder; a clear error when it is missing from this install."""
    if not (SHIPPED_BASE_MODEL / "model_index.json").is_file():
        raise SeedVRError(
            f"no model given and the shipped base model is missing ({SHIPPED_BASE_MODEL}): "
            "pass --model or rebuild it with `seedvr pretrain`"
        )
    return SHIPPED_BASE_MODEL


def shipped_detector() -> Path:
    """The shipped damage detector folder; a clear error when it is missing from this install."""
    if not (SHIPPED_DETECTOR / "config.json").is_file():
        raise SeedVRError(
            f"no detector given and the shipped detector is missing ({SHIPPED_DETECTOR}): "
            "pass --detector or rebuild it with `seedvr detect-train --out models/seedvr-detector`"
        )
    return SHIPPED_DETECTOR
