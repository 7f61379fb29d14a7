"""Loading a saved damage detector: the shipped one, a trained folder, or one a registered version carries.

Here, below ``train`` and ``engine``, because both load detectors: the pipeline's
``train_detector`` stage fine-tunes the shipped one, detection and batch repair run one.
"""

from __future__ import annotations

from pathlib import Path

from seedvr.models.detector import DamageDetector
from seedvr.modelstore import registered
from seedvr.pipeline.shipped import shipped_detector
from seedvr.pipeline.verify import verify_model_folder


def detector_of_model(model: str | Path | None) -> Path | None:
    """The detector that goes with repair model ``model``: the one a registered version
    (``models:/...``) carries, gated with it by the register stage; ``None`` (the shipped
    detector) for a version without one, a model folder or no model."""
    if model is not None and registered.is_registry_uri(str(model)):
        return registered.registered_detector(str(model))
    return None


def load_detector(path: str | Path | None = None) -> DamageDetector:
    """The detector saved in folder ``path``; ``None``: the shipped ``models/seedvr-detector``.

    Strict (:func:`~seedvr.pipeline.verify.verify_model_folder`): a folder that is not exactly a
    saved :class:`DamageDetector` (another model, missing or mismatched weights) is one
    :class:`SeedVRError` line, before diffusers reads any of it.
    """
    folder = shipped_detector() if path is None else Path(path)
    verify_model_folder(folder, DamageDetector, label=f"--detector {folder}")
    detector = DamageDetector.from_pretrained(str(folder), use_safetensors=True, low_cpu_mem_usage=False)
    return detector.eval()
