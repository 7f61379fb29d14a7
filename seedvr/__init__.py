"""SeedVR Repair: diffusion-based repair of damaged video regions.

Heavy submodules (torch, diffusers) load lazily, so ``import seedvr`` and the command line's
``--help`` stay fast. The model classes are exported here because diffusers finds a saved
pipeline's components by ``getattr(importlib.import_module("seedvr"), class_name)``.
"""

from __future__ import annotations

import os

from seedvr._lazy import lazy_getattr

# PyTorch's OpenMP threads spin while waiting for work. On a CPU shared with anything else
# (a Prefect flow's other tasks, a DVC stage, a data loader) the spinning threads starve the
# ones doing work: a tiny-model training step measured 14.7 s with spinning and 0.41 s
# without, on 2 cores. Set before torch loads; an explicit user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_LAZY_EXPORTS = {
    "SeedVRPipeline": "seedvr.pipeline.pipeline",
    "SeedVRPipelineOutput": "seedvr.pipeline.pipeline",
    "HierarchicalRepairScheduler": "seedvr.pipeline.scheduler",
    "SeedVRDenoiser": "seedvr.models.denoiser",
    "TemporalConsistencyEncoder": "seedvr.models.temporal_encoder",
    "DetailRestorationNetwork": "seedvr.models.detail",
    "TexturePreservationNetwork": "seedvr.models.detail",
    "PatchDiscriminator3D": "seedvr.models.discriminator",
    "SeedVRError": "seedvr.errors",
    "repair_video": "seedvr.engine.repair",
    # diffusers matches a component's base class by name inside its library when loading.
    "ModelMixin": "diffusers",
    "SchedulerMixin": "diffusers",
    "ConfigMixin": "diffusers",
}

__all__ = sorted(_LAZY_EXPORTS)


__getattr__ = lazy_getattr("seedvr", _LAZY_EXPORTS, globals())
