"""Log a saved pipeline as an MLflow model, register it, list the registered versions.

- :func:`log_pipeline_model` — inside an active run: the pipeline folder becomes the
  ``pipeline`` artifact of a pyfunc model whose code is :mod:`seedvr.registry.pyfunc_model`;
- :func:`register_model` — a new version of the registered model, alias ``challenger``;
- :func:`list_versions` — every version with its aliases and promotion outcome.

Reading a registered version back (URIs, download, cache) is :mod:`seedvr.modelstore.registered`.

The model's pip requirements are pinned from the installed versions of what the model code
imports; ``seedvr`` itself is not among them (not on PyPI): it must be installed where the
model is loaded, which is why no ``code_paths`` are shipped either.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo

import mlflow
from mlflow import MlflowClient
from seedvr.errors import SeedVRError
from seedvr.models.detector import DamageDetector
from seedvr.modelstore.folder import require_pipeline_folder
from seedvr.modelstore.registered import CHALLENGER, DEFAULT_MODEL_NAME, DETECTOR_ARTIFACT, PIPELINE_ARTIFACT, first_line
from seedvr.pipeline.verify import verify_model_folder
from seedvr.registry.signature import repair_signature

MODEL_ARTIFACT = "model"
PYFUNC_MODEL_FILE = Path(__file__).with_name("pyfunc_model.py")

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
    detector_dir: str | Path | None = None,
) -> ModelInfo:
    """Log the saved pipeline in ``pipeline_dir`` as a pyfunc model of the active run; with
    ``detector_dir`` (a saved damage detector) as its ``detector`` artifact beside the
    pipeline, so the registered version carries the detector blind repair uses with it."""
    pipeline_dir = require_pipeline_folder(pipeline_dir)
    artifacts = {PIPELINE_ARTIFACT: str(pipeline_dir.resolve())}
    if detector_dir is not None:
        artifacts[DETECTOR_ARTIFACT] = str(verify_model_folder(detector_dir, DamageDetector, "the detector").resolve())
    if mlflow.active_run() is None:
        raise SeedVRError("log_pipeline_model needs an active MLflow run (use seedvr.registry.tracking.start_run)")
    with warnings.catch_warnings():
        # MLflow asks for an input example; ours would be file paths that do not exist
        # where the model is validated, so the explicit signature documents the input instead.
        warnings.filterwarnings("ignore", message=".*input example was not provided.*", category=UserWarning)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(PYFUNC_MODEL_FILE),
            artifacts=artifacts,
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
        raise SeedVRError(f"cannot register run {run_id} as {model_name}: {first_line(error)}") from None
    finally:
        registry_logger.setLevel(level)
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version.version)
    return int(version.version)


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
