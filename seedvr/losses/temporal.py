"""Temporal consistency term: the prediction should change from frame to frame as the truth does.

For every pair (t, t+1) the term compares the *temporal change* of the prediction with the
temporal change of the target, in luminance (flicker: a fill that brightens and darkens) and
in luminance gradients (shimmer: texture or edges that crawl). Comparing changes, not frames,
means a fill that is slightly wrong but steady costs nothing here: that is the content
term's job; this one only punishes instability.

With the target's optical flow, frame t is first warped onto frame t+1 (motion compensated),
so genuine motion is not mistaken for flicker, and pixels whose sample point leaves the
frame are ignored.

Flow convention (``seedvr.ops.flow``): ``target_flow[:, t]`` is the *backward* flow
t+1 -> t of the target, ``estimate_video_flows(target)[1][t]`` moved to ``[2, H, W]``:
``target[t+1](p) ≈ target[t](p + flow(p))``, so ``backward_warp(target[:, t], flow[:, t])``
redraws ``target[:, t+1]``.
"""

from __future__ import annotations

import torch

from seedvr.losses.image_ops import dilate, luminance, masked_mean, sobel_gradients
from seedvr.ops.warp import backward_warp


def align_previous_frames(frames: torch.Tensor, backward_flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp frames ``0..T-2`` onto the grids of frames ``1..T-1``.

    ``frames`` ``[B, T, C, H, W]``, ``backward_flow`` ``[B, T-1, 2, H, W]`` (t+1 -> t, pixels).
    Returns ``[B*(T-1), C, H, W]`` aligned frames and the ``[B*(T-1), 1, H, W]`` map of
    pixels whose sample point fell inside the frame.
    """
    previous = frames[:, :-1].flatten(0, 1)
    flow = backward_flow.flatten(0, 1).to(previous.dtype)
    return backward_warp(previous, flow)


def temporal_consistency(
    composite: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    target_flow: torch.Tensor | None = None,
    region_radius: int = 2,
) -> torch.Tensor:
    """Luminance + gradient consistency of temporal changes, averaged near the holes.

    ``composite`` and ``target`` are ``[B, T, 3, H, W]`` in ``[0, 1]``; ``mask`` is
    ``[B, T, 1, H, W]``. ``target_flow`` (optional) is the target's backward flow
    ``[B, T-1, 2, H, W]`` (see the module docstring). The average is taken over the union of
    the holes of both frames, dilated by ``region_radius`` (outside it the composite equals
    the target, so the term is 0 there anyway; normalising by the region keeps the value
    independent of the hole size).
    """
    frames = composite.shape[1]
    if frames < 2:
        # Keep the graph connected so callers can always backpropagate the total.
        return composite.sum() * 0.0
    next_pred = composite[:, 1:].flatten(0, 1)
    next_target = target[:, 1:].flatten(0, 1)
    next_mask = mask[:, 1:].flatten(0, 1)
    if target_flow is None:
        previous_pred = composite[:, :-1].flatten(0, 1)
        previous_target = target[:, :-1].flatten(0, 1)
        previous_mask = mask[:, :-1].flatten(0, 1)
        valid = torch.ones_like(next_mask)
    else:
        previous_pred, valid = align_previous_frames(composite, target_flow)
        previous_target, _ = align_previous_frames(target, target_flow)
        previous_mask, _ = align_previous_frames(mask, target_flow)
    region = dilate(torch.maximum(previous_mask, next_mask), region_radius) * valid

    change_pred = luminance(next_pred) - luminance(previous_pred)
    change_target = luminance(next_target) - luminance(previous_target)
    luminance_term = masked_mean((change_pred - change_target).abs(), region)
    # Sobel is linear: the gradient of the change is the change of the gradients.
    gradient_term = masked_mean((sobel_gradients(change_pred) - sobel_gradients(change_target)).abs(), region)
    return luminance_term + gradient_term
