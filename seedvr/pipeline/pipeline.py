"""``SeedVRPipeline``: flow propagation, then coarse -> medium -> fine diffusion, then detail.

The pipeline follows diffusers' shape (modules and scheduler registered, ``save_pretrained``
/ ``from_pretrained``), adapted to masked video repair:

1. optical flow between neighbouring frames, completed inside the holes, carries known
   pixels into the holes (the *propagation guess*, with a validity map);
2. the TemporalConsistencyEncoder reads the guess, the mask and the flow at the coarse scale;
   the spatial candidate fills each hole from its own frame (see :mod:`.conditions`);
3. the denoiser repairs the holes at each scale of the HierarchicalRepairScheduler; every
   pass starts from the propagation guess at its own scale plus the correction the previous
   pass made, so structure flows down the scales while propagation keeps its sharp pixels;
4. the DetailRestorationNetwork and TexturePreservationNetwork refine the full-resolution
   estimate, except where it already matches the same place undamaged in a nearby frame;
5. compositing in ``uint8`` keeps every pixel outside the mask bit for bit.

Every learned stage predicts a correction with a zero-initialised last layer, so an untrained
pipeline returns the propagation guess exactly and training only learns what it misses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import DiffusionPipeline
from diffusers.utils import BaseOutput
from safetensors import SafetensorError

from seedvr.models.denoiser import SeedVRDenoiser
from seedvr.models.detail import DetailRestorationNetwork, TexturePreservationNetwork
from seedvr.models.temporal_encoder import TemporalConsistencyEncoder
from seedvr.modelstore.folder import ModelLoadError
from seedvr.modelstore.registered import first_line
from seedvr.ops.blending import BORDER_BLEND, Blend
from seedvr.ops.envelope import bound_by_temporal_envelope
from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, PairFlowMemo
from seedvr.ops.regions import plan_regions
from seedvr.ops.settled import settled_pixels
from seedvr.pipeline.conditions import RepairConditions, compute_condition_arrays
from seedvr.pipeline.scheduler import HierarchicalRepairScheduler, RepairStage
from seedvr.pipeline.verify import verify_pipeline_folder
from seedvr.pipeline.video_tensors import resize_video, tensor_to_frames
from seedvr.video_contract import check_video_and_masks

# What diffusers raises for a verified folder whose files still cannot be read (a weights file
# truncated after its header, a scheduler config of the wrong types).
_LOAD_ERRORS = (OSError, ValueError, KeyError, TypeError, SafetensorError)

#: Above this share of the frame, the refinement networks run on the whole frame rather than
#: on rectangles around the holes. The rectangles give the whole-frame result (they lose no
#: context, unlike crops: see ``ops.regions.WHOLE_FRAME_AREA``), so they pay as soon as they
#: skip more than their own few calls cost.
REFINE_WHOLE_AREA = 0.9


@dataclass
class SeedVRPipelineOutput(BaseOutput):
    """Repaired frames ``uint8 [T, H, W, 3]`` and the propagation guess they started from."""

    frames: np.ndarray
    guess: np.ndarray


class SeedVRPipeline(DiffusionPipeline):
    """Masked video repair with the SeedVR model family (see the module docstring)."""

    model_cpu_offload_seq = "temporal_encoder->denoiser->detail_net->texture_net"

    def __init__(
        self,
        denoiser: SeedVRDenoiser,
        temporal_encoder: TemporalConsistencyEncoder,
        detail_net: DetailRestorationNetwork,
        texture_net: TexturePreservationNetwork,
        scheduler: HierarchicalRepairScheduler,
    ):
        super().__init__()
        self.register_modules(
            denoiser=denoiser,
            temporal_encoder=temporal_encoder,
            detail_net=detail_net,
            texture_net=texture_net,
            scheduler=scheduler,
        )

    @classmethod
    def from_preset(cls, preset: str = "tiny", scheduler: HierarchicalRepairScheduler | None = None, seed: int = 0):
        """A freshly initialised (untrained) pipeline of a size preset, deterministic under ``seed``."""
        from seedvr.models.presets import build_models

        models = build_models(preset, seed=seed)
        return cls(scheduler=scheduler or HierarchicalRepairScheduler(), **models)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *, label: str | None = None, **kwargs):
        """Load a ``save_pretrained`` folder once it is checked to be exactly a SeedVR pipeline:
        its own component classes, configs that match their weights (see
        :mod:`seedvr.pipeline.verify`). Safetensors only: a pickle is never loaded.

        ``label`` names the folder in errors the way the user gave it (default: the path);
        other keyword arguments go to diffusers (``torch_dtype``, ``low_cpu_mem_usage``...).

        Raises:
            ModelLoadError: the folder is not exactly a SeedVR pipeline, or cannot be read.
        """
        folder = verify_pipeline_folder(pretrained_model_name_or_path, cls, label)
        try:
            return super().from_pretrained(str(folder), **{**kwargs, "use_safetensors": True})
        except _LOAD_ERRORS as error:
            raise ModelLoadError(f"{label or folder}: cannot load the pipeline ({first_line(error)})") from None

    # -- conditions ---------------------------------------------------------------------------

    def prepare_conditions(
        self,
        frames: np.ndarray,
        masks: np.ndarray,
        flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
        flow_memo: PairFlowMemo | None = None,
        blend: Blend = BORDER_BLEND,
    ) -> tuple[RepairConditions, np.ndarray]:
        """Flow, propagation guess, validity and spatial fill; returns tensors and the uint8 guess."""
        arrays = compute_condition_arrays(frames, masks, flow_max_side, flow_memo, blend, self._execution_device)
        conditions = RepairConditions.from_arrays(frames, masks, arrays, self._execution_device, self.denoiser.dtype)
        return conditions, arrays.guess

    def temporal_features(self, conditions: RepairConditions, stage: RepairStage) -> torch.Tensor:
        """Temporal-consistency features, computed once at the coarsest scale."""
        coarse = conditions.at(stage.height, stage.width)
        return self.temporal_encoder(coarse.masked_frames, coarse.mask, coarse.guess, coarse.validity, coarse.flow)

    # -- repair -------------------------------------------------------------------------------

    def denoise_stage(
        self,
        conditions: RepairConditions,
        start: torch.Tensor,
        stage: RepairStage,
        features: torch.Tensor,
        num_inference_steps: int | None,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """One image-to-image pass at ``stage``'s scale, starting from ``start`` (the pass's guess).

        Known pixels are re-noised to the current timestep after every step (as RePaint does)
        so the sample stays consistent with them; the pass returns its last x0 estimate.
        """
        sampler = self.scheduler.make_sampler(num_inference_steps)
        timesteps = self.scheduler.stage_timesteps(sampler, stage.strength)
        if len(timesteps) == 0:
            return start
        known = 1.0 - conditions.mask
        masked = conditions.masked_frames
        noise = torch.randn(start.shape, generator=generator, device="cpu", dtype=torch.float32).to(start)
        batch = start.shape[0]
        sample = self.scheduler.add_noise(start, noise, timesteps[:1].repeat(batch))
        estimate = start
        for index, timestep in enumerate(timesteps):
            t = timestep.repeat(batch).to(start.device)
            estimate = self.denoiser(sample, t, masked, conditions.mask, start, conditions.validity, conditions.spatial, features)
            estimate = estimate * conditions.mask + start * known
            if index + 1 < len(timesteps):
                sample = sampler.step(estimate, timestep, sample).prev_sample
                renoised_known = self.scheduler.add_noise(start, noise, timesteps[index + 1 : index + 2].repeat(batch))
                sample = sample * conditions.mask + renoised_known * known
        return estimate

    def refine_details(self, estimate: torch.Tensor, conditions: RepairConditions) -> torch.Tensor:
        """Full-resolution detail from neighbour frames, then texture and border refinement.

        When repairing (no gradients), the two convolutional networks run only on rectangles
        around the holes grown by their combined reach (:attr:`refinement_reach`), and their
        result is taken inside the holes: there it is the whole-frame result (to float
        rounding), since no pixel farther away can reach a hole. Rectangles covering nearly
        all the frame (:data:`REFINE_WHOLE_AREA`) run as the whole frame. Training refines
        whole clips, as before.

        Settled hole pixels (:mod:`seedvr.ops.settled`: the estimate already shows what the
        same place shows undamaged in a nearby frame) keep the estimate, in training too, so
        the networks learn only where they are used.
        """
        settled = settled_pixels(estimate, conditions.frames, conditions.mask)
        return torch.where(settled, estimate, self._refine_holes(estimate, conditions))

    def _refine_holes(self, estimate: torch.Tensor, conditions: RepairConditions) -> torch.Tensor:
        if torch.is_grad_enabled():
            return self._refine_whole(estimate, conditions)
        holes = conditions.mask.amax(dim=(0, 1))[0] > 0.5  # [H, W]: a hole in any frame
        boxes = plan_regions(holes.cpu().numpy(), self.refinement_reach)
        if sum(box.area for box in boxes) > REFINE_WHOLE_AREA * holes.numel():
            return self._refine_whole(estimate, conditions)
        refined = estimate.clone()
        for box in boxes:
            rows, cols = box.slices
            region = conditions.region(rows, cols)
            part = self._refine_whole(estimate[..., rows, cols].contiguous(), region)
            refined[..., rows, cols] = torch.where(region.mask > 0.5, part, estimate[..., rows, cols])
        return refined

    @property
    def refinement_reach(self) -> int:
        """Pixels from which the detail and texture networks, one after the other, reach a hole."""
        return self.detail_net.receptive_radius + self.texture_net.receptive_radius

    def _refine_whole(self, estimate: torch.Tensor, conditions: RepairConditions) -> torch.Tensor:
        masked = conditions.masked_frames
        estimate = self.detail_net(estimate, masked, conditions.mask, conditions.guess, conditions.validity)
        return self.texture_net(estimate, masked, conditions.mask)

    def repair_tensors(
        self,
        conditions: RepairConditions,
        num_inference_steps: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The model's repair of the holes, ``[B, T, 3, H, W]`` in [-1, 1], before compositing."""
        return self.refine_details(self.diffuse(conditions, num_inference_steps, generator), conditions).clamp(-1.0, 1.0)

    def diffuse(
        self,
        conditions: RepairConditions,
        num_inference_steps: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The coarse-to-fine diffusion passes alone: the estimate the detail and texture
        networks then refine (:meth:`repair_tensors` is both)."""
        height, width = conditions.frames.shape[-2:]
        stages = self.scheduler.plan(height, width)
        features = self.temporal_features(conditions, stages[0])
        previous_start = previous_result = None
        for stage in stages:
            scaled = conditions.at(stage.height, stage.width)
            start = scaled.guess
            if previous_result is not None:
                # Carry the previous pass's correction of the guess, not its blurry pixels.
                correction = resize_video(previous_result - previous_start, stage.height, stage.width)
                start = (start + correction * scaled.mask).clamp(-1.0, 1.0)
            previous_result = self.denoise_stage(scaled, start, stage, features, num_inference_steps, generator)
            previous_start = start
        return previous_result

    @staticmethod
    def composite(
        estimate: torch.Tensor,
        frames: np.ndarray,
        masks: np.ndarray,
        guess: np.ndarray,
        flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
    ) -> np.ndarray:
        """The repaired clip (``uint8``) from an estimate ``[1, T, 3, H, W]`` in [-1, 1]: its
        correction of ``guess`` bounded by the guess' temporal envelope
        (:mod:`seedvr.ops.envelope`) inside ``masks``, ``frames`` byte for byte outside."""
        repaired = bound_by_temporal_envelope(tensor_to_frames(estimate), guess, masks, flow_max_side=flow_max_side)
        return np.where(masks[..., None], repaired, frames)

    @torch.no_grad()
    def __call__(
        self,
        frames: np.ndarray,
        masks: np.ndarray,
        num_inference_steps: int | None = None,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
        return_dict: bool = True,
        flow_memo: PairFlowMemo | None = None,
        blend: Blend = BORDER_BLEND,
    ):
        """Repair ``frames`` (``uint8 [T, H, W, 3]``) inside ``masks`` (``[T, H, W]``, true = hole).

        Pixels outside the mask are returned unchanged, byte for byte. Inside it the model's
        correction of the guess is bounded by the guess' temporal envelope
        (:mod:`seedvr.ops.envelope`). ``flow_memo``, shared by
        the overlapping windows of one video, spares re-measuring the flows of shared frames.
        ``blend``: the share of the guess's gradient-domain correction
        (:mod:`seedvr.ops.blending`), or a share per hole shape (a detected mask's:
        :data:`~seedvr.ops.blending.DETECTED_MASK_BLEND`).
        """
        masks = check_video_and_masks(frames, masks)
        if generator is None and seed is not None:
            generator = torch.Generator("cpu").manual_seed(seed)
        if not masks.any():
            repaired = frames.copy()
            return SeedVRPipelineOutput(frames=repaired, guess=repaired) if return_dict else (repaired,)
        conditions, guess = self.prepare_conditions(frames, masks, flow_max_side, flow_memo, blend)
        estimate = self.repair_tensors(conditions, num_inference_steps, generator)
        repaired = self.composite(estimate, frames, masks, guess, flow_max_side)
        if not return_dict:
            return (repaired,)
        return SeedVRPipelineOutput(frames=repaired, guess=guess)
