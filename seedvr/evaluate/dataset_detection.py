"""The damage detector scored on one split of the damaged dataset: metrics.json's ``detection`` block.

Why beside the repair methods: in blind mode the repair is only as good as the mask it is
given, so the candidate that the register stage promotes is the repair model *and* its
detector, and both are measured on the same split. The clips are the split's film damage
(scratch, blotch, dust: what the detector is for; strokes, objects and logos are not film
damage) and, for false alarms, the clean videos of the same clips
(:func:`seedvr.train.detector.manifest_clips` with ``with_clean``). Scores pool every pixel of
a kind's clips (:func:`seedvr.evaluate.detection.score_detector`, precision and recall with
:data:`~seedvr.metrics.detection.DEFAULT_TOLERANCE` pixel of slack, IoU strict).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from seedvr.errors import SeedVRError
from seedvr.evaluate.detection import score_detector
from seedvr.evaluate.metrics_file import CleanFigures, DetectionFigures, DetectionKindFigures
from seedvr.metrics.detection import DEFAULT_TOLERANCE
from seedvr.pipeline.detector_folder import load_detector
from seedvr.train.detector import CLEAN, manifest_clips


def evaluate_detection(
    detector: str | Path, data_dir: str | Path, split: str, threshold: float, dilate: int, scales: Sequence[float]
) -> DetectionFigures:
    """Detect every film-damage clip of ``split`` and its clean video with the detector in folder
    ``detector``; pooled scores per kind and the flagged fraction on the clean videos.

    Raises:
        SeedVRError: not a detector folder, or the split has no film-damage clip to score.
    """
    model = load_detector(detector)
    clips = manifest_clips(data_dir, split, with_clean=True)
    if not clips:
        raise SeedVRError(f"split {split!r} of {data_dir} has no film-damage clip (scratch, blotch, dust) to score on")
    scores = score_detector(model, clips, threshold, dilate, scales)
    counts = Counter(clip.kind for clip in clips)
    frames = Counter()
    for clip in clips:
        frames[clip.kind] += len(clip.frames)
    per_kind = {
        kind: DetectionKindFigures(
            precision=score.precision,
            recall=score.recall,
            iou=score.iou,
            flagged_fraction=score.flagged_fraction,
            clips=counts[kind],
            frames=frames[kind],
        )
        for kind, score in scores.items()
        if kind != CLEAN
    }
    clean = None
    if CLEAN in scores:
        clean = CleanFigures(flagged_fraction=scores[CLEAN].flagged_fraction, clips=counts[CLEAN], frames=frames[CLEAN])
    return DetectionFigures(
        detector=str(detector),
        threshold=float(threshold),
        dilate=int(dilate),
        scales=list(scales),
        tolerance=DEFAULT_TOLERANCE,
        per_kind=dict(sorted(per_kind.items())),
        clean=clean,
    )
