"""Per-video adaptation: fine-tune a copy of the pipeline on the video it is about to repair.

``seedvr repair --adapt STEPS`` spends a few dozen optimizer steps teaching the model the
one video it will repair, before repairing it. The video is its own training set:

* **samples** are windows of ``clip_frames`` consecutive frames and random square crops of
  the input (cut by the training data's own :func:`~seedvr.train.datamodule.random_crop`,
  flips and time reversal included), damaged with the project's synthetic damage
  (:func:`seedvr.data.damage.apply_damage`, a random kind per sample, as
  :class:`~seedvr.train.datamodule.RandomDamageClips` does);
* **targets are known pixels only**: the synthetic holes are clipped to the pixels outside the
  user's mask grown by ``margin`` pixels, so no loss ever compares the model with a pixel the
  user said is damaged. Outside a synthetic hole the training output is the input itself
  (compositing), so the user's damaged pixels there are context, never a target. Crops mostly
  covered by the user's mask are drawn again;
* **the loss is training's loss**: samples go through
  :func:`seedvr.train.samples.prepare_sample` and the loss is
  :meth:`SeedVRLightningModule.compute_losses`, built from :mod:`seedvr.config` defaults
  (weights, lr, weight decay, gradient clip), so a change to training reaches adaptation too;
* **a plain loop**: AdamW from the module's ``configure_optimizers``, norm clipping, modules in
  eval mode (no dropout: the same seed gives the same weights), at most ``steps`` steps or
  ``seconds`` of wall time, whichever ends first. The adversarial term, if configured, is left
  out (a discriminator does not learn anything useful in a few dozen steps).

Adaptation works on a deep copy unless the caller hands over a pipeline it owns
(``inplace=True``, as :func:`seedvr.engine.repair.repair_video` does with the copy it just
loaded from disk). Memory is the frames given plus one batch of crops.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
import torch

from seedvr.config import DamageParams, LossParams, TrainParams
from seedvr.data.damage import apply_damage, check_kinds, check_mask_ratio
from seedvr.errors import SeedVRError
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.train.datamodule import random_crop
from seedvr.train.module import SeedVRLightningModule
from seedvr.train.samples import prepare_sample
from seedvr.video_contract import check_video, check_video_and_masks

MAX_ADAPT_STEPS = 100_000
MIN_CROP = 8
DEFAULT_MARGIN = 4
# A crop is drawn again (up to this many times) while the user's mask covers more than
# MAX_UNKNOWN_FRACTION of it: such a crop has little to learn from and little room for a hole.
MAX_CROP_ATTEMPTS = 16
MAX_UNKNOWN_FRACTION = 0.5
# The before/after evaluation: a fixed batch of at least this many clips, each loss averaged
# over this many fixed noise draws (one draw of one small batch is mostly noise).
EVAL_CLIPS = 4
EVAL_NOISE_DRAWS = 2

ProgressHook = Callable[[int, int, float], None]  # (steps done, steps asked, last loss)


@dataclass
class AdaptReport:
    """What an adaptation did; ``repair_video`` puts ``to_dict()`` under ``details["adapt"]``."""

    steps: int  # optimizer steps done
    requested_steps: int
    seconds: float  # wall time of the whole adaptation (sampling, steps, evaluation)
    train_seconds: float  # wall time of the optimizer steps alone (what ``seconds=`` bounds)
    stopped_by: str  # "steps" or "seconds"
    samples: int  # training clips drawn (steps x batch size)
    frames: int  # frames the samples were cut from
    crop_size: int
    clip_frames: int
    batch_size: int
    lr: float
    seed: int
    margin: int
    perceptual_backend: str
    loss_first: float | None  # training loss of the first step
    loss_last: float | None  # training loss of the last step
    # The same fixed batch (fixed damage and noise) before and after: comparable, unlike
    # training losses, which see fresh damage and noise every step.
    eval_loss_before: float | None
    eval_loss_after: float | None
    losses: list[float] = field(default_factory=list)  # one training loss per step

    def to_dict(self) -> dict:
        return asdict(self)


class AdaptSample(NamedTuple):
    """One training clip cut from the video: ``uint8 [T, h, w, 3]`` clean (the video itself)
    and damaged, ``bool [T, h, w]`` synthetic ``hole`` and the crop's ``unknown`` pixels (the
    user's mask grown by the margin). ``hole & unknown`` is always empty."""

    clean: np.ndarray
    damaged: np.ndarray
    hole: np.ndarray
    unknown: np.ndarray


def check_adapt_request(steps: int, seconds: float | None = None) -> None:
    """The budget of an adaptation: ``0 <= steps <= MAX_ADAPT_STEPS``, ``seconds`` > 0 if given."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise SeedVRError(f"--adapt must be a whole number of steps, got {steps!r}")
    if steps < 0 or steps > MAX_ADAPT_STEPS:
        raise SeedVRError(f"--adapt must be between 0 and {MAX_ADAPT_STEPS} steps, got {steps}")
    if seconds is not None and not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise SeedVRError(f"--adapt-seconds must be a positive number of seconds, got {seconds!r}")


def patch_multiple(pipeline: SeedVRPipeline) -> int:
    """Crop sides are multiples of the denoiser's spatial patch (no padded half-patches)."""
    patch = getattr(pipeline.denoiser, "patch_size", None) or getattr(pipeline.denoiser.config, "patch_size", (1, 1, 1))
    return max(1, int(max(patch[1:]))) if len(patch) == 3 else 1


def adapt_crop_size(crop_size: int, height: int, width: int, multiple: int) -> int:
    """``min(crop_size, height, width)`` rounded down to ``multiple``; below ``MIN_CROP`` is an error."""
    side = min(int(crop_size), height, width)
    side = side // multiple * multiple if side >= multiple else side
    if side < MIN_CROP:
        raise SeedVRError(f"the video ({width}x{height}) is too small to adapt on: crops need at least {MIN_CROP} pixels a side")
    return side


def grow_mask(masks: np.ndarray, pixels: int) -> np.ndarray:
    """Every frame's mask dilated by ``pixels`` (square kernel: a margin in every direction)."""
    if pixels <= 0:
        return masks.astype(bool, copy=True)
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return np.stack([cv2.dilate(mask.astype(np.uint8), kernel) > 0 for mask in masks])


class KnownPixelSamples:
    """Training clips cut from the video being repaired, with synthetic holes on known pixels only.

    ``clips`` are one or more runs of consecutive frames (``uint8 [T, H, W, 3]``) with their
    masks (``[T, H, W]``, true = damaged, unknown). A sample never straddles two runs. The
    same (seed, key) always gives the same sample.
    """

    def __init__(
        self,
        clips: Sequence[np.ndarray],
        masks: Sequence[np.ndarray],
        clip_frames: int,
        crop_size: int,
        kinds: Sequence[str],
        mask_ratio: tuple[float, float],
        margin: int = DEFAULT_MARGIN,
        seed: int = 0,
    ):
        if len(clips) != len(masks) or not clips:
            raise SeedVRError("adaptation needs at least one clip of frames with its mask")
        self.kinds, self.mask_ratio = check_kinds(kinds), check_mask_ratio(mask_ratio)
        self.clip_frames, self.crop_size, self.margin, self.seed = clip_frames, crop_size, margin, seed
        # Frames and grown mask side by side in one array, so one random_crop call (flips and
        # time reversal included) cuts both the same way.
        self.runs: list[np.ndarray] = []
        known = 0
        for frames, mask in zip(clips, masks):
            unknown = grow_mask(check_video_and_masks(frames, mask), margin)
            known += int((~unknown).sum())
            self.runs.append(np.concatenate([frames, unknown[..., None].astype(np.uint8)], axis=-1))
        if known == 0:
            raise SeedVRError("no known pixels to adapt on: the mask (grown by the margin) covers the whole video")

    def draw(self, rng: np.random.Generator) -> AdaptSample:
        """One clip with a synthetic hole on known pixels, drawn from ``rng``."""
        best: AdaptSample | None = None
        for _ in range(MAX_CROP_ATTEMPTS):
            run = self.runs[int(rng.integers(len(self.runs)))]
            crop = random_crop(run, self.clip_frames, self.crop_size, rng)
            clean, unknown = np.ascontiguousarray(crop[..., :3]), crop[..., 3] > 0
            kind = self.kinds[int(rng.integers(len(self.kinds)))]
            damaged, hole, _ = apply_damage(clean, [kind], rng, self.mask_ratio)
            hole = hole & ~unknown
            if not hole.any():
                continue
            damaged = np.where(hole[..., None], damaged, clean)
            sample = AdaptSample(clean, damaged, hole, unknown)
            if unknown.mean() <= MAX_UNKNOWN_FRACTION:
                return sample
            if best is None or unknown.mean() < best.unknown.mean():
                best = sample
        if best is None:
            raise SeedVRError("the mask leaves too few known pixels to adapt on: every crop tried lies under it")
        return best

    def sample(self, *key: int) -> AdaptSample:
        return self.draw(np.random.default_rng([self.seed, *key]))

    def batch(self, size: int, *key: int) -> tuple[dict[str, torch.Tensor], list[AdaptSample]]:
        """``size`` samples prepared as training prepares them, stacked on a batch axis."""
        drawn = [self.sample(*key, index) for index in range(size)]
        prepared = [prepare_sample(s.clean, s.damaged, s.hole) for s in drawn]
        return {name: torch.stack([p[name] for p in prepared]) for name in prepared[0]}, drawn


def _as_runs(frames, masks) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if isinstance(frames, np.ndarray):
        return [frames], [np.asarray(masks)]
    return list(frames), [np.asarray(mask) for mask in masks]


def adapt_pipeline(
    pipeline: SeedVRPipeline,
    frames: np.ndarray | Sequence[np.ndarray],
    masks: np.ndarray | Sequence[np.ndarray],
    steps: int,
    *,
    seconds: float | None = None,
    crop_size: int | None = None,
    clip_frames: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    margin: int = DEFAULT_MARGIN,
    kinds: Sequence[str] | None = None,
    mask_ratio: tuple[float, float] | None = None,
    train_params: TrainParams | None = None,
    loss_params: LossParams | None = None,
    evaluate: bool = True,
    inplace: bool = False,
    dtype: torch.dtype | None = None,
    progress: ProgressHook | None = None,
) -> tuple[SeedVRPipeline, AdaptReport]:
    """Fine-tune a copy of ``pipeline`` on ``frames`` (known pixels only); returns it and a report.

    ``frames``: ``uint8 [T, H, W, 3]`` or a list of such runs of consecutive frames (e.g. evenly
    spaced excerpts of a long video); ``masks``: matching ``[T, H, W]``, true = damaged.
    Unset sizes and optimiser settings come from ``train_params`` (default
    :class:`~seedvr.config.TrainParams`), damage kinds and ratios from
    :class:`~seedvr.config.DamageParams`, loss weights from ``loss_params``. The crop side is
    ``min(crop_size, H, W)`` rounded down to the denoiser's patch. ``inplace=True`` trains
    ``pipeline`` itself (for a pipeline the caller owns); otherwise it is left untouched.
    Training runs in float32; the result is cast to ``dtype`` (default: the pipeline's own).

    ``seconds`` bounds the optimizer steps: the run stops at ``steps`` steps or when a step
    would start after ``seconds``, whichever comes first. Sampling set-up and the fixed-batch
    evaluation before and after (``evaluate``: a handful of forward passes) come on top.

    Raises:
        SeedVRError: steps outside ``[0, 100000]``, a non-positive time budget, a video too
            small to crop, no known pixel to learn from, or bad sizes.
    """
    check_adapt_request(steps, seconds)
    train = train_params or TrainParams()
    damage = DamageParams()
    crop_size = train.crop_size if crop_size is None else crop_size
    clip_frames = train.clip_frames if clip_frames is None else clip_frames
    batch_size = train.batch_size if batch_size is None else batch_size
    lr = train.lr if lr is None else lr
    for name, value in (("crop_size", crop_size), ("clip_frames", clip_frames), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise SeedVRError(f"adaptation {name} must be a positive integer, got {value!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr < 1):
        raise SeedVRError(f"adaptation lr must be between 0 and 1, got {lr!r}")
    if seed < 0 or margin < 0:
        raise SeedVRError(f"adaptation seed and margin must be >= 0, got seed {seed}, margin {margin}")

    evaluate = evaluate and steps > 0
    started = time.perf_counter()
    runs, run_masks = _as_runs(frames, masks)
    if not runs:
        raise SeedVRError("adaptation needs at least one clip of frames with its mask")
    for run in runs:
        check_video(run)
    height, width = min(run.shape[1] for run in runs), min(run.shape[2] for run in runs)
    side = adapt_crop_size(crop_size, height, width, patch_multiple(pipeline))
    clip_frames = min(clip_frames, min(len(run) for run in runs))  # one clip length: samples stack
    sampler = KnownPixelSamples(
        runs, run_masks, clip_frames, side, kinds or damage.kinds, mask_ratio or damage.mask_ratio, margin, seed
    )

    adapted = pipeline if inplace else copy.deepcopy(pipeline)
    loss_params = loss_params or LossParams()
    module = SeedVRLightningModule.from_params(adapted, train, loss_params, lr=lr, seed=seed)
    device, dtype = adapted.denoiser.device, dtype or adapted.denoiser.dtype
    # Optimiser state and updates in float32 whatever the inference precision; cast after.
    # (Through the LightningModule: nn.Module casting, without diffusers' per-model warning.)
    module.to(device=device, dtype=torch.float32)
    module.eval()  # no dropout or batch statistics: the same seed gives the same weights
    optimizer = module.configure_optimizers()
    parameters = [p for group in optimizer.param_groups for p in group["params"]]

    def on_device(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: value.to(device=device, dtype=torch.float32) for name, value in batch.items()}

    def fixed_loss(batch) -> float:
        totals = []
        with torch.no_grad():
            for draw in range(EVAL_NOISE_DRAWS):
                terms, _ = module.compute_losses(batch, generator=torch.Generator().manual_seed(seed + 1 + draw))
                totals.append(float(terms["total"]))
        return sum(totals) / len(totals)

    eval_batch = on_device(sampler.batch(max(batch_size, EVAL_CLIPS), 0)[0]) if evaluate else None
    eval_before = fixed_loss(eval_batch) if evaluate else None

    generator = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    stopped_by = "steps"
    train_started = time.perf_counter()
    with torch.enable_grad():
        for step in range(steps):
            if seconds is not None and time.perf_counter() - train_started >= seconds:
                stopped_by = "seconds"
                break
            batch, _ = sampler.batch(batch_size, 1, step)
            terms, _ = module.compute_losses(on_device(batch), generator=generator)
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            torch.nn.utils.clip_grad_norm_(parameters, train.gradient_clip)
            optimizer.step()
            losses.append(float(terms["total"].detach()))
            if progress is not None:
                progress(step + 1, steps, losses[-1])
    optimizer.zero_grad(set_to_none=True)
    train_seconds = time.perf_counter() - train_started
    eval_after = fixed_loss(eval_batch) if evaluate else None
    if dtype != torch.float32:
        module.to(dtype=dtype)

    report = AdaptReport(
        steps=len(losses),
        requested_steps=int(steps),
        seconds=round(time.perf_counter() - started, 3),
        train_seconds=round(train_seconds, 3),
        stopped_by=stopped_by,
        samples=len(losses) * batch_size,
        frames=sum(len(run) for run in runs),
        crop_size=side,
        clip_frames=clip_frames,
        batch_size=batch_size,
        lr=float(lr),
        seed=seed,
        margin=margin,
        perceptual_backend=module.loss.perceptual_backend,
        loss_first=round(losses[0], 6) if losses else None,
        loss_last=round(losses[-1], 6) if losses else None,
        eval_loss_before=None if eval_before is None else round(eval_before, 6),
        eval_loss_after=None if eval_after is None else round(eval_after, 6),
        losses=[round(value, 6) for value in losses],
    )
    return adapted, report
