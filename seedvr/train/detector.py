"""Training the damage detector on the project's own synthetic film damage: the masks are the labels.

Data: procedural clips (:mod:`seedvr.data.synth`: a camera moving over a photograph, sprites
crossing it, light drifting) rendered at ``detector.width`` x ``detector.height`` (a share,
``detector.small_share``, at ``detector.small_size``: generated damage is drawn in proportion
to the frame, so a net trained at one size alone misses the thinner lines and specks of small
frames or the wider ones of large frames), each damaged once by the generators of
:mod:`seedvr.data.damage` with one film kind (scratch, blotch, dust) or all three, or left
clean (``detector.clean_share``), so false positives on texture, edges and motion are learned
against. A share of the clips, spread evenly over them
(``detector.destroyed_share``; clean ones stay clean), loses everything under its mask first
(:mod:`seedvr.data.damage.destroy`): a hole whose faint paint shows little, found by its
grain. Also clips of real video (:func:`footage_clips`, ``detector.footage_clips``: compression,
noise and real motion, damaged or left clean in the same proportions) from frames the
real-footage benchmark does not use, and optionally the film-damage clips of a damaged dataset
(:func:`manifest_clips`, the DVC ``damage`` stage's output). Cue maps (:mod:`seedvr.ops.damage_cues`) are
computed once per clip, as many as the detector reads; batches are random crops of random frames. One sample in ten is shown
as a lone frame (no neighbours, no temporal cue), as detection sees clips under 3 frames.

Loss: binary cross-entropy with the damaged pixels weighted up by the batch's class ratio
(capped, so the net does not buy recall with false positives) plus a soft Dice term on the
batch, which rewards getting thin scratches' outlines right where per-pixel BCE barely
notices them. Plain torch loop (no Lightning: one net, one optimiser, no validation loop),
AdamW with the learning rate decayed linearly to a tenth; seed-deterministic on a CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seedvr.config import DetectorParams
from seedvr.data.damage.apply import apply_damage, draw_damage_masks
from seedvr.data.damage.destroy import destroy_under_mask
from seedvr.data.dataset import ManifestClipDataset, load_damaged_clip
from seedvr.data.footage import FootageSources, footage_views
from seedvr.data.manifest import KIND_SEPARATOR
from seedvr.data.synth import make_clip_spec, render_clip
from seedvr.models.detector import DamageDetector, neighbour_stack, new_detector, with_cue_channels
from seedvr.ops.damage_cues import CUE_CHANNELS, TEMPORAL_CUES, damage_cues

#: Damage kinds the detector is trained to find (film damage); "film" is all three at once.
FILM_KINDS: tuple[str, ...] = ("scratch", "blotch", "dust")
CLIP_KINDS: tuple[str, ...] = (*FILM_KINDS, "film")
CLEAN = "clean"

#: Range the opacity factor of a faint clip's damage is drawn from (``detector.faint_share``).
#: Real damage is often faint: a dark speck on dark foliage, a worn blotch's rim. On the
#: real-footage blind cases the damage the detector never saw (probability under 0.05) differs
#: from the picture by a median 30-34 grey levels, where the generators' dirt (greys 6-70 or
#: 185-252 at opacity 0.75-1) mostly stands 60-150 levels off it.
FAINT_OPACITY: tuple[float, float] = (0.2, 0.6)

# Share of samples shown as a lone frame (neighbours = itself, temporal cue zero).
_LONE_FRAME_SHARE = 0.1
# Largest weight of a damaged pixel against an intact one in the BCE term.
_MAX_POSITIVE_WEIGHT = 4.0
# The learning rate falls linearly from lr to lr * _FINAL_LR_SHARE over the steps.
_FINAL_LR_SHARE = 0.1

ProgressHook = Callable[[int, float], None]  # (step, loss)


@dataclass(eq=False)
class LabelledClip:
    """A clip with its true damage: ``frames uint8 [T, H, W, 3]``, ``mask bool [T, H, W]``;
    ``kind`` is a film kind, ``film`` or ``clean``. Its cue maps are computed when a detector
    first needs them (:meth:`cues`), as many as it reads: clips that are only scored (detection
    computes the cues from the frames itself) never compute them."""

    kind: str
    frames: np.ndarray
    mask: np.ndarray
    _cues: np.ndarray | None = field(default=None, repr=False)

    def cues(self, channels: int) -> np.ndarray:
        """The first ``channels`` cue maps ``float32 [T, channels, H, W]`` (kept once computed)."""
        if self._cues is None or self._cues.shape[1] < channels:
            self._cues = damage_cues(self.frames, channels=channels)
        return self._cues[:, :channels]


@dataclass
class DetectorTrainResult:
    detector: DamageDetector
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)


def clip_kinds(count: int, clean_share: float) -> list[str]:
    """The kind of each of ``count`` clips: ``clean_share`` of them clean, the rest cycling
    through :data:`CLIP_KINDS`, so every kind gets its share whatever the count."""
    clean = int(round(count * clean_share))
    return [CLIP_KINDS[index % len(CLIP_KINDS)] for index in range(count - clean)] + [CLEAN] * clean


@dataclass(frozen=True)
class ClipRecipe:
    """How training clips are made: ``frames`` frames of ``width`` x ``height``, damaged with
    masks covering ``mask_ratio`` of them, ``destroyed_share`` of the clips (spread evenly) over
    a destroyed hole (:func:`~seedvr.data.damage.destroy.destroy_under_mask`) instead of over
    the picture; ``small_share`` of them (spread evenly) rendered at ``small_size`` (width,
    height) instead; a ``sway_share`` of them (drawn) with the picture swaying as foliage does
    (:class:`~seedvr.data.synth.SwaySpec`); the damage of a ``faint_share`` of the damaged
    clips (spread evenly) painted at a fraction of its opacity (drawn in :data:`FAINT_OPACITY`),
    that of a ``repainted_share`` of them (spread evenly) in a style drawn afresh (any colour,
    flat or grainy, hard or soft edges) for the ``repainted_kinds`` among its kinds, and
    damaged pixels labelled as such only where they differ from the clean picture by at least
    ``visible_level`` grey levels (0: every pixel under the mask); every draw from ``seed``."""

    frames: int
    width: int
    height: int
    mask_ratio: tuple[float, float]
    seed: int
    destroyed_share: float = 0.0
    small_size: tuple[int, int] | None = None
    small_share: float = 0.0
    sway_share: float = 0.0
    faint_share: float = 0.0
    visible_level: int = 0
    repainted_share: float = 0.0
    repainted_kinds: tuple[str, ...] = FILM_KINDS

    @classmethod
    def of(cls, params: DetectorParams) -> ClipRecipe:
        """The recipe of ``params``' training clips."""
        return cls(
            params.frames,
            params.width,
            params.height,
            params.mask_ratio,
            params.seed,
            params.destroyed_share,
            params.small_size,
            params.small_share,
            params.sway_share,
            params.faint_share,
            params.visible_level,
            params.repainted_share,
            tuple(params.repainted_kinds),
        )

    def size_of(self, index: int) -> tuple[int, int]:
        """``(width, height)`` of clip ``index``."""
        if self.small_size is not None and _in_share(index, self.small_share):
            return self.small_size
        return self.width, self.height


def _in_share(index: int, share: float) -> bool:
    """Whether item ``index`` is one of the ``share`` of items picked evenly spread, without a
    random draw (so a share of 0 leaves every draw of the other items as it was)."""
    return int((index + 1) * share) > int(index * share)


def labelled_clips(kinds: Sequence[str], photos: Sequence[str], recipe: ClipRecipe) -> list[LabelledClip]:
    """Render one procedural clip per entry of ``kinds`` over ``photos`` (backgrounds in turn),
    damage it with that kind (none for ``clean``) and compute its cues, as ``recipe`` says."""
    rng = np.random.default_rng(recipe.seed)
    clips = []
    for index, kind in enumerate(kinds):
        background = photos[index % len(photos)]
        size = (recipe.frames, *recipe.size_of(index))
        spec = make_clip_spec(rng, f"clip_{index:04d}", background, *size, Fraction(24), photos, recipe.sway_share)
        clips.append(_damaged_clip(kind, render_clip(spec), rng, recipe, index))
    return clips


def footage_clips(
    kinds: Sequence[str], videos: Mapping[str, Path], taken: Mapping[str, Sequence[tuple[int, int]]], recipe: ClipRecipe
) -> list[LabelledClip]:
    """One clip of real video per entry of ``kinds``, damaged as :func:`labelled_clips` damages
    procedural ones (``recipe``). Sources are ``videos`` (``{name: path}``) in turn; frames are
    read only outside each source's ``taken`` ranges (the real-footage benchmark's clips,
    :func:`~seedvr.evaluate.real_footage.benchmark_frames`).

    What procedural clips lack and real video has: compression blocks and ringing, sensor
    noise, foliage and crowds in motion, which the temporal cue alone takes for damage. Each
    clip is a random crop (a quarter of the frame's side up to all of it, at ``width:height``)
    reduced to ``width`` x ``height``.
    """
    rng = np.random.default_rng(recipe.seed)
    views = footage_views(len(kinds), FootageSources(videos, taken), recipe.frames, recipe.width, recipe.height, rng)
    # One clip at a time: each is damaged from the same rng before the next view is drawn.
    return [_damaged_clip(kind, clean, rng, recipe, index) for index, (kind, clean) in enumerate(zip(kinds, views))]


def _damaged_clip(kind: str, clean: np.ndarray, rng: np.random.Generator, recipe: ClipRecipe, index: int) -> LabelledClip:
    """``clean`` (clip ``index``) damaged with ``kind`` (none for ``clean``), with its cues."""
    film = FILM_KINDS if kind == "film" else (kind,)
    destroyed = _in_share(index, recipe.destroyed_share)
    if kind == CLEAN:
        damaged, mask = clean, np.zeros(clean.shape[:3], dtype=bool)
    elif destroyed:
        drawn = draw_damage_masks(clean.shape[:3], film, rng, recipe.mask_ratio)
        damaged = destroy_under_mask(clean, drawn.mask, drawn.styled_layers(), int(rng.integers(2**31)))
        mask = drawn.mask
    else:
        opacity = float(rng.uniform(*FAINT_OPACITY)) if _in_share(index, recipe.faint_share) else 1.0
        repaint = recipe.repainted_kinds if _in_share(index, recipe.repainted_share) else ()
        damaged, mask, _ = apply_damage(clean, film, rng, recipe.mask_ratio, opacity, repaint)
        if recipe.visible_level:
            # Paint whose grey is the picture's leaves nothing to find: not labelled damage.
            mask &= np.abs(damaged.astype(np.int16) - clean).max(axis=-1) >= recipe.visible_level
    return LabelledClip(kind, damaged, mask)


def manifest_clips(dataset: str | Path, split: str = "train", with_clean: bool = False) -> list[LabelledClip]:
    """The film-damage clips of a damaged dataset (``manifest.csv``, e.g. the ``damage`` stage's
    ``work/damaged``): rows whose kinds are all film kinds, labelled with their one kind or
    ``film``. Other kinds (strokes, objects, logos) are not film damage and are left out.
    ``with_clean``: each is followed by its clean video, labelled ``clean`` (no damage), the
    false positives to learn against or to count."""
    data = ManifestClipDataset(dataset, split)
    clips = []
    for _, row in data.rows.iterrows():
        kinds = str(row["damage_kinds"]).split(KIND_SEPARATOR)
        if not set(kinds) <= set(FILM_KINDS):
            continue
        clip = load_damaged_clip(row, data.root)
        kind = kinds[0] if len(kinds) == 1 else "film"
        clips.append(LabelledClip(kind, clip["damaged"], clip["mask"]))
        if with_clean:
            clean = clip["clean"]
            clips.append(LabelledClip(CLEAN, clean, np.zeros(clean.shape[:3], dtype=bool)))
    return clips


def sample_batch(
    clips: Sequence[LabelledClip], rng: np.random.Generator, batch_size: int, crop: int, cue_channels: int = CUE_CHANNELS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random crops of random frames: detector frames, the first ``cue_channels`` cues (those
    the detector reads) and labels (``float`` {0, 1}).

    Crops are ``crop`` pixels square, or the first drawn clip's side where it is smaller; the
    rest of the batch is drawn among the clips that hold a crop of that size, so clips of
    several sizes share batches and a batch still stacks."""
    first = clips[int(rng.integers(len(clips)))]
    size_y, size_x = min(crop, first.mask.shape[1]), min(crop, first.mask.shape[2])
    fitting = [clip for clip in clips if clip.mask.shape[1] >= size_y and clip.mask.shape[2] >= size_x]
    frames, cues, labels = [], [], []
    for index in range(batch_size):
        clip = first if index == 0 else fitting[int(rng.integers(len(fitting)))]
        count, height, width = clip.mask.shape
        t = int(rng.integers(count))
        top, left = int(rng.integers(height - size_y + 1)), int(rng.integers(width - size_x + 1))
        window = (slice(top, top + size_y), slice(left, left + size_x))
        lone = rng.random() < _LONE_FRAME_SHARE
        around = [t, t, t] if lone else [max(t - 1, 0), t, min(t + 1, count - 1)]
        frames.append(neighbour_stack(clip.frames[around][:, window[0], window[1]])[1])
        cue = clip.cues(cue_channels)[t][:, window[0], window[1]].copy()
        if lone:
            cue[:TEMPORAL_CUES] = 0.0  # no temporal cue for a lone frame
        cues.append(torch.from_numpy(cue))
        labels.append(torch.from_numpy(clip.mask[t][window].astype(np.float32)))
    return torch.stack(frames), torch.stack(cues), torch.stack(labels)


def detection_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Class-balanced BCE (positive weight capped) plus soft Dice over the batch."""
    positives = labels.sum()
    negatives = labels.numel() - positives
    weight = (negatives / positives.clamp(min=1.0)).clamp(1.0, _MAX_POSITIVE_WEIGHT)
    bce = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=weight)
    probabilities = torch.sigmoid(logits)
    dice = 1.0 - (2.0 * (probabilities * labels).sum() + 1.0) / (probabilities.sum() + positives + 1.0)
    return bce + dice


def train_detector(
    clips: Sequence[LabelledClip],
    params: DetectorParams,
    progress: ProgressHook | None = None,
    progress_every: int = 100,
    init: DamageDetector | None = None,
) -> DetectorTrainResult:
    """Train a detector for ``params.steps`` steps or ``params.max_minutes`` (``None``: no
    wall-clock budget), whichever ends first: a fresh one (seed ``params.seed``) reading
    ``params.cue_channels`` cue maps, or ``init`` itself when given (fine-tuning,
    :mod:`seedvr.train.detector_finetune`), widened to ``params.cue_channels`` when it reads fewer
    (:func:`~seedvr.models.detector.with_cue_channels`: a leg that adds a cue)."""
    torch.manual_seed(params.seed)
    rng = np.random.default_rng(params.seed)
    if init is None:
        detector = new_detector(params.seed, channels=params.channels, cue_channels=params.cue_channels)
    else:
        detector = with_cue_channels(init, params.cue_channels)
    detector.train()
    for clip in clips:
        clip.cues(detector.config.cue_channels)  # computed before the wall-clock budget starts
    optimiser = torch.optim.AdamW(detector.parameters(), lr=params.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 1.0 - (1.0 - _FINAL_LR_SHARE) * min(step / max(params.steps, 1), 1.0)
    )
    deadline = math.inf if params.max_minutes is None else time.perf_counter() + params.max_minutes * 60.0
    started = time.perf_counter()
    losses: list[float] = []
    for step in range(1, params.steps + 1):
        frames, cues, labels = sample_batch(clips, rng, params.batch_size, params.crop_size, detector.config.cue_channels)
        loss = detection_loss(detector(frames, cues), labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if progress is not None and step % progress_every == 0:
            progress(step, float(np.mean(losses[-progress_every:])))
        if time.perf_counter() >= deadline:
            break
    detector.eval()
    return DetectorTrainResult(detector, len(losses), time.perf_counter() - started, losses)
