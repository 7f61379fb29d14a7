"""Where runs go and what every run records."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlflow
from seedvr.config import Params
from seedvr.modelstore import location
from seedvr.modelstore.location import artifact_root_for, configure_tracking, default_tracking_uri, sqlite_database_path
from seedvr.registry.tracking import DATA_VERSION_TAG, GIT_COMMIT_TAG, flatten_params, run_url, start_run

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_default_store_is_sqlite_under_root_with_artifacts_beside(tmp_path, monkeypatch, mlflow_store):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(location, "_default_we_exported", None)
    try:
        uri = configure_tracking(tmp_path)
        assert uri == f"sqlite:///{tmp_path.resolve()}/mlflow/mlflow.db"
        assert sqlite_database_path(uri) == tmp_path.resolve() / "mlflow" / "mlflow.db"
        assert (tmp_path / "mlflow" / "artifacts").is_dir()
        assert mlflow.get_registry_uri() == uri
        # MLflow exports the URI it was given; that must not pass for a user override later.
        other = tmp_path / "other"
        assert configure_tracking(other) == default_tracking_uri(other)
    finally:
        configure_tracking(uri=mlflow_store)


def test_environment_overrides_the_default(tmp_path, monkeypatch, mlflow_store):
    chosen = f"sqlite:///{tmp_path}/elsewhere/store.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", chosen)
    try:
        assert configure_tracking(tmp_path / "ignored") == chosen
        assert artifact_root_for(chosen) == (tmp_path / "elsewhere" / "artifacts").resolve()
        assert not (tmp_path / "ignored").exists()
    finally:
        configure_tracking(uri=mlflow_store)


def test_servers_choose_their_own_artifact_location():
    assert artifact_root_for("http://127.0.0.1:5000") is None


def test_params_are_flattened_with_yaml_spelling():
    flat = flatten_params(Params())
    assert flat["validate.min_frames"] == "2"
    assert flat["register.model_name"] == "seedvr-repair"
    assert flat["train.max_minutes"] == "null"
    assert all(isinstance(value, str) for value in flat.values())


def test_run_logs_params_data_version_and_commit(mlflow_store):
    with start_run(Params(), experiment="tracking-test", run_name="t", data_version="d41d8cd9", git_commit="abc123") as run:
        mlflow.log_metric("loss", 0.5, step=1)
    stored = mlflow.MlflowClient().get_run(run.info.run_id)
    assert stored.data.params["train.lr"] == "0.0001"
    assert stored.data.params["data_version"] == "d41d8cd9"
    assert stored.data.tags[DATA_VERSION_TAG] == "d41d8cd9"
    assert stored.data.tags[GIT_COMMIT_TAG] == "abc123"
    assert stored.data.metrics["loss"] == 0.5
    experiment = mlflow.get_experiment(run.info.experiment_id)
    store_root = artifact_root_for(mlflow_store)
    assert experiment.artifact_location.startswith(store_root.as_uri())
    assert run_url(run) == f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
    assert run_url(run.info.run_id, "http://mlflow:8080/") == run_url(run).replace("http://127.0.0.1:5000", "http://mlflow:8080")


def test_unknown_versions_are_tagged_unknown(mlflow_store, tmp_path):
    # tmp_path is neither a git checkout nor a DVC project.
    with start_run(Params(), experiment="tracking-test", repo_root=tmp_path) as run:
        pass
    tags = mlflow.MlflowClient().get_run(run.info.run_id).data.tags
    assert tags[DATA_VERSION_TAG] == "unknown"
    assert tags[GIT_COMMIT_TAG] == "unknown"


def test_store_is_not_the_repository_one(mlflow_store):
    database = sqlite_database_path(mlflow_store)
    assert REPO_ROOT not in database.resolve().parents


@pytest.mark.parametrize("uri", ["sqlite:////abs/x.db", "sqlite:///rel/x.db"])
def test_sqlite_paths_are_parsed(uri):
    path = sqlite_database_path(uri)
    assert path.name == "x.db" and path.is_absolute() == uri.startswith("sqlite:////")
