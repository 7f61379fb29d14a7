"""Temporal-consistency metrics: warping error (E_warp), tOF and flicker.

Flow convention (``seedvr.models.flow``): ``farneback_flow(a, b)`` returns ``f`` with
``a(p) ≈ b(p + f(p))``, so ``backward_warp(b, f)`` redraws ``a``. ``estimate_video_flows``
returns ``forward[t] = farneback_flow(frame t, frame t+1)`` and
``backward[t] = farneback_flow(frame t+1, frame t)``.
"""

from __future__ import annotations

import numpy as np
import torch

from seedvr.metrics._inputs import check_videos
from seedvr.models.flow import estimate_video_flows, farneback_flow
from seedvr.models.warp import backward_warp

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
    check_videos(pred, target)
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


def tof(pred: np.ndarray, target: np.ndarray, target_forward: np.ndarray | None = None, max_side: int = 256) -> float:
    """tOF of TecoGAN (Chu et al. 2020): how far the output's motion is from the truth's.

    For each pair (t, t+1), Farneback flow of the output and of the ground truth; tOF is
    the mean absolute difference of the two flow fields (both components, every pixel),
    averaged over pairs, in pixels, not rescaled. Flows are estimated by
    ``seedvr.models.flow.farneback_flow`` (OpenCV Farneback on frames reduced to
    ``max_side``, vectors returned in full-resolution pixels). Lower is better; identical
    videos score 0. ``target_forward`` (the ``forward`` output of
    ``estimate_video_flows(target)``) may be passed to avoid recomputing it. Returns
    ``nan`` for a single-frame clip.
    """
    check_videos(pred, target)
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
    check_videos(pred, target)
    if pred.shape[0] < 2:
        return float("nan")
    # Integer arithmetic first, one division last: identical changes give exactly 0.
    pred_change = np.diff(pred.astype(np.int32), axis=0)
    target_change = np.diff(target.astype(np.int32), axis=0)
    return float(np.abs(pred_change - target_change).mean() / 255.0)
