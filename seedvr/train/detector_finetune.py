"""The pipeline's detector: the shipped one fine-tuned on the damaged dataset (DVC stage ``train_detector``).

Why fine-tune rather than train: the shipped detector (``models/seedvr-detector``, about 20
minutes of training) already finds film damage over photographs; a short run on the train
split's own scratch, blotch and dust clips adapts it to this dataset's sources in under a
minute, just as the ``train`` stage starts the repair model from the shipped base model
instead of from scratch. The clean videos of those clips train along, so adapting to the
damage does not buy recall with false positives on intact footage. The result is versioned
with the repair model (the register stage logs it with the model version).
"""

from __future__ import annotations

from pathlib import Path

from seedvr.config import DetectorParams
from seedvr.errors import SeedVRError
from seedvr.io import atomic_output
from seedvr.models.detector import DamageDetector
from seedvr.pipeline.detector_folder import load_detector
from seedvr.train.detector import DetectorTrainResult, ProgressHook, manifest_clips, train_detector


def finetune_settings(params: DetectorParams) -> DetectorParams:
    """``params`` with the fine-tuning budget (``finetune_steps``, ``finetune_lr``,
    ``finetune_minutes``) in place of the full training's."""
    return params.model_copy(
        update={"steps": params.finetune_steps, "lr": params.finetune_lr, "max_minutes": params.finetune_minutes}
    )


def finetune_detector(
    dataset: str | Path,
    params: DetectorParams,
    init: DamageDetector | None = None,
    progress: ProgressHook | None = None,
) -> DetectorTrainResult:
    """Fine-tune ``init`` (default: the detector in ``params.finetune_from``) on the film-damage
    clips of the train split of ``dataset`` and their clean videos.

    Raises:
        SeedVRError: the train split holds no film-damage clip (nothing to learn from).
    """
    clips = manifest_clips(dataset, "train", with_clean=True)
    if not clips:
        raise SeedVRError(f"{dataset}: the train split has no film-damage clip (scratch, blotch, dust) to fine-tune on")
    detector = load_detector(params.finetune_from) if init is None else init
    return train_detector(clips, finetune_settings(params), progress, progress_every=50, init=detector)


def save_detector(detector: DamageDetector, out_dir: str | Path) -> Path:
    """``save_pretrained`` (safetensors) into ``out_dir`` atomically: a crash leaves the old folder."""
    out_dir = Path(out_dir)
    with atomic_output(out_dir, make_parents=True) as staging:
        detector.save_pretrained(str(staging), safe_serialization=True)
    return out_dir
