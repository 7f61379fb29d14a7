"""What a saved pipeline folder is: ``SeedVRPipeline.save_pretrained`` output.

Every place that accepts a model folder checks it with :func:`require_pipeline_folder`, so a
wrong path fails with one sentence instead of a diffusers traceback. What a folder must hold
beyond its ``model_index.json`` is checked when it is loaded (:mod:`seedvr.pipeline.verify`).
"""

from __future__ import annotations

from pathlib import Path

from seedvr.errors import SeedVRError

MODEL_INDEX = "model_index.json"  # written by save_pretrained; lists the pipeline's components


class ModelLoadError(SeedVRError):
    """A model that cannot be used as it is: not a pipeline folder, a foreign component class,
    a config that does not match its weights, or a damaged download."""


def is_pipeline_folder(path: str | Path) -> bool:
    """Whether ``path`` holds a saved pipeline (its ``model_index.json``)."""
    return (Path(path) / MODEL_INDEX).is_file()


def require_pipeline_folder(path: str | Path, label: str | None = None) -> Path:
    """``path`` as a :class:`Path` when it is a saved pipeline folder.

    ``label`` names the path the way the user gave it (``--model work/model``); it defaults
    to the path itself.

    Raises:
        ModelLoadError: no ``model_index.json`` in ``path``.
    """
    folder = Path(path)
    if not is_pipeline_folder(folder):
        raise ModelLoadError(f"{label or folder}: not a saved SeedVR pipeline folder (no {MODEL_INDEX})")
    return folder
