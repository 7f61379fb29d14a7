"""Loading a saved damage detector: the shipped one, a trained folder, or one a registered version carries.

Here, below ``train`` and ``engine``, because both load detectors: the pipeline's
``train_detector`` stage fine-tunes the shipped one, detection and batch repair run one.
"""

from __future__ import annotations

from pathlib import Path

from seedvr.models.detector import DamageDetector
from seedvr.pipeline.shipped import shipped_detector
from seedvr.pipeline.verify import verify_model_folder


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
