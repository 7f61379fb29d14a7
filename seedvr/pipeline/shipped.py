"""Where the base model the project ships lives: ``models/seedvr-base`` in the repository.

``seedvr repair`` uses it when no ``--model`` is given, and training starts from it when the
registry has no champion yet (``train.init: auto``). ``seedvr pretrain`` rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

from seedvr.errors import SeedVRError

SHIPPED_BASE_MODEL = Path(__file__).resolve().parents[2] / "models" / "seedvr-base"


def shipped_base_model() -> Path:
    """The shipped base model folder; a clear error when it is missing from this install."""
    if not (SHIPPED_BASE_MODEL / "model_index.json").is_file():
        raise SeedVRError(
            f"no model given and the shipped base model is missing ({SHIPPED_BASE_MODEL}): "
            "pass --model or rebuild it with `seedvr pretrain`"
        )
    return SHIPPED_BASE_MODEL
