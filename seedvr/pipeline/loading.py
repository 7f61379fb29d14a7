"""The one way to load a pipeline: from a saved folder or a registered model URI.

``seedvr repair --model``, training's ``--init``, evaluation, batch repair and the served
registry model all accept the same two kinds of model, and all come here: a folder written
by ``save_pretrained``, or ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION``, downloaded once
per version by :mod:`seedvr.modelstore.registered`. Either way the folder is checked to be
exactly a SeedVR pipeline before anything in it is used (:mod:`seedvr.pipeline.verify`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from seedvr.modelstore import registered
from seedvr.modelstore.folder import require_pipeline_folder

if TYPE_CHECKING:
    import torch

    from seedvr.pipeline.pipeline import SeedVRPipeline


def local_pipeline_folder(model: str | Path, label: str | None = None) -> Path:
    """The local pipeline folder of ``model``: itself when it is a saved pipeline folder, else
    the downloaded registered version a ``models:/`` URI points at.

    ``label`` names the model in errors the way the user gave it (``--model work/model``).

    Raises:
        SeedVRError: not a pipeline folder, or an unknown registered model, alias or version.
    """
    if registered.is_registry_uri(model):
        return registered.download_registered_pipeline(str(model))
    return require_pipeline_folder(model, label or str(model))


def load_pipeline(
    model: str | Path,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    label: str | None = None,
) -> SeedVRPipeline:
    """``SeedVRPipeline`` of ``model`` (see :func:`local_pipeline_folder`), on ``device``.

    ``dtype`` ``None`` keeps the saved precision. Safetensors only: a pickle is never loaded.

    Raises:
        SeedVRError: a bad path or URI.
        ModelLoadError: a folder that is not exactly a SeedVR pipeline (foreign classes,
            configs that do not match their weights) or cannot be read.
    """
    # Imported here: diffusers takes seconds to import and the classical methods never load a model.
    import torch

    from seedvr.pipeline.pipeline import SeedVRPipeline

    label = label or str(model)
    folder = local_pipeline_folder(model, label)
    # low_cpu_mem_usage=False: the accelerate package is not a dependency, say so up front.
    pipeline = SeedVRPipeline.from_pretrained(folder, label=label, low_cpu_mem_usage=False)
    # The precision is set after loading, not by from_pretrained's keyword: diffusers renamed it
    # (torch_dtype -> dtype) and warns about the old name on every load, while the range of
    # diffusers versions we support does not all know the new one. Each network is cast with
    # torch's own Module.to: diffusers' override logs that modules "should be kept in float32"
    # on every cast, even for models that name none (ours).
    if dtype is not None:
        for component in pipeline.components.values():
            if isinstance(component, torch.nn.Module):
                torch.nn.Module.to(component, dtype=dtype)
    return pipeline if device is None else pipeline.to(device=device)
