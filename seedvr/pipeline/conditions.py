"""What the learned stages are conditioned on, computed once per clip without learned weights.

Training (:mod:`seedvr.train.samples`) and inference (:class:`SeedVRPipeline`) build the
conditions with the same function, :func:`compute_condition_arrays`, so the model is trained
on exactly the inputs it sees when repairing:

- the forward flow between neighbouring frames, completed inside the holes;
- the *propagation guess*: known pixels carried along that flow into the holes (with a
  validity map of the pixels it reached), a smooth fill for what no frame shows;
- the *spatial candidate*: every hole filled from its own frame alone (Navier-Stokes).
  Propagation is right where the motion is right; the spatial fill is right on thin damage
  and where the completed motion is wrong. The model chooses between them per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seedvr.baselines.classical import inpaint_frames
from seedvr.ops.blending import BORDER_BLEND, Blend
from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, PairFlowMemo
from seedvr.ops.fusion import fused_propagation
from seedvr.pipeline.video_tensors import flows_to_tensor, frames_to_tensor, masks_to_tensor, resize_mask, resize_video

SPATIAL_METHOD = "ns"


@dataclass
class ConditionArrays:
    """The conditions of one clip as arrays: video contract shapes (see DESIGN section 3)."""

    guess: np.ndarray  # uint8 [T, H, W, 3], the propagation guess (exact outside the holes)
    validity: np.ndarray  # bool [T, H, W], True where the guess is known or propagated
    spatial: np.ndarray  # uint8 [T, H, W, 3], each frame's holes inpainted from that frame
    forward_flow: np.ndarray  # float32 [T-1, H, W, 2], in pixels, completed in the holes
    backward_flow: np.ndarray  # float32 [T-1, H, W, 2]


def compute_condition_arrays(
    frames: np.ndarray,
    masks: np.ndarray,
    flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
    flow_memo: PairFlowMemo | None = None,
    blend: Blend = BORDER_BLEND,
    device: torch.device | str | None = None,
) -> ConditionArrays:
    """Flow, propagation guess, validity and spatial candidate of ``frames`` inside ``masks``
    (``flow_memo``: the flow work of pairs an earlier window of the same stream shared;
    ``blend``: the guess's gradient-domain blending, :func:`~seedvr.ops.fusion.fused_propagation`;
    ``device``: where the propagation runs, the model's device when it repairs)."""
    fused = fused_propagation(frames, masks, flow_max_side, memo=flow_memo, blend=blend, device=device)
    spatial = inpaint_frames(frames, masks, method=SPATIAL_METHOD)
    return ConditionArrays(fused.guess, fused.validity, spatial, fused.forward_flow, fused.backward_flow)


@dataclass
class RepairConditions:
    """Everything the learned stages are conditioned on, as ``[B, T, C, H, W]`` tensors."""

    frames: torch.Tensor  # input frames in [-1, 1] (damaged inside the mask)
    mask: torch.Tensor  # 1 = hole
    guess: torch.Tensor  # propagation guess in [-1, 1], complete frames
    validity: torch.Tensor  # 1 where the guess came from a propagated pixel
    spatial: torch.Tensor  # per-frame Navier-Stokes fill in [-1, 1], complete frames
    flow: torch.Tensor  # forward flow in frame units, zero for the last frame

    @classmethod
    def from_arrays(cls, frames: np.ndarray, masks: np.ndarray, arrays: ConditionArrays, device=None, dtype=torch.float32):
        """Tensors with a batch axis of one from a clip and its :class:`ConditionArrays`."""
        return cls(
            frames=frames_to_tensor(frames, device, dtype),
            mask=masks_to_tensor(masks, device, dtype),
            guess=frames_to_tensor(arrays.guess, device, dtype),
            validity=masks_to_tensor(arrays.validity, device, dtype),
            spatial=frames_to_tensor(arrays.spatial, device, dtype),
            flow=flows_to_tensor(arrays.forward_flow, device, dtype),
        )

    @property
    def masked_frames(self) -> torch.Tensor:
        return self.frames * (1.0 - self.mask)

    def region(self, rows: slice, cols: slice) -> RepairConditions:
        """The same conditions inside one rectangle of the frame (contiguous copies: the
        convolutions are several times slower on strided views)."""
        names = ("frames", "mask", "guess", "validity", "spatial", "flow")
        return RepairConditions(**{name: getattr(self, name)[..., rows, cols].contiguous() for name in names})

    def at(self, height: int, width: int) -> RepairConditions:
        """The same conditions at another scale (holes never shrink away)."""
        return RepairConditions(
            frames=resize_video(self.frames, height, width),
            mask=resize_mask(self.mask, height, width),
            guess=resize_video(self.guess, height, width),
            validity=(resize_video(self.validity, height, width) > 0.999).to(self.validity.dtype),
            spatial=resize_video(self.spatial, height, width),
            flow=resize_video(self.flow, height, width),
        )
