"""The detection gate: a version carrying a detector is promoted only when it finds film damage.

Hand-written ``detection`` blocks show each condition failing alone with a readable reason;
then real detectors scored on the tiny dataset: an untrained one (``new_detector``: its head
starts at the log-odds of rare damage, so it flags nothing) is refused, the shipped trained
one passes. Last, the detector travels with the registered version and loads back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from registry_helpers import metrics_doc

from seedvr.batch.detection import detector_folder as batch_detector_folder
from seedvr.batch.settings import RepairSettings
from seedvr.config import DetectorParams, Params, RegisterParams
from seedvr.evaluate.dataset_detection import evaluate_detection
from seedvr.evaluate.metrics_file import DetectionFigures, EvaluationMetrics
from seedvr.models.detector import new_detector
from seedvr.modelstore.registered import download_registered_pipeline, registered_detector
from seedvr.pipeline.detector_folder import detector_of_model, load_detector
from seedvr.pipeline.shipped import SHIPPED_DETECTOR
from seedvr.registry.models import log_pipeline_model, register_model
from seedvr.registry.promotion import decide_promotion
from seedvr.registry.tracking import start_run

BASELINES = {"propagate": (23.0, 0.020), "telea": (22.3, 0.030)}
GATES = RegisterParams(min_gain_over_propagate_db=0.05)
# The production bounds (params.yaml), met on a split generated as `make run`'s is (same
# sources, damage and seeds, 6 frames instead of 16) by the shipped detector before fine-tuning.
PRODUCTION_GATES = Params().register_


def kind(precision, recall) -> dict:
    return {"precision": precision, "recall": recall, "iou": 0.5, "flagged_fraction": 0.02, "clips": 1, "frames": 8}


def kinds(**overrides) -> dict:
    """Every film kind well found, but for ``overrides`` (``None``: the kind left out)."""
    every = {name: kind(0.95, 0.95) for name in ("blotch", "dust", "scratch")} | overrides
    return {name: figures for name, figures in every.items() if figures is not None}


def detection_doc(per_kind: dict | None = None, clean: float | None = 0.0004) -> dict:
    per_kind = per_kind if per_kind is not None else kinds()
    return {
        "detector": "work/detector",
        "threshold": 0.5,
        "dilate": 0,
        "tolerance": 1,
        "per_kind": per_kind,
        "clean": None if clean is None else {"flagged_fraction": clean, "clips": 3, "frames": 24},
    }


def with_detection(detection: dict | DetectionFigures) -> EvaluationMetrics:
    document = metrics_doc((24.1, 0.018), BASELINES)
    document["detection"] = detection.model_dump() if isinstance(detection, DetectionFigures) else detection
    return EvaluationMetrics.from_document(document, "the test's metrics")


def test_a_detector_reaching_every_bound_is_promoted():
    decision = decide_promotion(with_detection(detection_doc()), GATES)
    assert decision.promote
    assert decision.reasons[4].startswith("pass: detector work/detector: scratch recall 0.950 (>= 0.90), precision 0.950")


@pytest.mark.parametrize(
    ("detection", "reason"),
    [
        (detection_doc(kinds(blotch=kind(0.95, 0.5))), "blotch recall 0.500 <"),
        (detection_doc(kinds(dust=kind(0.3, 0.95))), "dust precision 0.300 <"),
        (detection_doc(kinds(scratch=None)), "scratch not evaluated"),
        (detection_doc(kinds(blotch=kind(None, 0.0))), "blotch recall 0.000"),
        (detection_doc(clean=0.02), "clean clips 2.0000 % flagged > 0.1000 %"),
        (detection_doc(clean=None), "no clean clip scored"),
    ],
)
def test_each_detection_condition_can_fail_alone(detection, reason):
    decision = decide_promotion(with_detection(detection), GATES)
    assert not decision.promote
    assert decision.reasons[4].startswith("fail: detector work/detector: ") and reason in decision.reasons[4]
    assert all(line.startswith(("pass", "no champion")) for index, line in enumerate(decision.reasons) if index != 4)


def test_without_a_scored_detector_the_gate_does_not_apply():
    decision = decide_promotion(EvaluationMetrics.from_document(metrics_doc((24.1, 0.018), BASELINES), "m"), GATES)
    assert decision.promote and not any("detector" in reason for reason in decision.reasons)


@pytest.fixture(scope="module")
def untrained_detector_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("untrained-detector") / "detector"
    new_detector(seed=0).save_pretrained(str(folder), safe_serialization=True)
    return folder


@pytest.fixture(scope="module")
def make_run_split(tmp_path_factory) -> str:
    """A damaged dataset made by the pipeline's ``damage`` stage, at 6 frames per clip."""
    from seedvr.data import generate_source_clips
    from seedvr.data.stage import run_damage_stage

    params, root = Params(), tmp_path_factory.mktemp("make-run-split")
    data = params.data.model_copy(update={"dir": "sources"})
    generate_source_clips(root / data.dir, data.clips, 6, data.width, data.height, seed=data.seed)
    damage = params.damage.model_copy(update={"out": "damaged"})
    return str(run_damage_stage(params.model_copy(update={"data": data, "damage": damage}), root).parent)


def scored(detector: Path, dataset: str) -> DetectionFigures:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return evaluate_detection(detector, dataset, "test", threshold=0.5, dilate=0, scales=DetectorParams().scales)
    finally:
        torch.set_num_threads(previous)


def test_an_untrained_detector_is_not_promoted(untrained_detector_dir, make_run_split):
    detection = scored(untrained_detector_dir, make_run_split)
    assert set(detection.per_kind) == {"scratch", "blotch", "dust"} and detection.clean.clips == 6
    decision = decide_promotion(with_detection(detection), PRODUCTION_GATES)
    assert not decision.promote
    assert "scratch recall 0.000 < 0.90" in decision.reasons[4] and "precision undefined" in decision.reasons[4]


def test_the_shipped_detector_passes_the_production_gates(make_run_split):
    decision = decide_promotion(with_detection(scored(SHIPPED_DETECTOR, make_run_split)), PRODUCTION_GATES)
    assert decision.promote, decision.reasons


def test_the_detector_travels_with_the_registered_version(mlflow_store, pipeline_dir, tmp_path):
    name = "detector-carrier"
    with start_run(Params(), experiment=name, run_name="with-detector") as run:
        log_pipeline_model(pipeline_dir, detector_dir=SHIPPED_DETECTOR)
    uri = f"models:/{name}/{register_model(run.info.run_id, name)}"
    folder = registered_detector(uri, tmp_path)
    assert folder is not None and folder.parent == download_registered_pipeline(uri, tmp_path).parent
    frames = np.random.default_rng(0).integers(0, 255, (1, 3, 3, 16, 16)).astype(np.float32) / 127.5 - 1
    cues = np.zeros((1, load_detector().config.cue_channels, 16, 16), dtype=np.float32)
    with torch.no_grad():
        shipped = load_detector()(torch.from_numpy(frames), torch.from_numpy(cues))
        carried = load_detector(folder)(torch.from_numpy(frames), torch.from_numpy(cues))
    assert torch.equal(shipped, carried)
    # Batch repair with this version detects with the detector it carries.
    carried_by_batch = batch_detector_folder(RepairSettings(model=uri))
    assert carried_by_batch is not None and carried_by_batch.name == folder.name
    assert batch_detector_folder(RepairSettings(method="telea")) is None  # the shipped one
    # So does `seedvr repair --mask auto --model <uri>` (one rule for both).
    assert detector_of_model(uri).name == folder.name and detector_of_model("work/model") is None
    # A version registered without one carries none: blind repair then uses the shipped detector.
    with start_run(Params(), experiment=name, run_name="without") as run:
        log_pipeline_model(pipeline_dir)
    assert registered_detector(f"models:/{name}/{register_model(run.info.run_id, name)}", tmp_path) is None
