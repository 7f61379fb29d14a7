"""The hierarchical coarse -> medium -> fine repair schedule.

SeedVR repairs at several scales with one denoiser: a coarse pass at 1/4 resolution settles
structure and motion cheaply, a medium pass at 1/2 refines it, and a fine pass at full
resolution restores detail. Each pass starts from the previous pass's result (or, at the
coarse scale, from the flow-propagation guess or from pure noise) noised to a given
*strength* and then denoised, as in image-to-image diffusion.

This class holds that plan and the noise schedules. The numerics are diffusers' own:
DDPM for training (``add_noise`` at random timesteps) and DDIM or DPM-Solver++ for sampling,
all built from one beta schedule so training and sampling agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from seedvr.errors import SeedVRError

Sampler = Literal["ddim", "dpm-solver"]


@dataclass(frozen=True)
class RepairStage:
    """One pass of the schedule: the frame size it runs at and how much noise it starts from."""

    name: str
    scale: float
    height: int
    width: int
    strength: float


class HierarchicalRepairScheduler(SchedulerMixin, ConfigMixin):
    """Plans the coarse/medium/fine passes and owns the diffusion noise schedules.

    ``strengths`` are image-to-image strengths: 1.0 starts a pass from pure noise, 0.3 keeps
    70 % of the schedule's signal from the pass's starting guess. ``coarse_from_noise`` makes
    the first pass ignore the propagation guess and start from noise (strength 1.0).
    """

    config_name = "scheduler_config.json"

    @register_to_config
    def __init__(
        self,
        num_train_timesteps: int = 1000,
        beta_schedule: str = "squaredcos_cap_v2",
        sampler: Sampler = "ddim",
        num_inference_steps: int = 20,
        scales: tuple[float, ...] = (0.25, 0.5, 1.0),
        strengths: tuple[float, ...] = (0.3, 0.5, 0.3),
        stage_names: tuple[str, ...] = ("coarse", "medium", "fine"),
        coarse_from_noise: bool = False,
        min_side: int = 8,
    ):
        if len(scales) != len(strengths) or len(scales) != len(stage_names) or not scales:
            raise SeedVRError("scheduler scales, strengths and stage_names must have the same non-zero length")
        if any(not 0.0 < s <= 1.0 for s in scales) or list(scales) != sorted(scales):
            raise SeedVRError(f"scheduler scales must increase within (0, 1], got {list(scales)}")
        if any(not 0.0 <= s <= 1.0 for s in strengths):
            raise SeedVRError(f"scheduler strengths must lie in [0, 1], got {list(strengths)}")
        if sampler not in ("ddim", "dpm-solver"):
            raise SeedVRError(f"unknown sampler {sampler!r}; choose ddim or dpm-solver")
        if num_inference_steps < 1:
            raise SeedVRError("num_inference_steps must be at least 1")
        # The denoiser predicts x0 directly (the propagated guess plus a learned residual).
        common = dict(num_train_timesteps=num_train_timesteps, beta_schedule=beta_schedule, prediction_type="sample")
        self.train_scheduler = DDPMScheduler(**common, clip_sample=False)
        self._sampler_kwargs = common

    # -- planning ---------------------------------------------------------------------------

    def plan(self, height: int, width: int) -> list[RepairStage]:
        """The passes for a ``height`` x ``width`` video; scales too small to help are dropped."""
        stages = []
        for name, scale, strength in zip(self.config.stage_names, self.config.scales, self.config.strengths):
            stage_h = max(1, round(height * scale))
            stage_w = max(1, round(width * scale))
            if scale < 1.0 and min(stage_h, stage_w) < self.config.min_side:
                continue
            if name == self.config.stage_names[0] and self.config.coarse_from_noise:
                strength = 1.0
            stages.append(RepairStage(name, scale, stage_h, stage_w, strength))
        if not stages or stages[-1].scale != 1.0:
            stages.append(RepairStage("fine", 1.0, height, width, self.config.strengths[-1]))
        return stages

    # -- sampling ---------------------------------------------------------------------------

    def make_sampler(self, num_inference_steps: int | None = None) -> SchedulerMixin:
        """A fresh diffusers sampler (DDIM or DPM-Solver++) with its timesteps set."""
        steps = num_inference_steps or self.config.num_inference_steps
        if steps < 1:
            raise SeedVRError("the number of sampling steps must be at least 1")
        if self.config.sampler == "ddim":
            sampler = DDIMScheduler(**self._sampler_kwargs, clip_sample=False, set_alpha_to_one=False)
        else:
            sampler = DPMSolverMultistepScheduler(**self._sampler_kwargs, algorithm_type="dpmsolver++")
        sampler.set_timesteps(steps)
        return sampler

    @staticmethod
    def stage_timesteps(sampler: SchedulerMixin, strength: float) -> torch.Tensor:
        """The tail of the sampler's timesteps an image-to-image pass of ``strength`` runs."""
        total = len(sampler.timesteps)
        count = min(total, int(round(total * strength)))
        if count == 0:
            return sampler.timesteps[:0]
        start = total - count
        if hasattr(sampler, "set_begin_index"):
            sampler.set_begin_index(start * getattr(sampler, "order", 1))
        return sampler.timesteps[start:]

    # -- training ---------------------------------------------------------------------------

    def add_noise(self, clean: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """Forward diffusion q(x_t | x_0) for ``[B, ...]`` tensors and ``[B]`` timesteps."""
        return self.train_scheduler.add_noise(clean, noise, timesteps.to(clean.device))

    def sample_timesteps(self, batch: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """Uniform random training timesteps."""
        return torch.randint(0, self.config.num_train_timesteps, (batch,), generator=generator, device="cpu").to(device or "cpu")

    def alphas_cumprod(self, timesteps: torch.Tensor) -> torch.Tensor:
        """``alpha_bar_t`` for each timestep, for converting between prediction types."""
        return self.train_scheduler.alphas_cumprod.to(timesteps.device)[timesteps]
