"""Logging an evaluation to the active MLflow run (private SQLite store under tmp_path)."""

from __future__ import annotations

import pytest

import mlflow
from seedvr.evaluate import evaluate_dataset
from seedvr.evaluate.mlflow_logging import log_to_active_run


@pytest.fixture(scope="module")
def experiment_id(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("eval-mlflow")
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
        yield mlflow.create_experiment("evaluation-tests", artifact_location=(root / "artifacts").as_uri())
    mlflow.set_tracking_uri(previous)


def _artifact_paths(run_id: str, folder: str) -> set[str]:
    client = mlflow.MlflowClient()
    found, pending = set(), [folder]
    while pending:
        for item in client.list_artifacts(run_id, pending.pop()):
            (pending.append(item.path) if item.is_dir else found.add(item.path))
    return found


def test_full_evaluation_is_logged_with_gains_and_per_kind_metrics(experiment_id, full_evaluation):
    with mlflow.start_run(experiment_id=experiment_id) as run:
        assert log_to_active_run(full_evaluation.metrics, full_evaluation.out_dir)
    logged = mlflow.get_run(run.info.run_id)
    metrics, gains = logged.data.metrics, full_evaluation.metrics.gains
    for method, figures in full_evaluation.metrics.methods.items():
        assert metrics[f"eval/{method}/psnr_mask"] == pytest.approx(figures.psnr_mask)
        assert metrics[f"eval/{method}/sec_per_frame"] == pytest.approx(
            full_evaluation.timings["methods"][method]["sec_per_frame"]
        )
        assert f"eval/{method}/lpips" not in metrics  # not computed: not logged as a fake number
        for kind, kind_figures in figures.per_kind.items():
            assert metrics[f"eval/{method}/{kind}/psnr_mask"] == pytest.approx(kind_figures.psnr_mask)
    assert metrics["eval/gain_psnr_mask_db"] == pytest.approx(gains.psnr_mask_db)
    assert metrics["eval/gain_ewarp"] == pytest.approx(gains.ewarp)
    assert metrics["eval/gain_ewarp_mask"] == pytest.approx(gains.ewarp_mask)
    assert metrics["eval/seedvr/ewarp_mask"] == pytest.approx(full_evaluation.metrics.methods["seedvr"].ewarp_mask)
    assert metrics["eval/sampler_steps"] == full_evaluation.metrics.sampler.steps
    assert logged.data.tags["eval.baseline"] == gains.baseline
    artifacts = _artifact_paths(run.info.run_id, "evaluation")
    assert {
        "evaluation/metrics.json",
        "evaluation/per_clip.csv",
        "evaluation/per_frame.csv",
        "evaluation/report.md",
        "evaluation/timings.json",
        "evaluation/plots/psnr_per_frame.png",
        "evaluation/plots/psnr_by_kind.png",
    } <= artifacts
    assert any(path.startswith("evaluation/strips/") for path in artifacts)


def test_evaluate_dataset_logs_by_itself_inside_a_run_and_not_outside(experiment_id, tiny_dataset_dir, tmp_path):
    assert mlflow.active_run() is None
    assert not log_to_active_run({"methods": {}}, tmp_path)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        evaluate_dataset(None, tiny_dataset_dir, methods=["telea"], out_dir=tmp_path / "eval", max_clips=1, strips=0)
    metrics = mlflow.get_run(run.info.run_id).data.metrics
    assert "eval/telea/psnr_mask" in metrics and "eval/gain_psnr_mask_db" not in metrics
    assert "evaluation/metrics.json" in _artifact_paths(run.info.run_id, "evaluation")
