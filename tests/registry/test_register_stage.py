"""``register_stage``: one MLflow run with history, evaluation and model; register; promote."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlflow
from seedvr.config import Params
from seedvr.errors import SeedVRError

# Two epochs as `seedvr train` writes them (the keys its LightningModule logs).
HISTORY = [
    {"epoch": 0, "step": 2, "train/total": 0.9, "train_loss": 0.9, "val/total": 0.8, "val_loss": 0.8, "val/psnr_mask": 21.0},
    {"epoch": 1, "step": 4, "train/total": 0.7, "train_loss": 0.7, "val/total": 0.6, "val_loss": 0.6, "val/psnr_mask": 22.5},
]


@pytest.fixture(scope="module")
def tracking(tmp_path_factory) -> Iterator[str]:
    """A temporary SQLite store for this module's runs and registered models."""
    from seedvr.registry import configure_tracking

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    # Set as the user's override, so register_stage's configure_tracking keeps this store.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("SEEDVR_MODEL_CACHE", str(folder / "model-cache"))
        configure_tracking(uri=uri)
        yield uri
        # Other modules' session store must not find this one in its place (inside the
        # context: MLflow exports the URI to the environment, which the context then restores).
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


@pytest.fixture(scope="module")
def params() -> Params:
    # The production gates (the schema's defaults, as in params.yaml) and the production
    # sampler setting (steps null: the model's own). An untrained pipeline reproduces
    # propagation exactly, so the propagate gate rejects it: the outcome is known in advance.
    return Params.model_validate(
        {
            "evaluate": {"methods": ["seedvr", "propagate"], "steps": None, "max_clips": 1, "strips": 1},
            "register": {"model_name": "stage-test", "experiment": "stage-test"},
        }
    )


@pytest.fixture(scope="module")
def trained_model(tiny_pipeline_dir: str, tmp_path_factory) -> Path:
    """The tiny untrained pipeline with a training summary, as `seedvr train` leaves it."""
    folder = tmp_path_factory.mktemp("trained") / "model"
    shutil.copytree(tiny_pipeline_dir, folder)
    summary = {"epochs": 2, "steps": 4, "perceptual_backend": "structural", "history": HISTORY}
    (folder / "training_summary.json").write_text(json.dumps(summary))
    # Wall-clock seconds live beside the model, in the train stage's timings file.
    (folder.parent / "train_timings.json").write_text(json.dumps({"epochs": 2, "steps": 4, "seconds": 1.5}))
    return folder


@pytest.fixture(scope="module")
def evaluation(trained_model: Path, tiny_dataset_dir: str, params: Params, tmp_path_factory) -> Path:
    from seedvr.evaluate import evaluate_dataset

    out = tmp_path_factory.mktemp("evaluation") / "eval"
    settings = params.evaluate
    evaluate_dataset(
        model=trained_model,
        data_dir=tiny_dataset_dir,
        split=settings.split,
        methods=settings.methods,
        out_dir=out,
        steps=settings.steps,
        seed=settings.seed,
        strips=settings.strips,
        max_clips=settings.max_clips,
    )
    return out


@pytest.fixture(scope="module")
def first_registration(
    tracking, params: Params, trained_model: Path, evaluation: Path, tiny_dataset_dir: str, tmp_path_factory
) -> dict:
    """``register_stage`` on an empty registry: version 1, written to registration.json."""
    from seedvr.registry.stage import register_stage

    out = tmp_path_factory.mktemp("stage") / "registration.json"
    record = register_stage(
        params,
        trained_model,
        evaluation,
        tiny_dataset_dir,
        repo_root=out.parent,
        out_path=out,
        train_timings=trained_model.parent / "train_timings.json",
    )
    assert json.loads(out.read_text()) == record
    return record


@pytest.fixture(scope="module")
def champion_version(first_registration: dict, params: Params, trained_model: Path) -> int:
    """A champion for the next registrations: the same pipeline registered by hand with
    hand-written metrics that pass every gate (inputs, not results), as a model trained
    elsewhere would arrive. The stage then re-evaluates it for real on the candidate's set."""
    from registry_helpers import metrics_of

    from seedvr.registry.models import log_pipeline_model
    from seedvr.registry.promotion import register_and_promote
    from seedvr.registry.tracking import start_run

    with start_run(params, experiment="stage-test", run_name="hand-registered champion") as run:
        log_pipeline_model(trained_model)
    passing = metrics_of((30.0, 0.01), {"propagate": (25.0, 0.02)})
    result = register_and_promote(run.info.run_id, passing, params.register_)
    assert result.decision.promote and result.champion == result.version == 2
    return result.version


def test_register_stage_logs_one_run_with_history_evaluation_and_model(first_registration: dict) -> None:
    from seedvr.registry import current_champion

    record = first_registration
    assert (record["model_name"], record["version"]) == ("stage-test", 1)
    # The untrained pipeline ties propagate: registered as challenger, never promoted.
    assert record["promoted"] is False and record["aliases"] == ["challenger"]
    assert record["champion"] is None and current_champion("stage-test") is None
    assert record["reasons"][0].startswith("fail: psnr_mask") and "vs propagate" in record["reasons"][0]
    assert "gain +0.000 dB < required 0.050 dB" in record["reasons"][0]
    assert record["reasons"][-1] == "no champion yet: the champion gate does not apply"
    client = mlflow.MlflowClient()
    run = client.get_run(record["run_id"])
    assert run.info.experiment_id == record["experiment_id"]
    assert record["run_url"].endswith(f"/runs/{record['run_id']}")
    # Params, the training history at its steps, the evaluation and the backend, in one run.
    assert run.data.params["evaluate.steps"] == "null" and run.data.params["perceptual_backend"] == "structural"
    history = client.get_metric_history(run.info.run_id, "val/psnr_mask")
    assert sorted((metric.step, metric.value) for metric in history) == [(2, 21.0), (4, 22.5)]
    assert run.data.metrics["train/steps"] == 4.0 and run.data.metrics["train/seconds"] == 1.5
    assert "eval/seedvr/psnr_mask" in run.data.metrics and "eval/propagate/psnr_mask" in run.data.metrics
    assert "eval/seedvr/ewarp_mask" in run.data.metrics
    assert run.data.metrics["eval/sampler_steps"] == run.data.metrics["eval/sampler_model_steps"]
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/metrics.json", "evaluation/report.md", "evaluation/strips", "evaluation/plots"} <= artifacts
    assert run.data.tags["promotion.decision"] == "rejected"
    assert client.get_model_version("stage-test", "1").run_id == record["run_id"]


def test_a_candidate_failing_a_gate_is_registered_as_challenger_and_the_champion_stays(
    champion_version: int, params: Params, trained_model: Path, evaluation: Path, tiny_dataset_dir: str, tmp_path: Path
) -> None:
    from seedvr.registry import current_champion
    from seedvr.registry.stage import register_stage

    record = register_stage(params, trained_model, evaluation, tiny_dataset_dir, repo_root=tmp_path)

    assert record["version"] == 3
    assert record["promoted"] is False and record["champion"] == record["previous_champion"] == champion_version
    assert record["aliases"] == ["challenger"] and current_champion("stage-test") == champion_version
    assert record["reasons"][0].startswith("fail: psnr_mask") and "vs propagate" in record["reasons"][0]
    # The champion was re-evaluated for real on the same clips (the same model: no regression),
    # in a run nested under the candidate's.
    assert record["reasons"][-1].startswith("pass: psnr_mask") and f"champion v{champion_version}" in record["reasons"][-1]
    assert "difference +0.00 dB" in record["reasons"][-1]
    nested = mlflow.search_runs(
        experiment_ids=[record["experiment_id"]],
        filter_string=f"tags.mlflow.parentRunId = '{record['run_id']}'",
        output_format="list",
    )
    assert [run.info.run_name for run in nested] == [f"champion-v{champion_version}-evaluation"]


def test_train_init_auto_starts_from_the_champion_when_there_is_one(
    champion_version: int, params: Params, tmp_path: Path
) -> None:
    from seedvr.pipeline.shipped import SHIPPED_BASE_MODEL
    from seedvr.train.fit import load_initial_pipeline, resolve_init

    fresh = params.model_copy(update={"register_": params.register_.model_copy(update={"model_name": "never-registered"})})
    # No champion: the shipped base model, or scratch where it is missing.
    shipped = fresh.model_copy(update={"pretrain": fresh.pretrain.model_copy(update={"out": str(SHIPPED_BASE_MODEL)})})
    assert resolve_init("auto", shipped) == str(SHIPPED_BASE_MODEL)
    missing = fresh.model_copy(update={"pretrain": fresh.pretrain.model_copy(update={"out": str(tmp_path / "none")})})
    assert resolve_init("auto", missing) == "scratch"
    assert resolve_init("work/model", params) == "work/model"
    assert resolve_init("auto", params) == f"models:/stage-test/{champion_version}"
    pipeline = load_initial_pipeline("auto", params)
    assert sum(parameter.numel() for parameter in pipeline.denoiser.parameters()) > 0


def test_register_stage_refuses_an_evaluation_of_another_model(
    tracking, params: Params, trained_model: Path, evaluation: Path, tiny_dataset_dir: str, tmp_path: Path
) -> None:
    from seedvr.registry.stage import register_stage

    other = tmp_path / "eval"
    shutil.copytree(evaluation, other)
    metrics = json.loads((other / "metrics.json").read_text())
    metrics["sampler"]["model_steps"] += 7
    (other / "metrics.json").write_text(json.dumps(metrics))
    out = tmp_path / "registration.json"
    with pytest.raises(SeedVRError, match="evaluate this model folder"):
        register_stage(params, trained_model, other, tiny_dataset_dir, repo_root=tmp_path, out_path=out)
    assert not out.exists()


def test_register_stage_refuses_a_folder_that_is_not_a_pipeline(
    tracking, params: Params, evaluation: Path, tmp_path: Path
) -> None:
    from seedvr.registry.stage import register_stage

    out = tmp_path / "registration.json"
    with pytest.raises(SeedVRError, match="not a saved SeedVR pipeline"):
        register_stage(params, tmp_path, evaluation, tmp_path, out_path=out)
    assert not out.exists()
