"""Which MLflow store runs and registered models go to.

Default store: ``sqlite:///<root>/mlflow/mlflow.db`` with artifacts under
``<root>/mlflow/artifacts`` (MLflow 3 no longer accepts a ``./mlruns`` file store). The
``MLFLOW_TRACKING_URI`` environment variable overrides it (a shared server, another database);
the model registry always uses the same URI as tracking.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

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


def ensure_tracking_configured() -> str:
    """The current tracking URI, configuring the project default first when nothing chose one.

    Lets library entry points (``seedvr repair --model models:/...``) find the project's store
    from the project root instead of MLflow's own default.
    """
    import mlflow

    if not os.environ.get(TRACKING_URI_ENV):
        return configure_tracking()
    return mlflow.get_tracking_uri()
