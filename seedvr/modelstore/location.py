"""Which MLflow store runs and registered models go to.

Default store: ``sqlite:///<root>/mlflow/mlflow.db`` with artifacts under
``<root>/mlflow/artifacts`` (MLflow 3 no longer accepts a ``./mlruns`` file store). The
``MLFLOW_TRACKING_URI`` environment variable overrides it (a shared server, another database);
the model registry always uses the same URI as tracking.

Writers (training runs, registration) create the store they use: :func:`configure_tracking`.
Lookups (``models:/...``, the current champion) only read a store that exists: with neither
``MLFLOW_TRACKING_URI`` nor the project's store in the current folder there is no registered
model to find, and letting MLflow fall back to its own default would create ``./mlruns`` or
``./mlflow.db`` in whatever folder the user runs from.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from seedvr.errors import SeedVRError

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"

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
    import mlflow

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


def lookup_store_uri() -> str | None:
    """The store lookups read; ``None`` when there is none to read.

    ``MLFLOW_TRACKING_URI`` (the user's, or what :func:`configure_tracking` chose earlier in
    this process), else the project's default store under the current folder. A SQLite store
    whose database file does not exist counts as none: opening it would create it.
    """
    uri = os.environ.get(TRACKING_URI_ENV) or default_tracking_uri(Path.cwd())
    database = sqlite_database_path(uri)
    return None if database is not None and not database.is_file() else uri


def ensure_tracking_configured() -> str | None:
    """Point MLflow at the store lookups read (:func:`lookup_store_uri`) and return its URI;
    ``None``, changing and creating nothing, when there is none.

    Lets library entry points (``seedvr repair --model models:/...``) find the project's store
    from the project root instead of MLflow's own default.
    """
    uri = lookup_store_uri()
    if uri is None or os.environ.get(TRACKING_URI_ENV):
        return uri  # nothing to read, or MLflow already reads the variable
    return configure_tracking()


def require_tracking_store(what: str) -> str:
    """:func:`ensure_tracking_configured`, for a lookup that cannot do without a store.

    Raises:
        SeedVRError: no store to read, naming ``what`` needed one and where it looked.
    """
    uri = ensure_tracking_configured()
    if uri is not None:
        return uri
    chosen = os.environ.get(TRACKING_URI_ENV)
    if chosen:
        raise SeedVRError(f"{what}: no model registry to look in: {TRACKING_URI_ENV} points at {chosen}, which does not exist")
    project_store = sqlite_database_path(default_tracking_uri(Path.cwd()))
    raise SeedVRError(
        f"{what}: no model registry to look in: {TRACKING_URI_ENV} is not set and there is no project store here "
        f"({project_store}); run from the project folder or set {TRACKING_URI_ENV}"
    )
