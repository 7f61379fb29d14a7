"""Where MLflow runs go, and a run that always records how to reproduce it.

Default store: ``sqlite:///<root>/mlflow/mlflow.db`` with artifacts under
``<root>/mlflow/artifacts`` (MLflow 3 no longer accepts a ``./mlruns`` file store). The
``MLFLOW_TRACKING_URI`` environment variable overrides it (a shared server, another database);
the model registry always uses the same URI as tracking.

Every run opened with :func:`start_run` logs the flattened ``params.yaml``, the data version
(the md5 ``data.dvc`` pins) and the git commit, so any metric in the UI leads back to the exact
code, data and settings that produced it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
from mlflow.entities import Run

from seedvr.config import Params
from seedvr.errors import SeedVRError

DEFAULT_EXPERIMENT = "seedvr-repair"
DEFAULT_UI_URL = "http://127.0.0.1:5000"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
DATA_VERSION_TAG = "seedvr.data_version"
GIT_COMMIT_TAG = "mlflow.source.git.commit"  # the tag MLflow's UI shows as the run's commit
GIT_DIRTY_TAG = "seedvr.git_dirty"

# mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI (for subprocesses). Remembering the
# default we exported ourselves keeps it from later passing for a user's override.
_default_we_exported: str | None = None


def default_tracking_uri(root: str | Path) -> str:
    """``sqlite:///<root>/mlflow/mlflow.db`` (absolute, so a later ``cd`` cannot move it)."""
    return f"sqlite:///{(Path(root).resolve() / 'mlflow' / 'mlflow.db').as_posix()}"


def sqlite_database_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, ``None`` for any other kind of store."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    # sqlite:////abs/path -> path "//abs/path"; sqlite:///rel -> path "/rel" (relative to cwd).
    path = unquote(parsed.path)
    return Path(path[1:]) if path.startswith("/") else Path(path)


def artifact_root_for(uri: str) -> Path | None:
    """Where artifacts of a local SQLite store live: ``artifacts/`` beside the database.

    ``None`` for servers and other stores, which choose their own artifact location.
    """
    database = sqlite_database_path(uri)
    return None if database is None else database.resolve().parent / "artifacts"


def configure_tracking(root: str | Path | None = None, uri: str | None = None) -> str:
    """Point MLflow tracking and the model registry at one store and return its URI.

    Precedence: ``uri`` argument, then ``MLFLOW_TRACKING_URI``, then the default SQLite store
    under ``root`` (default: the current folder). Local folders are created as needed.
    """
    global _default_we_exported
    from_env = os.environ.get(TRACKING_URI_ENV)
    if uri is None and from_env and from_env != _default_we_exported:
        uri = from_env
    if uri is None:
        uri = default_tracking_uri(Path.cwd() if root is None else root)
        _default_we_exported = uri
    database = sqlite_database_path(uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        artifact_root_for(uri).mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_tracking_configured() -> str:
    """The current tracking URI, configuring the project default first when nothing chose one.

    Lets library entry points (``seedvr repair --model models:/...``) find the project's store
    from the project root instead of MLflow's own default.
    """
    if not os.environ.get(TRACKING_URI_ENV):
        return configure_tracking()
    return mlflow.get_tracking_uri()


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
