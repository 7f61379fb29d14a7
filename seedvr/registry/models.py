"""Log a saved pipeline as an MLflow model, register it, and get it back by alias.

- :func:`log_pipeline_model` — inside an active run: the pipeline folder becomes the
  ``pipeline`` artifact of a pyfunc model whose code is :mod:`seedvr.registry.pyfunc_model`;
- :func:`register_model` — a new version of the registered model, alias ``challenger``;
- :func:`download_registered_pipeline` — ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``
  to a local pipeline folder that ``SeedVRPipeline.from_pretrained`` loads (cached per version).

The model's pip requirements are pinned from the installed versions of what the model code
imports; ``seedvr`` itself is not among them (not on PyPI): it must be installed where the
model is loaded, which is why no ``code_paths`` are shipped either.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.models.model import ModelInfo

from seedvr.errors import SeedVRError
from seedvr.registry.signature import repair_signature
from seedvr.registry.tracking import ensure_tracking_configured

DEFAULT_MODEL_NAME = "seedvr-repair"
MODEL_ARTIFACT = "model"
PIPELINE_ARTIFACT = "pipeline"
CHALLENGER = "challenger"
CHAMPION = "champion"
PYFUNC_MODEL_FILE = Path(__file__).with_name("pyfunc_model.py")
CACHE_ENV = "SEEDVR_MODEL_CACHE"

# Distributions the model code imports at load and predict time (seedvr's own dependencies).
_REQUIRED_DISTRIBUTIONS = (
    "mlflow",
    "torch",
    "diffusers",
    "safetensors",
    "numpy",
    "pandas",
    "opencv-python-headless",
    "av",
    "pydantic",
    "pyyaml",
)

_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_\-]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


def default_pip_requirements() -> list[str]:
    """``name==version`` for every required distribution that is installed.

    Explicit requirements also spare MLflow its slow requirement inference (which imports
    the model in a subprocess). Local version labels (``+cpu``) are dropped: they only
    resolve on the index they came from.
    """
    requirements = []
    for distribution in _REQUIRED_DISTRIBUTIONS:
        try:
            version = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
        requirements.append(f"{distribution}=={version.split('+')[0]}")
    return requirements


def log_pipeline_model(
    pipeline_dir: str | Path,
    name: str = MODEL_ARTIFACT,
    pip_requirements: list[str] | None = None,
) -> ModelInfo:
    """Log the saved pipeline in ``pipeline_dir`` as a pyfunc model of the active run."""
    pipeline_dir = Path(pipeline_dir)
    if not (pipeline_dir / "model_index.json").is_file():
        raise SeedVRError(f"{pipeline_dir} is not a saved SeedVR pipeline folder (no model_index.json)")
    if mlflow.active_run() is None:
        raise SeedVRError("log_pipeline_model needs an active MLflow run (use seedvr.registry.tracking.start_run)")
    with warnings.catch_warnings():
        # MLflow asks for an input example; ours would be file paths that do not exist
        # where the model is validated, so the explicit signature documents the input instead.
        warnings.filterwarnings("ignore", message=".*input example was not provided.*", category=UserWarning)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(PYFUNC_MODEL_FILE),
            artifacts={PIPELINE_ARTIFACT: str(pipeline_dir.resolve())},
            signature=repair_signature(),
            pip_requirements=pip_requirements if pip_requirements is not None else default_pip_requirements(),
            metadata={"seedvr_pipeline_files": sorted(p.name for p in pipeline_dir.iterdir())},
        )


def register_model(
    run_id: str,
    model_name: str = DEFAULT_MODEL_NAME,
    artifact_name: str = MODEL_ARTIFACT,
    tags: dict[str, str] | None = None,
) -> int:
    """Register ``runs:/<run_id>/<artifact_name>`` as a new version of ``model_name``.

    The new version gets the ``challenger`` alias (moved from any older version); returns
    the version number.
    """
    # MLflow 3 keeps a run's model as a LoggedModel, not under the run's artifacts: it finds
    # it by name and run, then warns that it did. Expected here, so that warning is muted.
    registry_logger = logging.getLogger("mlflow.tracking._model_registry.fluent")
    level = registry_logger.level
    registry_logger.setLevel(logging.ERROR)
    try:
        version = mlflow.register_model(f"runs:/{run_id}/{artifact_name}", model_name, tags=tags)
    except MlflowException as error:
        raise SeedVRError(f"cannot register run {run_id} as {model_name}: {_first_line(error)}") from None
    finally:
        registry_logger.setLevel(level)
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version.version)
    return int(version.version)


def parse_model_uri(uri: str) -> tuple[str, str | None, int | None]:
    """``(name, alias, version)`` of ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``."""
    if match := _ALIAS_URI.match(uri):
        return match["name"], match["alias"], None
    if match := _VERSION_URI.match(uri):
        return match["name"], None, int(match["version"])
    raise SeedVRError(f"{uri!r} is not a registered model URI; use models:/NAME@ALIAS or models:/NAME/VERSION")


def resolve_model_version(uri: str) -> ModelVersion:
    """The registered version ``uri`` points at; an unknown model, alias or version is a
    :class:`SeedVRError` naming what exists."""
    name, alias, version = parse_model_uri(uri)
    ensure_tracking_configured()
    client = MlflowClient()
    try:
        registered = client.get_registered_model(name)
    except MlflowException:
        raise SeedVRError(f"{uri}: no registered model named {name!r} in {mlflow.get_registry_uri()}") from None
    try:
        if alias is not None:
            return client.get_model_version_by_alias(name, alias)
        return client.get_model_version(name, str(version))
    except MlflowException:
        if alias is not None:
            known = ", ".join(sorted(registered.aliases)) or "none"
            raise SeedVRError(f"{uri}: model {name!r} has no alias {alias!r} (aliases: {known})") from None
        raise SeedVRError(f"{uri}: model {name!r} has no version {version}") from None


def pipeline_folder(model_dir: str | Path) -> Path:
    """The pipeline folder inside a downloaded pyfunc model (its path is recorded in MLmodel)."""
    model_dir = Path(model_dir)
    try:
        flavor = Model.load(str(model_dir)).flavors["python_function"]
        relative = flavor["artifacts"][PIPELINE_ARTIFACT]["path"]
    except (OSError, MlflowException, KeyError, TypeError):
        raise SeedVRError(f"{model_dir} is not a SeedVR registered model (no '{PIPELINE_ARTIFACT}' artifact)") from None
    folder = model_dir / relative
    if not (folder / "model_index.json").is_file():
        raise SeedVRError(f"{folder}: the registered model's pipeline folder is incomplete (no model_index.json)")
    return folder


def model_cache_root() -> Path:
    """``$SEEDVR_MODEL_CACHE``, else ``<temp>/seedvr-model-cache``."""
    return Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "seedvr-model-cache")


def _cache_key(version: ModelVersion) -> str:
    # Version numbers repeat across stores (every fresh store has a version 1): the key also
    # hashes the source, which carries the unique logged-model / run id.
    identity = f"{version.name}|{version.version}|{version.source}|{version.run_id}|{version.model_id}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", version.name)
    return f"{safe_name}-v{version.version}-{digest}"


def download_registered_pipeline(uri: str, cache_root: str | Path | None = None) -> Path:
    """A local pipeline folder for ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``.

    Each version is downloaded once into the cache (atomically: a half-finished download is
    never mistaken for a model) and reused afterwards; an alias is resolved on every call so
    it follows promotions.
    """
    version = resolve_model_version(uri)
    root = Path(cache_root) if cache_root is not None else model_cache_root()
    target = root / _cache_key(version)
    if not target.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        partial = root / f".partial-{uuid.uuid4().hex}"
        try:
            mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{version.name}/{version.version}", dst_path=str(partial))
            pipeline_folder(partial)  # refuse to cache something that is not a SeedVR model
            try:
                partial.rename(target)
            except OSError:
                if not target.is_dir():  # not a concurrent download of the same version
                    raise
        except MlflowException as error:
            raise SeedVRError(f"{uri}: cannot download version {version.version}: {_first_line(error)}") from None
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return pipeline_folder(target)


@dataclass(frozen=True)
class VersionSummary:
    """One line of ``seedvr registry show``."""

    version: int
    aliases: tuple[str, ...]
    run_id: str | None
    created: int  # epoch milliseconds
    decision: str | None
    psnr_mask: str | None


def list_versions(model_name: str = DEFAULT_MODEL_NAME) -> list[VersionSummary]:
    """Every version of ``model_name``, newest first, with aliases and promotion outcome."""
    client = MlflowClient()
    try:
        registered = client.get_registered_model(model_name)
    except MlflowException:
        raise SeedVRError(f"no registered model named {model_name!r} in {mlflow.get_registry_uri()}") from None
    # search_model_versions leaves aliases empty on some stores: the model's alias map is reliable.
    aliases_of: dict[str, list[str]] = {}
    for alias, version in (registered.aliases or {}).items():
        aliases_of.setdefault(str(version), []).append(alias)
    versions = client.search_model_versions(f"name = '{model_name}'")
    summaries = [
        VersionSummary(
            version=int(v.version),
            aliases=tuple(sorted(aliases_of.get(str(v.version), ()))),
            run_id=v.run_id,
            created=int(v.creation_timestamp),
            decision=(v.tags or {}).get("promotion.decision"),
            psnr_mask=(v.tags or {}).get("eval.psnr_mask"),
        )
        for v in versions
    ]
    return sorted(summaries, key=lambda summary: summary.version, reverse=True)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
