"""Size presets of the repair model, from ``tiny`` (CPU tests) to ``7b`` (SeedVR 7B width).

Every preset is the same family of four modules; only widths, depths and patch/window sizes
change. ``count_parameters`` builds a preset on the meta device, so even the 7B preset is
counted in a second without allocating its ~28 GB of float32 weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch
from diffusers.models.modeling_utils import ModelMixin

from seedvr.errors import SeedVRError
from seedvr.models.denoiser import SeedVRDenoiser
from seedvr.models.detail import DetailRestorationNetwork, TexturePreservationNetwork
from seedvr.models.temporal_encoder import TemporalConsistencyEncoder

COMPONENT_CLASSES: Mapping[str, type[ModelMixin]] = MappingProxyType(
    {
        "denoiser": SeedVRDenoiser,
        "temporal_encoder": TemporalConsistencyEncoder,
        "detail_net": DetailRestorationNetwork,
        "texture_net": TexturePreservationNetwork,
    }
)


@dataclass(frozen=True)
class ModelPreset:
    """Constructor keyword arguments of each component for one model size."""

    name: str
    description: str
    denoiser: Mapping[str, Any]
    temporal_encoder: Mapping[str, Any]
    detail_net: Mapping[str, Any]
    texture_net: Mapping[str, Any]

    def configs(self) -> dict[str, dict[str, Any]]:
        """A fresh, mutable copy of every component's kwargs, keyed like :data:`COMPONENT_CLASSES`."""
        return {component: dict(getattr(self, component)) for component in COMPONENT_CLASSES}


def _preset(name: str, description: str, **components: dict[str, Any]) -> ModelPreset:
    frozen = {key: MappingProxyType(value) for key, value in components.items()}
    return ModelPreset(name=name, description=description, **frozen)


PRESETS: Mapping[str, ModelPreset] = MappingProxyType(
    {
        "tiny": _preset(
            "tiny",
            "about 1M parameters: CPU tests and minute-long training runs",
            # 4x4 pixel patches keep a 64x64x8 clip at 2,048 tokens: a training step stays
            # around a second on two CPU cores; the detail net restores what patches blur.
            denoiser=dict(
                hidden_size=96, depth=4, num_heads=4, patch_size=(1, 4, 4), window_size=(2, 4, 4), temporal_feature_channels=32
            ),
            temporal_encoder=dict(
                base_channels=32, out_channels=32, num_res_blocks=1, num_attention_blocks=1, num_heads=4, spatial_downsample=1
            ),
            detail_net=dict(channels=16, num_blocks=1),
            texture_net=dict(channels=16, dilations=(1, 2, 4, 1)),
        ),
        "small": _preset(
            "small",
            "about 23M parameters: a single consumer GPU",
            denoiser=dict(
                hidden_size=384, depth=8, num_heads=6, patch_size=(1, 2, 2), window_size=(4, 8, 8), temporal_feature_channels=64
            ),
            temporal_encoder=dict(
                base_channels=64, out_channels=64, num_res_blocks=1, num_attention_blocks=1, num_heads=4, spatial_downsample=1
            ),
            detail_net=dict(channels=64, num_blocks=1),
            texture_net=dict(channels=64, dilations=(1, 2, 4, 1)),
        ),
        "base": _preset(
            "base",
            "about 180M parameters: one data-centre GPU",
            denoiser=dict(
                hidden_size=768,
                depth=16,
                num_heads=12,
                patch_size=(1, 4, 4),
                window_size=(4, 8, 8),
                temporal_feature_channels=128,
            ),
            temporal_encoder=dict(
                base_channels=128, out_channels=128, num_res_blocks=1, num_attention_blocks=1, num_heads=8, spatial_downsample=1
            ),
            detail_net=dict(channels=128, num_blocks=1),
            texture_net=dict(channels=128, dilations=(1, 2, 4, 1)),
        ),
        "7b": _preset(
            "7b",
            "about 6.9B parameters at the released SeedVR 7B width (3072 hidden, 24 heads): multi-GPU with FSDP",
            denoiser=dict(
                hidden_size=3072,
                depth=40,
                num_heads=24,
                patch_size=(1, 4, 4),
                window_size=(4, 8, 8),
                temporal_feature_channels=256,
            ),
            temporal_encoder=dict(
                base_channels=256, out_channels=256, num_res_blocks=1, num_attention_blocks=1, num_heads=8, spatial_downsample=1
            ),
            detail_net=dict(channels=256, num_blocks=1),
            texture_net=dict(channels=256, dilations=(1, 2, 4, 1)),
        ),
    }
)


def get_preset(name: str) -> ModelPreset:
    """The preset called ``name``; a :class:`SeedVRError` listing the known names otherwise."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise SeedVRError(f"unknown model preset {name!r}; choose one of: {', '.join(PRESETS)}.") from None


@contextlib.contextmanager
def _seeded(seed: int | None, device: torch.device):
    """Seed weight initialisation without disturbing the caller's global random state."""
    if seed is None:
        yield
        return
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield


def build_models(preset: str, device: str | torch.device = "cpu", seed: int | None = None) -> dict[str, ModelMixin]:
    """Build the four untrained components of ``preset`` directly on ``device``.

    ``device="meta"`` allocates no memory (shapes only: for counting and planning). ``seed``
    makes the initial weights reproducible. Keys: ``denoiser``, ``temporal_encoder``,
    ``detail_net``, ``texture_net``.
    """
    spec = get_preset(preset)
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        raise SeedVRError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'meta'.") from None
    configs = spec.configs()
    if configs["temporal_encoder"]["out_channels"] != configs["denoiser"]["temporal_feature_channels"]:
        raise SeedVRError(f"preset {preset!r} is inconsistent: encoder output and denoiser feature channels differ.")
    models: dict[str, ModelMixin] = {}
    with _seeded(seed, target), target:
        for component, model_class in COMPONENT_CLASSES.items():
            models[component] = model_class(**configs[component])
    return models


def count_parameters(preset: str) -> dict[str, int]:
    """Parameters per component plus ``"total"``, counted on the meta device (no weights allocated)."""
    models = build_models(preset, device="meta")
    counts = {component: sum(p.numel() for p in model.parameters()) for component, model in models.items()}
    counts["total"] = sum(counts.values())
    return counts
