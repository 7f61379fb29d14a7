"""Turning (clean, damaged, mask) clips into the tensors one training step needs.

Flow estimation and propagation run here, in the data loader, on the CPU: they have no
learned weights, and doing them per sample keeps the training step itself pure torch.
"""

from __future__ import annotations

import numpy as np
import torch

from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, estimate_video_flows
from seedvr.pipeline.conditions import RepairConditions, compute_condition_arrays
from seedvr.pipeline.video_tensors import frames_to_tensor

SAMPLE_KEYS = ("frames", "clean", "mask", "guess", "validity", "spatial", "flow", "target_flow")


def prepare_sample(
    clean: np.ndarray, damaged: np.ndarray, mask: np.ndarray, flow_max_side: int = DEFAULT_FLOW_MAX_SIDE
) -> dict[str, torch.Tensor]:
    """The conditioning and targets for one clip, ``[T, C, H, W]`` tensors (no batch axis).

    ``flow`` is the damaged clip's forward flow in frame units (what the temporal encoder
    sees at inference); ``target_flow`` is the clean clip's backward flow in pixels, which
    aligns frames for the temporal-consistency loss.
    """
    conditions = RepairConditions.from_arrays(damaged, mask, compute_condition_arrays(damaged, mask, flow_max_side))
    _, clean_backward = estimate_video_flows(clean, None, max_side=flow_max_side)
    sample = {name: getattr(conditions, name)[0] for name in ("frames", "mask", "guess", "validity", "spatial", "flow")}
    sample["clean"] = frames_to_tensor(clean)[0]
    sample["target_flow"] = torch.from_numpy(np.ascontiguousarray(clean_backward)).permute(0, 3, 1, 2).float()
    return sample
