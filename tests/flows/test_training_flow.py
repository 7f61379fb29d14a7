"""The training flow end to end on a tiny project: DVC decides what runs, MLflow records it.

One temporary project (a git + DVC repository with this repo's dvc.yaml and a tiny
params.yaml, MLflow in a temporary SQLite store) goes through three flow runs:

1. everything runs: version 1 is registered as challenger; a model that still repairs exactly
   as propagation does ties ``propagate``, so the production gates (a positive margin over
   propagate) keep it from becoming champion, and say so;
2. nothing changed: every stage is skipped and nothing new is registered;
3. only a promotion gate changed: only ``register`` runs; version 2 is the challenger and
   there is still no champion.

After each run ``dvc status`` is clean: the flow and ``dvc repro`` agree on what changed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from seedvr.config import Params

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GIT_IDENTITY = ["-c", "user.name=seedvr-tests", "-c", "user.email=tests@seedvr.invalid"]

# Small enough that the whole pipeline runs in about a minute on two CPU cores, yet every
# split has clips (6 sources: 4 train, 1 val, 1 test) and every stage does real work.
TINY_PARAMS = {
    "data": {"clips": 6, "frames": 6, "width": 48, "height": 32},
    # scratch: film damage for the train_detector stage to fine-tune the shipped detector on.
    "damage": {"kinds": ["object", "scratch"]},
    "detector": {"finetune_steps": 2, "batch_size": 2, "crop_size": 32},
    "model": {"num_inference_steps": 2},
    # Training runs for real, but with a learning rate so small that the model still repairs
    # exactly as propagation does (its residual branches start at zero): against propagate
    # its gain is then 0, which the production gates (register: the schema's defaults, a
    # margin > 0) reject whatever two steps of training would have done, so the outcome of
    # each run is known in advance.
    # init scratch: `auto` would start from the shipped base model (no champion yet), which
    # is trained and so would not tie propagate.
    "train": {
        "init": "scratch",
        "lr": 1e-12,
        "max_epochs": 1,
        "samples_per_epoch": 2,
        "batch_size": 1,
        "crop_size": 32,
        "clip_frames": 4,
        "val_clips": 1,
        "val_steps": 1,
    },
    # steps null: the model's own 2 steps, as batch repair runs it (the gates refuse others).
    "evaluate": {"methods": ["seedvr", "propagate"], "steps": None, "max_clips": 2, "strips": 1},
}


def _merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) else value
    return merged


def write_params(path: Path, overrides: dict) -> None:
    """Every key of the schema (DVC needs each listed param present), tiny values on top."""
    defaults = Params().model_dump(mode="json", by_alias=True)
    path.write_text(yaml.safe_dump(_merge(defaults, overrides), sort_keys=False))


def _run(args: list[str], cwd: Path) -> str:
    completed = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"{' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def dvc_status(project: Path) -> dict:
    return json.loads(_run([sys.executable, "-m", "dvc", "status", "--json"], project) or "{}")


def build_project(project: Path) -> None:
    """A git + DVC repository holding this repo's pipeline definition, the code folders its
    stages depend on, tiny params and data.dvc for source data that is not there yet."""
    from seedvr.config import load_params
    from seedvr.versioning import ensure_source_data

    project.mkdir()
    shutil.copy(PROJECT_ROOT / "dvc.yaml", project / "dvc.yaml")
    shutil.copy(PROJECT_ROOT / ".dvcignore", project / ".dvcignore")
    # Only hashed by DVC (the stage commands run the installed seedvr): a copy pins the deps.
    shutil.copytree(PROJECT_ROOT / "seedvr", project / "seedvr", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # The train stage depends on the shipped base model (pretrain.out), as in this repo.
    shutil.copytree(PROJECT_ROOT / "models" / "seedvr-base", project / "models" / "seedvr-base")
    # The train_detector stage fine-tunes the shipped detector (detector.finetune_from).
    shutil.copytree(PROJECT_ROOT / "models" / "seedvr-detector", project / "models" / "seedvr-detector")
    write_params(project / "params.yaml", TINY_PARAMS)
    (project / ".gitignore").write_text("/data/\n/work/\n/mlflow/\n")
    _run(["git", "init", "--quiet"], project)
    _run([sys.executable, "-m", "dvc", "init", "--quiet"], project)
    _run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], project)
    ensure_source_data(project, load_params(project / "params.yaml").data, update=True)
    _run(["git", "add", "--all"], project)
    _run(["git", *GIT_IDENTITY, "commit", "--quiet", "-m", "tiny project"], project)
    # As a fresh clone has it: data.dvc committed, neither the data nor the DVC cache.
    shutil.rmtree(project / "data")
    shutil.rmtree(project / ".dvc" / "cache", ignore_errors=True)


@pytest.fixture
def training_project(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """The tiny project, with MLflow (this process and the stage commands) in its own SQLite."""
    import mlflow
    from seedvr.registry import configure_tracking

    project = tmp_path / "project"
    build_project(project)
    uri = f"sqlite:///{(tmp_path / 'mlflow' / 'mlflow.db').as_posix()}"
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # inherited by the stage commands
    monkeypatch.setenv("SEEDVR_MODEL_CACHE", str(tmp_path / "model-cache"))
    configure_tracking(uri=uri)
    yield project
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


def _ran(summary: dict) -> dict[str, bool]:
    return {stage["stage"]: stage["ran"] for stage in summary["stages"]}


def test_pipeline_registers_a_challenger_skips_unchanged_stages_and_gates_promotion(
    prefect_harness, training_project: Path
) -> None:
    from prefect.artifacts import Artifact

    from flows.training import PROGRESS_ARTIFACT_KEY, SUMMARY_ARTIFACT_KEY, training_pipeline
    from seedvr.registry import current_champion, list_versions

    project = training_project
    recorded_data = (project / "data.dvc").read_text()
    first = training_pipeline(root=str(project))

    assert all(_ran(first).values()), _ran(first)
    assert first["stages"][0]["action"] == "generated"  # and recorded in the DVC cache
    assert (project / "data.dvc").read_text() == recorded_data  # the same bytes, the same version
    registration = first["registration"]
    # A gate must be able to fail: the model ties propagate, so it is not promoted.
    assert (registration["version"], registration["promoted"], registration["champion"]) == (1, False, None)
    assert registration["aliases"] == ["challenger"]
    assert registration["reasons"][0].startswith("fail: psnr_mask") and "vs propagate" in registration["reasons"][0]
    assert "gain +0.000 dB < required 0.050 dB" in registration["reasons"][0]
    assert registration["data_version"] == first["data_version"]
    assert current_champion("seedvr-repair") is None
    assert json.loads((project / "work" / "registration.json").read_text()) == registration
    assert set(first["metrics"].methods) == {"seedvr", "propagate"}
    assert first["metrics"].sampler.steps == first["metrics"].sampler.model_steps == 2
    # The fine-tuned detector was scored on the split's scratches and gated with the model.
    assert list(first["metrics"].detection.per_kind) == ["scratch"] and first["metrics"].detection.clean.clips >= 1
    (gate,) = [reason for reason in registration["reasons"] if reason.startswith("fail: detector work/detector: ")]
    assert "blotch not evaluated" in gate and "dust not evaluated" in gate
    summary = Artifact.get(SUMMARY_ARTIFACT_KEY).data
    assert "version 1 (gates failed" in summary and registration["run_url"] in summary
    assert "| seedvr |" in summary and "| propagate |" in summary
    assert float(Artifact.get(PROGRESS_ARTIFACT_KEY).data) == 100.0
    assert dvc_status(project) == {}
    shown = json.loads(_run([sys.executable, "-m", "dvc", "metrics", "show", "--json"], project))
    (workspace,) = shown.values()  # one revision: the workspace
    metrics_file = workspace["data"]["work/eval/metrics.json"]["data"]
    assert metrics_file["methods"]["seedvr"]["psnr_mask"] == first["metrics"].methods["seedvr"].psnr_mask

    second = training_pipeline(root=str(project))

    assert not any(_ran(second).values()), _ran(second)
    assert [version.version for version in list_versions("seedvr-repair")] == [1]
    assert second["registration"] == registration  # the record of the last registration
    assert dvc_status(project) == {}

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["register"]["min_gain_over_propagate_db"] = 100.0
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    third = training_pipeline(root=str(project))

    assert [name for name, ran in _ran(third).items() if ran] == ["register"]
    rejected = third["registration"]
    assert (rejected["version"], rejected["promoted"], rejected["champion"]) == (2, False, None)
    assert rejected["aliases"] == ["challenger"]
    assert rejected["reasons"][0].startswith("fail: psnr_mask") and "required 100.000 dB" in rejected["reasons"][0]
    assert rejected["reasons"][-1] == "no champion yet: the champion gate does not apply"
    assert current_champion("seedvr-repair") is None
    assert "gates failed: champion unchanged" in Artifact.get(SUMMARY_ARTIFACT_KEY).data
    assert dvc_status(project) == {}

    # A fresh clone of a committed dvc.lock: the stages rebuild the same outputs, so DVC finds
    # register up to date, but this working copy never registered the model (no receipt).
    (project / "work" / "registration.json").unlink()

    fourth = training_pipeline(root=str(project))

    assert [name for name, ran in _ran(fourth).items() if ran] == ["register"]
    assert "never registered here" in fourth["stages"][-1]["changes"][0]
    assert fourth["registration"]["version"] == 3 and (project / "work" / "registration.json").is_file()
    assert dvc_status(project) == {}


def test_the_flow_refuses_a_params_file_the_dvc_stages_would_not_read(prefect_harness, tmp_path: Path) -> None:
    from flows.training import training_pipeline
    from seedvr.errors import SeedVRError

    other = tmp_path / "other.yaml"
    write_params(other, TINY_PARAMS)
    with pytest.raises(SeedVRError, match="DVC stages read"):
        training_pipeline(params=str(other), root=str(tmp_path))
