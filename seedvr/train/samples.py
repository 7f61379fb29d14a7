"""Turning (clean, damaged, mask) clips into the tensors one training step needs.

Flow estimation and propagation run here, in the data loader, on the CPU: they have no
learned weights, and doing them per sample keeps the training step itself pure torch.
"""

from __future__ import annotations

import numpy as np
import torch

from seedvr.models.flow import estimate_video_flows
from seedvr.models.propagation import propagation_guess
from seedvr.pipeline.video_tensors import flows_to_tensor, frames_to_tensor, masks_to_tensor

SAMPLE_KEYS = ("frames", "clean", "mask", "guess", "validity", "flow", "target_flow")


def prepare_sample(clean: np.ndarray, damaged: np.ndarray, mask: np.ndarray, flow_max_side: int = 256) -> dict[str, torch.Tensor]:
    """The conditioning and targets for one clip, ``[T, C, H, W]`` tensors (no batch axis).

    ``flow`` is the damaged clip's forward flow in frame units (what the temporal encoder
    sees at inference); ``target_flow`` is the clean clip's backward flow in pixels, which
    aligns frames for the temporal-consistency loss.
    """
    forward, backward = estimate_video_flows(damaged, mask, max_side=flow_max_side)
    guess, validity = propagation_guess(damaged, mask, flows=(forward, backward))
    _, clean_backward = estimate_video_flows(clean, None, max_side=flow_max_side)
    return {
        "frames": frames_to_tensor(damaged)[0],
        "clean": frames_to_tensor(clean)[0],
        "mask": masks_to_tensor(mask)[0],
        "guess": frames_to_tensor(guess)[0],
        "validity": masks_to_tensor(validity)[0],
        "flow": flows_to_tensor(forward)[0],
        "target_flow": torch.from_numpy(np.ascontiguousarray(clean_backward)).permute(0, 3, 1, 2).float(),
    }
