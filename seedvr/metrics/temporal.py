"""Temporal-consistency metrics: warping error (E_warp, whole frame and inside the mask), tOF
and flicker.

Flow convention (``seedvr.ops.flow``): ``farneback_flow(a, b)`` returns ``f`` with
``a(p) ≈ b(p + f(p))``, so ``backward_warp(b, f)`` redraws ``a``. ``estimate_video_flows``
returns ``forward[t] = farneback_flow(frame t, frame t+1)`` and
``backward[t] = farneback_flow(frame t+1, frame t)``.
"""

from __future__ import annotations

import numpy as np
import torch

from seedvr.ops.flow import estimate_video_flows, farneback_flow
from seedvr.ops.warp import backward_warp
from seedvr.video_contract import check_video_and_masks, check_videos_alike

VideoFlows = tuple[np.ndarray, np.ndarray]


def _flow_tensor(flow: np.ndarray) -> torch.Tensor:
    """``[H, W, 2]`` numpy flow -> ``[1, 2, H, W]`` float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)


def _frame_tensor(frame: np.ndarray) -> torch.Tensor:
    """``uint8 [H, W, 3]`` -> ``[1, 3, H, W]`` float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).unsqueeze(0).float() / 255.0


def non_occluded_mask(forward_flow: np.ndarray, backward_flow: np.ndarray) -> np.ndarray:
    """Pixels of frame t whose flow to frame t+1 can be trusted, ``bool [H, W]``.

    Following Ruder et al. 2016 (as used by Lai et al. 2018), a pixel is dropped when

    * the forward-backward check fails (Sundaram et al. 2010): going to t+1 and back should
      return to the start, ``|F + B(p+F)|^2 > 0.01 (|F|^2 + |B(p+F)|^2) + 0.5``;
    * it lies on a motion boundary: ``|grad u|^2 + |grad v|^2 > 0.01 |F|^2 + 0.002``;
    * its match ``p + F(p)`` falls outside frame t+1.
    """
    forward_tensor = _flow_tensor(forward_flow)
    backward_at_target, inside = backward_warp(_flow_tensor(backward_flow), forward_tensor)
    round_trip = ((forward_tensor + backward_at_target) ** 2).sum(dim=1)[0].numpy()
    magnitudes = (forward_tensor**2).sum(dim=1)[0].numpy() + (backward_at_target**2).sum(dim=1)[0].numpy()
    inconsistent = round_trip > 0.01 * magnitudes + 0.5

    du_dy, du_dx = np.gradient(forward_flow[..., 0])
    dv_dy, dv_dx = np.gradient(forward_flow[..., 1])
    gradient_energy = du_dx**2 + du_dy**2 + dv_dx**2 + dv_dy**2
    motion_boundary = gradient_energy > 0.01 * (forward_flow**2).sum(axis=-1) + 0.002

    return ~inconsistent & ~motion_boundary & (inside[0, 0].numpy() > 0)


def warping_error(pred: np.ndarray, target: np.ndarray, target_flows: VideoFlows | None = None) -> float:
    """Warping error E_warp of Lai et al. 2018 ("Learning Blind Video Temporal Consistency").

    Flow and occlusion come from the GROUND TRUTH (``target``), never from the output, so
    every method is judged against the same motion::

        E_warp = 1/(T-1) * sum_t  sum_p M_t(p) * ||O_t(p) - warp(O_{t+1})(p)||^2 / sum_p M_t(p)

    ``O`` is ``pred`` with pixel values in [0, 1]; ``||.||^2`` is the squared Euclidean norm
    over the three RGB channels; ``warp(O_{t+1})`` samples frame t+1 at ``p + F_t(p)`` with
    ``F_t`` the ground-truth flow t -> t+1; ``M_t`` is :func:`non_occluded_mask` (all pixels
    when it is empty, as in the reference code).

    Scale: the returned number is E_warp in units of 1e-3, i.e. the raw value multiplied by
    1000, as the papers' tables print it ("E_warp (x10^-3)"): a return value of 2.5 means a
    mean squared warping residual of 0.0025. Lower is better; identical steady videos
    score 0. ``target_flows`` (``(forward, backward)`` of ``estimate_video_flows(target)``)
    may be passed to avoid recomputing them. Returns ``nan`` for a single-frame clip.
    """
    check_videos_alike(pred, target)
    if pred.shape[0] < 2:
        return float("nan")
    forward, backward = target_flows if target_flows is not None else estimate_video_flows(target)
    errors = []
    for t in range(pred.shape[0] - 1):
        keep = non_occluded_mask(np.asarray(forward[t]), np.asarray(backward[t]))
        if not keep.any():
            keep = np.ones_like(keep)
        warped_next, _ = backward_warp(_frame_tensor(pred[t + 1]), _flow_tensor(forward[t]))
        squared = ((_frame_tensor(pred[t]) - warped_next) ** 2).sum(dim=1)[0].numpy()
        errors.append(float(squared[keep].sum() / keep.sum()))
    return float(np.mean(errors)) * 1e3


def _mask_tensor(mask: np.ndarray) -> torch.Tensor:
    """``bool [H, W]`` -> ``[1, 1, H, W]`` float32 (1 = damaged)."""
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None, None]


def repaired_region(mask_t: np.ndarray, mask_next: np.ndarray, forward_flow: np.ndarray, backward_flow: np.ndarray) -> np.ndarray:
    """The pixels of frame t on which the in-mask warping error is measured, ``bool [H, W]``.

    A pixel belongs when it is damaged in frame t, or when its match ``p + F_t(p)`` in frame
    t+1 touches a damaged pixel there (bilinear footprint: a moving hole is judged in both
    frames). Occluded pixels (:func:`non_occluded_mask`) are dropped, unless that would
    drop every pixel of the region: then the whole region is kept, as :func:`warping_error`
    keeps the whole frame. Empty when neither frame has a damaged pixel in view.
    """
    flow = _flow_tensor(forward_flow)
    next_hole, _ = backward_warp(_mask_tensor(mask_next), flow)
    region = np.asarray(mask_t, dtype=bool) | (next_hole[0, 0].numpy() > 0.0)
    if not region.any():
        return region
    trusted = region & non_occluded_mask(np.asarray(forward_flow), np.asarray(backward_flow))
    return trusted if trusted.any() else region


def warping_errors_in_mask(pred: np.ndarray, mask: np.ndarray, target_flows: VideoFlows) -> np.ndarray:
    """``float64 [T-1]``: the in-mask warping error of each pair (t, t+1), x1e-3.

    ``sum_{p in R_t} ||O_t(p) - warp(O_{t+1})(p)||^2 / |R_t|`` with ``R_t`` the
    :func:`repaired_region` of the pair; ``nan`` for a pair whose region is empty.
    """
    forward, backward = target_flows
    mask = check_video_and_masks(pred, mask, names=("pred", "mask"))
    values = np.full(max(pred.shape[0] - 1, 0), np.nan)
    for t in range(pred.shape[0] - 1):
        region = repaired_region(mask[t], mask[t + 1], np.asarray(forward[t]), np.asarray(backward[t]))
        if not region.any():
            continue
        warped_next, _ = backward_warp(_frame_tensor(pred[t + 1]), _flow_tensor(forward[t]))
        squared = ((_frame_tensor(pred[t]) - warped_next) ** 2).sum(dim=1)[0].numpy()
        values[t] = float(squared[region].sum() / region.sum()) * 1e3
    return values


def warping_error_in_mask(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray, target_flows: VideoFlows | None = None
) -> float:
    """E_warp restricted to the repaired region: :func:`warping_error`'s formula, x1e-3.

    Same flows (the ground truth's), same per-pixel residual ``||O_t(p) - warp(O_{t+1})(p)||^2``
    over RGB in [0, 1], same mean over pairs, but each pair's average runs over
    :func:`repaired_region` (damaged pixels of frame t and pixels whose match is damaged in
    frame t+1, non-occluded) instead of the whole frame. Outside the mask every method
    returns the input's pixels, so the whole-frame ``ewarp`` dilutes the repair's flicker
    by the hole's area; this one does not.

    Pairs without damage are left out of the mean; ``nan`` for a single frame or a clip
    without any damaged pixel. A perfect repair (``pred == target``) scores the truth's own
    residual inside the region (bilinear resampling and flow error, 0 on a static scene):
    the floor every method is measured against. Pixels outside the region (farther from
    every hole than the flow plus one pixel) do not change it.
    """
    check_videos_alike(pred, target)
    mask = check_video_and_masks(pred, mask, names=("pred", "mask"))
    if pred.shape[0] < 2 or not mask.any():
        return float("nan")
    flows = target_flows if target_flows is not None else estimate_video_flows(target)
    values = warping_errors_in_mask(pred, mask, flows)
    if np.isnan(values).all():
        return float("nan")
    return float(np.nanmean(values))


def tof(pred: np.ndarray, target: np.ndarray, target_forward: np.ndarray | None = None, max_side: int = 256) -> float:
    """tOF of TecoGAN (Chu et al. 2020): how far the output's motion is from the truth's.

    For each pair (t, t+1), Farneback flow of the output and of the ground truth; tOF is
    the mean absolute difference of the two flow fields (both components, every pixel),
    averaged over pairs, in pixels, not rescaled. Flows are estimated by
    ``seedvr.ops.flow.farneback_flow`` (OpenCV Farneback on frames reduced to
    ``max_side``, vectors returned in full-resolution pixels). Lower is better; identical
    videos score 0. ``target_forward`` (the ``forward`` output of
    ``estimate_video_flows(target)``) may be passed to avoid recomputing it. Returns
    ``nan`` for a single-frame clip.
    """
    check_videos_alike(pred, target)
    if pred.shape[0] < 2:
        return float("nan")
    differences = []
    for t in range(pred.shape[0] - 1):
        pred_flow = farneback_flow(pred[t], pred[t + 1], max_side=max_side)
        if target_forward is not None:
            target_flow = np.asarray(target_forward[t])
        else:
            target_flow = farneback_flow(target[t], target[t + 1], max_side=max_side)
        differences.append(float(np.abs(pred_flow - target_flow).mean()))
    return float(np.mean(differences))


def flicker(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute difference between the temporal changes of ``pred`` and of ``target``.

    ``mean |(pred[t+1] - pred[t]) - (target[t+1] - target[t])|`` over every pixel, channel
    and pair, with pixel values in [0, 1] (so 0.01 is a frame-to-frame brightness wobble of
    about 2.5 grey levels). No motion compensation: it measures brightness and colour
    instability relative to the truth. 0 for identical videos; ``nan`` for a single frame.
    """
    check_videos_alike(pred, target)
    if pred.shape[0] < 2:
        return float("nan")
    # Integer arithmetic first, one division last: identical changes give exactly 0.
    pred_change = np.diff(pred.astype(np.int32), axis=0)
    target_change = np.diff(target.astype(np.int32), axis=0)
    return float(np.abs(pred_change - target_change).mean() / 255.0)
