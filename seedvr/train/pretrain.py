"""``pretrain_base_model``: the small base model the project ships.

The pipeline fine-tunes from this model (``train.init``) and ``seedvr repair`` uses it when no
model is given. It is trained on data closer to real footage than the DVC pipeline's tiny
procedural clips: a camera moving over *every* photograph at hand (the eight bundled with
scikit-image and the real photographs of the footage cache, :mod:`seedvr.data.footage`),
sprites of other photos crossing it, light drifting, rendered at ``pretrain.width`` x
``pretrain.height`` and damaged with every kind. ``pretrain.footage_clips`` clips of real video
can join them, read from the footage videos outside every frame the real-footage benchmark
uses (:class:`~seedvr.data.footage.FootageSources`): no benchmark frame is used for training.
``pretrain.init`` starts from scratch or continues a pipeline folder's weights.

The output folder is a ``from_pretrained`` pipeline folder plus ``README.md``, a model card
(data, steps, wall time, the git commit of the code that made it, the command).
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

from seedvr.config import Params
from seedvr.data.build import build_damaged_dataset
from seedvr.data.footage import FootageSources, write_footage_sources
from seedvr.data.photos import PHOTO_NAMES
from seedvr.data.synth import generate_source_clips
from seedvr.errors import SeedVRError
from seedvr.train.fit import ProgressHook, TrainResult, train_model

MODEL_CARD = "README.md"


def pretraining_params(params: Params) -> Params:
    """``params`` with the train section set from the ``pretrain`` section (from scratch)."""
    pretrain = params.pretrain
    train = params.train.model_copy(
        update=dict(
            init=pretrain.init,
            out=pretrain.out,
            seed=pretrain.seed,
            crop_size=pretrain.crop_size,
            clip_frames=pretrain.clip_frames,
            batch_size=pretrain.batch_size,
            samples_per_epoch=pretrain.samples_per_epoch,
            max_epochs=pretrain.max_epochs,
            max_minutes=pretrain.max_minutes,
            lr=pretrain.lr,
        )
    )
    return params.model_copy(update={"train": train})


def build_pretraining_data(
    params: Params,
    photos: Sequence[str],
    footage: FootageSources | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Render the source clips over ``photos``, add ``pretrain.footage_clips`` clips of real
    video from ``footage``, and damage them all; returns the dataset folder."""
    pretrain = params.pretrain
    work = Path(pretrain.work)
    work.mkdir(parents=True, exist_ok=True)
    sources, damaged = work / "sources", work / "damaged"
    generate_source_clips(
        sources,
        pretrain.clips,
        pretrain.frames,
        pretrain.width,
        pretrain.height,
        pretrain.seed,
        fps=Fraction(24),
        progress=progress,
        photos=list(photos),
        sway_share=pretrain.sway_share,
    )
    if pretrain.footage_clips and footage is None:
        raise SeedVRError(f"pretrain.footage_clips is {pretrain.footage_clips} but no footage videos were given")
    # Called with none asked for too: it removes the footage clips an earlier run left there.
    size = (pretrain.frames, pretrain.width, pretrain.height)
    write_footage_sources(sources, pretrain.footage_clips, footage or FootageSources({}, {}), *size, pretrain.seed)
    build_damaged_dataset(
        sources,
        damaged,
        seed=pretrain.seed,
        kinds=params.damage.kinds,
        mask_ratio=params.damage.mask_ratio,
        val_fraction=0.1,
        test_fraction=0.0,
        progress=progress,
    )
    return damaged


def write_model_card(
    out_dir: Path, params: Params, result: TrainResult, photos: Sequence[str], commit: str | None, command: str
) -> None:
    """A model card next to the weights: what it was trained on, how long, by which code."""
    pretrain = params.pretrain
    last = result.history[-1] if result.history else {}
    bundled = sum(1 for photo in photos if photo in PHOTO_NAMES)
    lines = [
        "# seedvr-base",
        "",
        "The base repair model shipped with SeedVR Repair (`SeedVRPipeline.from_pretrained`).",
        "",
        f"- preset: `{params.model.preset}`, sampler {params.model.sampler}, "
        f"{params.model.num_inference_steps} steps, scales {list(params.model.scales)}, strengths {list(params.model.strengths)}",
        f"- data: {pretrain.clips} procedural clips of {pretrain.frames} frames at {pretrain.width}x{pretrain.height} "
        + (f"(a share of {pretrain.sway_share:g} swaying) " if pretrain.sway_share else "")
        + f"over {len(photos)} photographs ({bundled} from scikit-image, {len(photos) - bundled} real "
        "photographs from the opencv-python-headless 4.12.0.88 source distribution)"
        + (
            f" and {pretrain.footage_clips} clips of its sample videos, from frames no benchmark case reads"
            if pretrain.footage_clips
            else ""
        )
        + f", damage kinds {', '.join(params.damage.kinds)}, mask ratio {list(params.damage.mask_ratio)}; "
        "no benchmark frame",
        f"- training: from {pretrain.init}, {result.steps} steps "
        f"({result.epochs} epochs of {pretrain.samples_per_epoch} samples), "
        f"crops {pretrain.crop_size}x{pretrain.crop_size}x{pretrain.clip_frames}, batch {pretrain.batch_size}, "
        f"AdamW lr {pretrain.lr:g}, wall time {result.seconds / 60:.1f} min on {platform.machine()} CPU",
        f"- last validation: loss {last.get('val_loss', float('nan')):.4f}, psnr in the mask "
        f"{last.get('val/psnr_mask', float('nan')):.2f} dB vs propagation "
        f"{last.get('val/psnr_mask_propagation', float('nan')):.2f} dB",
        f"- perceptual term: {result.perceptual_backend}",
        f"- code: git commit `{commit or 'unknown'}`",
        f"- reproduce: `{command}`",
        "",
        "Benchmark on real footage: `python benchmarks/bench_quality.py` (results in",
        "`benchmarks/results/bench_quality.json`).",
        "",
    ]
    (out_dir / MODEL_CARD).write_text("\n".join(lines))
    (out_dir / "pretraining.json").write_text(json.dumps({"params": params.pretrain.model_dump(), "commit": commit}, indent=2))


def pretrain_base_model(
    params: Params,
    photos: Sequence[str],
    commit: str | None = None,
    command: str = "seedvr pretrain",
    on_progress: ProgressHook | None = None,
    resume: str | None = None,
    footage: FootageSources | None = None,
) -> TrainResult:
    """Build the pretraining data (real video from ``footage`` when ``pretrain.footage_clips``
    asks for it), train from ``pretrain.init``, save ``pretrain.out`` with its model card."""
    settings = pretraining_params(params)
    if resume is not None:
        settings = settings.model_copy(update={"train": settings.train.model_copy(update={"resume": resume})})
    dataset = build_pretraining_data(settings, photos, footage)
    out_dir = Path(settings.pretrain.out)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    result = train_model(
        settings,
        dataset,
        out_dir,
        init=settings.train.init,
        checkpoint_dir=Path(settings.pretrain.work) / "checkpoints",
        on_progress=on_progress,
    )
    write_model_card(out_dir, settings, result, photos, commit, command)
    return result
