"""Blind mode in batch repair: the detector of a run, and the mask it finds for a video given without one.

Which detector: the one the run's registered model version carries (the pipeline's
``train_detector`` stage, logged with the version by the register stage), so
``models:/seedvr-repair@champion`` repairs with the detector that was gated with it; a version
without one, a model folder or a classical method falls back to the shipped detector. Loaded
once per process, like the model (:mod:`seedvr.batch.model_cache`): a worker detects many videos.

The detected mask is written to the outbox (``NAME.mask.mkv``, atomically, by
:func:`~seedvr.engine.auto_mask.detect_repair_region`) before the repair reads it, so a person can check
what was repaired, and the ledger records it like the output.
"""

from __future__ import annotations

import threading
from pathlib import Path

from seedvr.batch.settings import RepairSettings
from seedvr.engine.auto_mask import detect_repair_region
from seedvr.io import atomic_output
from seedvr.models.detector import DamageDetector
from seedvr.pipeline.detector_folder import detector_of_model, load_detector

_detector_lock = threading.Lock()
_loaded_detector: tuple[str, DamageDetector] | None = None


def detector_folder(settings: RepairSettings) -> Path | None:
    """The detector folder the run's registered model carries; ``None``: the shipped detector."""
    return detector_of_model(settings.model) if settings.uses_model else None


def run_detector(settings: RepairSettings) -> DamageDetector:
    """The run's detector, loaded once per process (the latest one only is kept)."""
    global _loaded_detector
    folder = detector_folder(settings)
    key = str(folder) if folder is not None else "shipped"
    with _detector_lock:
        if _loaded_detector is None or _loaded_detector[0] != key:
            _loaded_detector = (key, load_detector(folder))
        return _loaded_detector[1]


def detect_mask(video: Path, target: Path, settings: RepairSettings) -> dict:
    """Find the film damage of ``video`` into the mask video ``target`` (atomic), as
    ``seedvr repair --mask auto`` finds what it repairs: detected, grown and confirmed by a
    propagated repair streamed as the run streams, over ``detector.looks`` looks. Its summary
    (flagged fraction, whether the temporal cue was used, the confirmation, the looks)."""
    with atomic_output(target) as pending:
        return detect_repair_region(
            video, pending, run_detector(settings), chunk=settings.chunk, overlap=settings.overlap, max_side=settings.max_side
        )
