"""Registered models by URI: ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION``.

The read side of the model registry, for everything that loads a model: which version a URI
points at, the version's pipeline folder (downloaded once per version into the user's cache,
:mod:`seedvr.modelstore.cache`, and checked against its manifest on every use), and which
version holds an alias. Writing (logging, registering, promoting) is :mod:`seedvr.registry`'s
job. Lookups never create a tracking store (see :mod:`seedvr.modelstore.location`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from seedvr.errors import SeedVRError
from seedvr.modelstore.cache import matches_manifest, model_cache_root, write_manifest
from seedvr.modelstore.folder import MODEL_INDEX, ModelLoadError, is_pipeline_folder
from seedvr.modelstore.location import ensure_tracking_configured, require_tracking_store

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

DEFAULT_MODEL_NAME = "seedvr-repair"
PIPELINE_ARTIFACT = "pipeline"  # the pyfunc model's artifact holding the save_pretrained folder
DETECTOR_ARTIFACT = "detector"  # its damage detector (train_detector stage), when the version carries one
CHALLENGER = "challenger"
CHAMPION = "champion"
URI_PREFIX = "models:/"

_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_\-]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")

LOGGER = logging.getLogger(__name__)


def is_registry_uri(model: str | Path) -> bool:
    """Whether ``model`` names a registered model rather than a local folder."""
    return str(model).startswith(URI_PREFIX)


def parse_model_uri(uri: str) -> tuple[str, str | None, int | None]:
    """``(name, alias, version)`` of ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``."""
    if match := _ALIAS_URI.match(uri):
        return match["name"], match["alias"], None
    if match := _VERSION_URI.match(uri):
        return match["name"], None, int(match["version"])
    raise SeedVRError(f"{uri!r} is not a registered model URI; use models:/NAME@ALIAS or models:/NAME/VERSION")


def version_uri(version: ModelVersion) -> str:
    """``models:/NAME/VERSION`` of a resolved version: a URI that never changes meaning."""
    return f"{URI_PREFIX}{version.name}/{version.version}"


def resolve_model_version(uri: str) -> ModelVersion:
    """The registered version ``uri`` points at; an unknown model, alias or version is a
    :class:`SeedVRError` naming what exists."""
    from mlflow.exceptions import MlflowException

    import mlflow
    from mlflow import MlflowClient

    name, alias, version = parse_model_uri(uri)
    require_tracking_store(uri)
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


def current_champion(model_name: str) -> int | None:
    """The version holding ``champion``; ``None`` if the model, the alias or the store itself
    does not exist."""
    from mlflow.exceptions import MlflowException

    from mlflow import MlflowClient

    if ensure_tracking_configured() is None:
        return None
    client = MlflowClient()
    try:
        return int(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def pipeline_folder(model_dir: str | Path) -> Path:
    """The pipeline folder inside a downloaded pyfunc model (its path is recorded in MLmodel)."""
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    model_dir = Path(model_dir)
    try:
        flavor = Model.load(str(model_dir)).flavors["python_function"]
        relative = flavor["artifacts"][PIPELINE_ARTIFACT]["path"]
    except (OSError, MlflowException, KeyError, TypeError):
        raise ModelLoadError(f"{model_dir} is not a SeedVR registered model (no '{PIPELINE_ARTIFACT}' artifact)") from None
    folder = model_dir / relative
    if not is_pipeline_folder(folder):
        raise ModelLoadError(f"{folder}: the registered model's pipeline folder is incomplete (no {MODEL_INDEX})")
    return folder


def detector_folder(model_dir: str | Path) -> Path | None:
    """The damage detector folder inside a downloaded pyfunc model, ``None`` when the version
    carries none (registered before blind mode, or without a detector: callers fall back to
    the shipped detector)."""
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    try:
        artifacts = Model.load(str(model_dir)).flavors["python_function"].get("artifacts", {})
    except (OSError, MlflowException, KeyError, TypeError):
        raise ModelLoadError(f"{model_dir} is not a SeedVR registered model") from None
    entry = artifacts.get(DETECTOR_ARTIFACT)
    return None if entry is None else Path(model_dir) / entry["path"]


def _cache_key(version: ModelVersion) -> str:
    # Version numbers repeat across stores (every fresh store has a version 1): the key also
    # hashes the source, which carries the unique logged-model / run id.
    identity = f"{version.name}|{version.version}|{version.source}|{version.run_id}|{version.model_id}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", version.name)
    return f"{safe_name}-v{version.version}-{digest}"


def download_registered_pipeline(uri: str, cache_root: str | Path | None = None) -> Path:
    """A local pipeline folder for ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``
    (:func:`download_registered_model`, then its ``pipeline`` artifact)."""
    return pipeline_folder(download_registered_model(uri, cache_root))


def registered_detector(uri: str, cache_root: str | Path | None = None) -> Path | None:
    """The damage detector folder a registered version carries, ``None`` when it has none."""
    return detector_folder(download_registered_model(uri, cache_root))


def download_registered_model(uri: str, cache_root: str | Path | None = None) -> Path:
    """The local copy of the whole registered model (MLmodel and artifacts) for ``models:/NAME@ALIAS``
    or ``models:/NAME/VERSION``.

    Each version is downloaded once into the cache (``cache_root``, default
    :func:`~seedvr.modelstore.cache.model_cache_root`) and reused while it matches the
    manifest written when its download completed; a copy that no longer does is discarded
    and downloaded again. An alias is resolved on every call so it follows promotions.

    Raises:
        SeedVRError: an unknown model, alias or version, or no registry to look in.
        ModelLoadError: the version cannot be downloaded, or is not a SeedVR model.
    """
    version = resolve_model_version(uri)
    root = Path(cache_root) if cache_root is not None else model_cache_root()
    target = root / _cache_key(version)
    if not matches_manifest(target):
        if target.exists():
            LOGGER.warning("%s: the cached copy in %s does not match its manifest; downloading it again", uri, target)
            _discard(target)
        _download(uri, version, target)
        if not matches_manifest(target):  # only if someone alters it while we download
            raise ModelLoadError(f"{uri}: the cached copy in {target} changed while it was downloaded; run again")
    return target


def _download(uri: str, version: ModelVersion, target: Path) -> None:
    """Download ``version`` to ``target`` atomically: files and manifest appear together or not
    at all, so a half-finished download is never mistaken for a model."""
    from mlflow.exceptions import MlflowException

    import mlflow

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".partial-{uuid.uuid4().hex}"
    try:
        mlflow.artifacts.download_artifacts(artifact_uri=version_uri(version), dst_path=str(partial))
        pipeline_folder(partial)  # refuse to cache something that is not a SeedVR model
        write_manifest(partial)
        try:
            partial.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent download of the same version
                raise
    except MlflowException as error:
        raise ModelLoadError(f"{uri}: cannot download version {version.version}: {first_line(error)}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _discard(folder: Path) -> None:
    """Remove a cached copy (whatever now stands there: a folder, a file, a link); renamed
    first so nobody reads it half deleted."""
    doomed = folder.parent / f".discard-{uuid.uuid4().hex}"
    try:
        folder.rename(doomed)
    except FileNotFoundError:  # another process discarded it first
        return
    if doomed.is_dir() and not doomed.is_symlink():
        shutil.rmtree(doomed, ignore_errors=True)
    else:
        doomed.unlink(missing_ok=True)


def first_line(error: Exception) -> str:
    """The first line of an error's message (MLflow's and diffusers' run to many lines), else its type's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
