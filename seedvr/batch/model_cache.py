"""The model of a batch run: its alias pinned once per run, downloaded and loaded once per process.

A worker repairs many videos with one model; asking the registry, downloading or loading
multi-gigabyte weights per video would dominate the run. The caches are per process (module
state behind locks) because a Dask or thread worker lives across many items and runs.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from seedvr.batch.hashing import model_identity
from seedvr.batch.settings import RepairSettings, absolute_path
from seedvr.engine.methods import RepairMethod, make_method
from seedvr.errors import SeedVRError
from seedvr.modelstore import registered
from seedvr.pipeline.loading import local_pipeline_folder

_folders_lock = threading.Lock()
_pinned_folders: dict[str, str] = {}
_method_lock = threading.Lock()
_loaded_method: tuple[tuple, RepairMethod] | None = None


class ModelUnavailable(SeedVRError):
    """The run's model cannot be loaded: the whole run fails, and no video takes the blame."""


def pin_model(settings: RepairSettings) -> RepairSettings:
    """Settings whose model means the same thing in every worker for the whole run.

    ``models:/seedvr-repair@champion`` moves with each promotion. Pinning it once per batch
    run (``models:/seedvr-repair/7``) gives every video of the run the same model, even if a
    promotion lands mid-run, and lets workers cache the download for good. A model folder
    becomes an absolute path: workers need not share the planner's current folder.
    """
    if not (settings.uses_model and settings.model):
        return settings
    if not registered.is_registry_uri(settings.model):
        return replace(settings, model=str(absolute_path(settings.model)))
    version = registered.resolve_model_version(settings.model)
    return replace(settings, model=registered.version_uri(version))


def model_folder(model: str) -> str:
    """A local pipeline folder for ``model`` (a folder is returned as it is).

    A version-pinned registry URI never changes meaning, so its folder is looked up once per
    process: a batch worker asks the registry on its first video only. Alias URIs are
    resolved on every call so they follow promotions.
    """
    if not registered.is_registry_uri(model):
        return model
    if registered.parse_model_uri(model)[2] is None:
        return str(local_pipeline_folder(model))
    with _folders_lock:
        if model not in _pinned_folders:
            _pinned_folders[model] = str(local_pipeline_folder(model))
        return _pinned_folders[model]


def loaded_method(settings: RepairSettings) -> RepairMethod | str:
    """What an item hands to ``repair_video``: the method name, or for the model's method a
    method around a pipeline loaded once per process.

    Only the latest model is kept, so a long-lived worker that sees a promotion frees the old
    one. Calls into the pipeline are serialised: its scheduler holds per-call state, and two
    videos on one GPU would only compete anyway.

    Raises:
        ModelUnavailable: the model cannot be resolved or loaded (whatever the cause: bad
            weights, the registry down, no room on the GPU). It is no video's fault.
    """
    if not settings.uses_model or not settings.model:
        return settings.method
    try:
        return _load_shared_method(settings)
    except SeedVRError as error:
        raise ModelUnavailable(str(error)) from error
    except Exception as error:
        reason = f"{type(error).__name__}: {registered.first_line(error)}"
        raise ModelUnavailable(f"cannot load the model {settings.model} ({reason})") from error


def _load_shared_method(settings: RepairSettings) -> RepairMethod:
    """The cached method for these settings, loading the model on first use."""
    global _loaded_method
    settings = pin_model(settings)
    identity = settings.model if registered.is_registry_uri(settings.model) else model_identity(settings.model)
    key = (identity, settings.device, settings.precision, settings.steps, settings.seed)
    # Held while loading: a second thread wants the same model and must not load it twice.
    with _method_lock:
        if _loaded_method is not None and _loaded_method[0] == key:
            return _loaded_method[1]
        _loaded_method = None
        method = make_method(
            settings.method,
            model=model_folder(settings.model),
            steps=settings.steps,
            device=settings.device,
            precision=settings.precision,
            seed=settings.seed,
        )
        one_at_a_time = threading.Lock()
        pipeline_repair = method.repair

        def serialized_repair(frames, masks):
            with one_at_a_time:
                return pipeline_repair(frames, masks)

        shared = RepairMethod(method.name, serialized_repair, {**method.details, "model_uri": settings.model})
        _loaded_method = (key, shared)
        return shared
