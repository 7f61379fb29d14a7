"""Carry known pixels along the optical flow into the holes of neighbouring frames.

Two passes run over the clip. The *backward* pass (t = T-2 .. 0) fills the holes of frame t
from frame t+1 along ``forward_flow[t]``; the *forward* pass (t = 1 .. T-1) fills them from
frame t-1 along ``backward_flow[t-1]``. Because frame t+1 has already been filled from t+2,
known pixels travel along chains t±1, t±2, ... as far as the motion uncovers them.

Colours are not resampled at every hop (repeated bilinear sampling blurs the texture a
little more at each step). Each pass instead propagates a *pointer* per pixel: the index of
the frame where its source pixel is known and the displacement to it. The pointer of the
neighbour is read with nearest sampling (two neighbouring pointers may lead to different
frames, so they must not be averaged) and the displacement is accumulated; at the end every
filled pixel samples its colour once, bilinearly, from the original frame it points to.

A hop is rejected when it leaves the frame, lands on a pixel without a source, or fails the
forward-backward consistency check (the flow there and the reverse flow at its target do not
cancel: the source is occluded, or the flow is wrong). The two passes are merged by
preferring the source fewer hops away and averaging the two when they are equally near.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from seedvr.errors import SeedVRError
from seedvr.models.flow import check_video_and_masks, estimate_video_flows, reduced_size
from seedvr.models.warp import backward_warp

# Relative slack of the consistency check (Sundaram et al. 2010): long motions are allowed a
# proportionally larger forward-backward mismatch than short ones.
_RELATIVE_CONSISTENCY = 0.01

# A filled pixel must find at least this much bilinear weight on known pixels of its source
# frame; below it the sample would be an extrapolation from a single far corner.
_MIN_SOURCE_WEIGHT = 0.05


def _check_inputs(frames, masks, forward_flow, backward_flow) -> None:
    if frames.ndim != 5:
        raise SeedVRError(f"frames must be a [B, T, C, H, W] tensor, got shape {tuple(frames.shape)}")
    batch, count, _, height, width = frames.shape
    if tuple(masks.shape) != (batch, count, 1, height, width):
        raise SeedVRError(f"masks must have shape {(batch, count, 1, height, width)}, got {tuple(masks.shape)}")
    expected = (batch, max(count - 1, 0), 2, height, width)
    for name, flow in (("forward_flow", forward_flow), ("backward_flow", backward_flow)):
        if tuple(flow.shape) != expected:
            raise SeedVRError(f"{name} must have shape {expected}, got {tuple(flow.shape)}")


def _consistent(step: torch.Tensor, reverse: torch.Tensor, threshold: float) -> torch.Tensor:
    """True where ``step(p)`` and ``reverse(p + step(p))`` cancel within the tolerance."""
    reverse_at_target, _ = backward_warp(reverse, step)
    mismatch = (step + reverse_at_target).square().sum(1, keepdim=True)
    magnitude = step.square().sum(1, keepdim=True) + reverse_at_target.square().sum(1, keepdim=True)
    return mismatch <= _RELATIVE_CONSISTENCY * magnitude + threshold**2


def _trace_pointers(
    hole: torch.Tensor,
    step_flows: torch.Tensor,
    reverse_flows: torch.Tensor,
    from_later: bool,
    threshold: float,
) -> torch.Tensor:
    """One propagation pass: per pixel ``[source frame, dx, dy, hops]`` as ``[B, T, 4, H, W]``.

    ``from_later`` picks the backward pass (sources in later frames, following
    ``step_flows[t]`` from t to t+1) rather than the forward pass (following
    ``step_flows[t-1]`` from t to t-1). Pixels without a source get frame index -1.
    """
    batch, count, _, height, width = hole.shape
    pointers = torch.zeros(batch, count, 4, height, width, device=hole.device, dtype=torch.float32)
    order = range(count - 1, -1, -1) if from_later else range(count)
    previous = None
    for frame in order:
        known = ~hole[:, frame]
        state = torch.zeros(batch, 4, height, width, device=hole.device, dtype=torch.float32)
        state[:, 0:1] = torch.where(known, float(frame), -1.0)
        if previous is not None:
            pair = frame if from_later else frame - 1
            step, reverse = step_flows[:, pair], reverse_flows[:, pair]
            neighbour, inside = backward_warp(pointers[:, previous], step, mode="nearest")
            reachable = (inside > 0.5) & (neighbour[:, 0:1] >= 0) & _consistent(step, reverse, threshold)
            take = (~known) & reachable
            hopped = torch.cat((neighbour[:, 0:1], step + neighbour[:, 1:3], neighbour[:, 3:4] + 1.0), dim=1)
            state = torch.where(take, hopped, state)
        pointers[:, frame] = state
        previous = frame
    return pointers


def _gather_sources(values: torch.Tensor, known: torch.Tensor, pointers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample every pointed-to source pixel once; returns colours and their validity.

    All frames are stacked into one tall image so a single ``backward_warp`` reads sources
    from any frame: a pointer into frame ``s`` from frame ``t`` becomes a vertical offset of
    ``(s - t) * H``. Source positions are clamped inside their frame so bilinear sampling
    never mixes rows of two stacked frames. Colours are weighted by the source's known mask
    so hole contents never leak in.
    """
    batch, count, channels, height, width = values.shape
    grid = torch.stack(
        torch.meshgrid(
            torch.arange(width, device=values.device, dtype=torch.float32),
            torch.arange(height, device=values.device, dtype=torch.float32),
            indexing="xy",
        )
    )  # [2, H, W] as (x, y)
    frame_index = torch.arange(count, device=values.device, dtype=torch.float32).view(1, count, 1, 1, 1)
    source = pointers[:, :, 0:1]
    has_source = source >= 0
    target_x = (grid[0] + pointers[:, :, 1:2]).clamp(0, width - 1)
    target_y = (grid[1] + pointers[:, :, 2:3]).clamp(0, height - 1)
    offset_x = torch.where(has_source, target_x - grid[0], 0.0)
    offset_y = torch.where(has_source, target_y - grid[1] + (source - frame_index) * height, 0.0)

    def tall(video: torch.Tensor) -> torch.Tensor:
        return video.permute(0, 2, 1, 3, 4).reshape(batch, video.shape[2], count * height, width)

    weighted = torch.cat((values * known, known), dim=2)
    sampled, _ = backward_warp(tall(weighted), tall(torch.cat((offset_x, offset_y), dim=2)))
    sampled = sampled.reshape(batch, channels + 1, count, height, width).permute(0, 2, 1, 3, 4)
    weight = sampled[:, :, channels:]
    colours = sampled[:, :, :channels] / weight.clamp_min(1e-6)
    return colours, has_source & (weight >= _MIN_SOURCE_WEIGHT)


def propagate_known_pixels(
    frames: torch.Tensor,
    masks: torch.Tensor,
    forward_flow: torch.Tensor,
    backward_flow: torch.Tensor,
    consistency_threshold: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill holes with known pixels carried along the flow from the other frames.

    ``frames [B, T, C, H, W]`` in any value range; ``masks [B, T, 1, H, W]`` with 1 = hole;
    ``forward_flow [B, T-1, 2, H, W]`` maps frame t to t+1 (samples frame t+1) and
    ``backward_flow [B, T-1, 2, H, W]`` maps frame t+1 to t, in pixels (see
    :mod:`seedvr.models.flow`). ``consistency_threshold`` is the forward-backward mismatch
    (pixels) tolerated on short motions; a 1 % relative slack is added for long ones.

    Returns ``(propagated, validity)``: ``propagated`` equals ``frames`` exactly at known
    pixels, holds the propagated colour at reached hole pixels and keeps the input value at
    hole pixels no source reached; ``validity [B, T, 1, H, W]`` is 1 at known pixels and at
    reached hole pixels, 0 elsewhere.
    """
    _check_inputs(frames, masks, forward_flow, backward_flow)
    if consistency_threshold <= 0:
        raise SeedVRError(f"consistency_threshold must be positive, got {consistency_threshold}")
    hole = masks > 0.5
    if frames.shape[1] < 2 or not bool(hole.any()):
        return frames.clone(), (~hole).to(frames.dtype)
    values = frames.float()
    known = (~hole).float()
    forward_flow, backward_flow = forward_flow.float(), backward_flow.float()

    from_later = _trace_pointers(hole, forward_flow, backward_flow, True, consistency_threshold)
    from_earlier = _trace_pointers(hole, backward_flow, forward_flow, False, consistency_threshold)
    later_colours, later_valid = _gather_sources(values, known, from_later)
    earlier_colours, earlier_valid = _gather_sources(values, known, from_earlier)

    later_hops, earlier_hops = from_later[:, :, 3:4], from_earlier[:, :, 3:4]
    use_later = later_valid & (~earlier_valid | (later_hops < earlier_hops))
    use_earlier = earlier_valid & (~later_valid | (earlier_hops < later_hops))
    merged = torch.where(
        use_later, later_colours, torch.where(use_earlier, earlier_colours, 0.5 * (later_colours + earlier_colours))
    )
    reached = hole & (later_valid | earlier_valid)
    propagated = torch.where(reached, merged.to(frames.dtype), frames)
    validity = (~hole | reached).to(frames.dtype)
    return propagated, validity


def _flows_to_tensor(flows: np.ndarray) -> torch.Tensor:
    """``[T-1, H, W, 2]`` numpy flows -> ``[1, T-1, 2, H, W]`` tensor."""
    return torch.from_numpy(np.ascontiguousarray(flows, dtype=np.float32)).permute(0, 3, 1, 2).unsqueeze(0)


def propagation_guess(
    frames: np.ndarray,
    masks: np.ndarray,
    max_side: int = 256,
    inpaint_radius: int = 3,
    flows: tuple[np.ndarray, np.ndarray] | None = None,
    consistency_threshold: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Repair a video by flow propagation, finishing what no frame can see with Telea.

    ``frames uint8 [T, H, W, 3]``, ``masks bool [T, H, W]`` (True = damaged). Flows are
    estimated (completed inside the holes) at longer side ``max_side`` unless ``flows`` =
    ``(forward, backward)`` from :func:`estimate_video_flows` is given. Hole pixels no frame
    can supply are filled per frame by OpenCV Telea with ``inpaint_radius``.
    ``consistency_threshold`` defaults to one reduced-resolution pixel, expressed in
    full-resolution pixels.

    Returns ``(guess uint8 [T, H, W, 3], validity bool [T, H, W])``: ``guess`` equals
    ``frames`` byte for byte outside the mask; ``validity`` is True at known pixels and at
    hole pixels filled by propagation, False where Telea filled them.
    """
    frames, masks = check_video_and_masks(frames, masks)
    if inpaint_radius < 1:
        raise SeedVRError(f"inpaint_radius must be at least 1, got {inpaint_radius}")
    count, height, width = masks.shape
    if flows is None:
        flows = estimate_video_flows(frames, masks, max_side=max_side)
    forward, backward = flows
    expected = (count - 1, height, width, 2)
    if forward.shape != expected or backward.shape != expected:
        raise SeedVRError(f"flows must both have shape {expected}, got {forward.shape} and {backward.shape}")
    if consistency_threshold is None:
        # Flow error scales with the reduction factor: one reduced pixel in full-size pixels.
        consistency_threshold = max(1.0, max(height, width) / max(reduced_size(height, width, max_side)))

    with torch.no_grad():
        propagated, validity = propagate_known_pixels(
            torch.from_numpy(frames).permute(0, 3, 1, 2).unsqueeze(0).float(),
            torch.from_numpy(masks).unsqueeze(1).unsqueeze(0).float(),
            _flows_to_tensor(forward),
            _flows_to_tensor(backward),
            consistency_threshold=consistency_threshold,
        )
    guess = propagated[0].permute(0, 2, 3, 1).round().clamp(0, 255).to(torch.uint8).numpy()
    valid = validity[0, :, 0].numpy() > 0.5
    guess = np.where(masks[..., None], guess, frames)

    unfilled = masks & ~valid
    for index in np.flatnonzero(unfilled.reshape(count, -1).any(axis=1)):
        guess[index] = cv2.inpaint(guess[index], unfilled[index].astype(np.uint8), inpaint_radius, cv2.INPAINT_TELEA)
    return guess, valid
