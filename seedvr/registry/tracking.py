"""MLflow runs that always record how to reproduce them.

Which store they go to (SQLite under the project by default, ``MLFLOW_TRACKING_URI`` else)
is :mod:`seedvr.modelstore.location`: loading a registered model needs it too.

Every run opened with :func:`start_run` logs the flattened ``params.yaml``, the data version
(the md5 ``data.dvc`` pins) and the git commit, so any metric in the UI leads back to the exact
code, data and settings that produced it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from mlflow.entities import Run

import mlflow
from seedvr.config import Params
from seedvr.errors import SeedVRError
from seedvr.modelstore.location import artifact_root_for

DEFAULT_EXPERIMENT = "seedvr-repair"
DEFAULT_UI_URL = "http://127.0.0.1:5000"
DATA_VERSION_TAG = "seedvr.data_version"
GIT_COMMIT_TAG = "mlflow.source.git.commit"  # the tag MLflow's UI shows as the run's commit
GIT_DIRTY_TAG = "seedvr.git_dirty"


def ensure_experiment(name: str = DEFAULT_EXPERIMENT) -> str:
    """The id of experiment ``name``, created (artifacts beside a local database) if absent."""
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            raise SeedVRError(f"MLflow experiment {name!r} is deleted; restore it in the UI or choose another name")
        return experiment.experiment_id
    artifact_root = artifact_root_for(mlflow.get_tracking_uri())
    location = None if artifact_root is None else (artifact_root / name).as_uri()
    return client.create_experiment(name, artifact_location=location)


def flatten_params(params: Params | Mapping) -> dict[str, str]:
    """``{"train.lr": "0.0001", ...}``: nested sections joined with dots, values as strings.

    Uses the ``params.yaml`` spelling (aliases such as ``validate``), so a logged key names
    the line to edit.
    """
    nested = params.model_dump(mode="json", by_alias=True) if isinstance(params, Params) else dict(params)
    flat: dict[str, str] = {}

    def visit(prefix: str, value) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                visit(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            flat[prefix] = "null" if value is None else str(value)

    visit("", nested)
    return flat


def detect_versions(repo_root: str | Path = ".") -> tuple[str | None, str | None]:
    """``(data_version, git_commit)`` of ``repo_root``; ``None`` for what cannot be known
    (no ``data.dvc`` yet, no git): a run outside a full checkout is still worth logging."""
    from seedvr.versioning import data_version, git_commit

    try:
        data = data_version(repo_root)
    except SeedVRError:
        data = None
    return data, git_commit(repo_root)


@contextmanager
def start_run(
    params: Params,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    data_version: str | None = None,
    git_commit: str | None = None,
    repo_root: str | Path = ".",
    nested: bool = False,
) -> Iterator[Run]:
    """Open an MLflow run in ``experiment`` that logs params, data version and git commit.

    ``data_version`` / ``git_commit`` left as ``None`` are read from ``repo_root`` with
    :mod:`seedvr.versioning`; what cannot be found is tagged ``unknown``. Call
    :func:`configure_tracking` first (otherwise MLflow's own default store is used).
    """
    if data_version is None or git_commit is None:
        found_data, found_commit = detect_versions(repo_root)
        data_version = data_version or found_data
        git_commit = git_commit or found_commit
    run_tags = {
        DATA_VERSION_TAG: data_version or "unknown",
        GIT_COMMIT_TAG: git_commit or "unknown",
    }
    if git_commit is not None:
        from seedvr.versioning import git_is_dirty

        dirty = git_is_dirty(repo_root)
        if dirty is not None:
            # A dirty tree means the commit alone does not reproduce the run.
            run_tags[GIT_DIRTY_TAG] = str(dirty).lower()
    run_tags.update(dict(tags or {}))
    experiment_id = ensure_experiment(experiment)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=run_tags, nested=nested) as run:
        mlflow.log_params(flatten_params(params))
        mlflow.log_param("data_version", data_version or "unknown")
        yield run


def run_url(run: Run | str, base_url: str = DEFAULT_UI_URL) -> str:
    """The MLflow UI page of ``run`` (a :class:`Run` or a run id), e.g. for log lines."""
    if isinstance(run, str):
        run = mlflow.MlflowClient().get_run(run)
    return f"{base_url.rstrip('/')}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
