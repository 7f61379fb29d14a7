"""``train_model``: build or load the pipeline, fit it with Lightning, save it loadable.

The output folder is a ``SeedVRPipeline.save_pretrained`` folder (safetensors + configs) plus
``training_summary.json``; it is written to a temporary name and renamed into place, so a
crashed run never leaves a folder that looks like a model. The folder holds no wall-clock
time (it is the train stage's DVC output, hashed in dvc.lock): the seconds a run took go to
an optional timings file beside it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from seedvr.config import Params
from seedvr.errors import SeedVRError
from seedvr.io import atomic_output
from seedvr.models.discriminator import PatchDiscriminator3D
from seedvr.modelstore.folder import is_pipeline_folder
from seedvr.modelstore.location import ensure_tracking_configured
from seedvr.modelstore.registered import current_champion
from seedvr.pipeline.loading import load_pipeline
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.pipeline.scheduler import HierarchicalRepairScheduler
from seedvr.train.datamodule import SeedVRDataModule
from seedvr.train.module import SeedVRLightningModule

ProgressHook = Callable[[dict], None]
LOGGER = logging.getLogger(__name__)
# TrainResult fields measured by the clock: they differ on every run, so they are kept out of
# training_summary.json and written to the timings file instead.
TIMING_FIELDS: tuple[str, ...] = ("seconds",)


@dataclass
class TrainResult:
    """What a training run produced, for logging and for the next stage."""

    out_dir: str
    epochs: int
    steps: int
    seconds: float
    perceptual_backend: str
    started_from: str = "scratch"  # the resolved init: scratch, a folder or a pinned models:/NAME/VERSION
    history: list[dict] = field(default_factory=list)  # one row of mean metrics per epoch

    def summary(self) -> dict:
        """``training_summary.json``: everything but the wall-clock fields."""
        return {key: value for key, value in asdict(self).items() if key not in TIMING_FIELDS}

    def timings(self) -> dict:
        """The timings file: the wall-clock fields, with the work they timed."""
        return {"epochs": self.epochs, "steps": self.steps, **{key: getattr(self, key) for key in TIMING_FIELDS}}

    def first_and_last(self, key: str) -> tuple[float, float]:
        values = [row[key] for row in self.history if key in row]
        if not values:
            raise KeyError(key)
        return values[0], values[-1]


class EpochHistory(Callback):
    """Keeps the epoch-level metrics and hands them to an optional progress hook."""

    def __init__(self, on_progress: ProgressHook | None = None):
        self.rows: list[dict] = []
        self.on_progress = on_progress

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        row = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        row.update({key: float(value) for key, value in trainer.callback_metrics.items() if value.numel() == 1})
        self.rows.append(row)
        if self.on_progress is not None and trainer.is_global_zero:
            self.on_progress({**row, "max_epochs": trainer.max_epochs})


def scheduler_from_params(params: Params) -> HierarchicalRepairScheduler:
    model = params.model
    return HierarchicalRepairScheduler(
        sampler=model.sampler,
        num_inference_steps=model.num_inference_steps,
        scales=tuple(model.scales),
        strengths=tuple(model.strengths),
        coarse_from_noise=model.coarse_from_noise,
    )


def shipped_base_model(params: Params) -> Path | None:
    """The base model folder the project ships (``pretrain.out``), if it is there."""
    path = Path(params.pretrain.out)
    return path if is_pipeline_folder(path) else None


def resolve_init(init: str, params: Params) -> str:
    """``auto`` -> the registered champion, pinned to its version (``models:/NAME/VERSION``),
    else the shipped base model (``pretrain.out``), else ``scratch``; any other value is
    returned as it is.

    Pinning the version means a promotion during training cannot change what was loaded.
    """
    if init != "auto":
        return init
    ensure_tracking_configured()
    name = params.register_.model_name
    version = current_champion(name)
    if version is not None:
        resolved = f"models:/{name}/{version}"
    else:
        base = shipped_base_model(params)
        resolved = "scratch" if base is None else str(base)
    LOGGER.info("train.init auto: starting from %s", resolved)
    return resolved


def load_initial_pipeline(init: str, params: Params) -> SeedVRPipeline:
    """The pipeline training starts from.

    ``scratch`` builds the configured preset; a folder continues from its weights;
    ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` from a registered version; ``auto``
    from the registered champion when one exists, else from the shipped base model.
    """
    init = resolve_init(init, params)
    if init == "scratch":
        return SeedVRPipeline.from_preset(params.model.preset, scheduler_from_params(params), seed=params.train.seed)
    return load_pipeline(init, label=f"--init {init}")


def build_trainer(params: Params, callbacks: list[Callback], checkpoint_dir: Path, loggers=False) -> L.Trainer:
    train = params.train
    return L.Trainer(
        accelerator=train.accelerator,
        devices=train.devices,
        strategy=train.strategy,
        precision=train.precision,
        max_epochs=train.max_epochs,
        max_steps=train.max_steps,
        max_time={"minutes": train.max_minutes} if train.max_minutes else None,
        # Adversarial training optimises manually, where Lightning refuses gradient_clip_val:
        # the module clips the generator's step itself with the same train.gradient_clip.
        gradient_clip_val=None if params.loss.adversarial > 0 else train.gradient_clip,
        reload_dataloaders_every_n_epochs=1,
        # save_top_k=1 without a monitor keeps the newest epoch: Lightning 2.6 writes last.ckpt
        # only when it saved a checkpoint that epoch, so save_top_k=0 would leave no
        # checkpoint to resume a long run from until the run ended.
        callbacks=callbacks + [ModelCheckpoint(dirpath=checkpoint_dir, save_last=True, save_top_k=1)],
        logger=loggers,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        deterministic=False,
    )


def train_model(
    params: Params,
    dataset_dir: str | Path,
    out_dir: str | Path,
    init: str | None = None,
    checkpoint_dir: str | Path | None = None,
    on_progress: ProgressHook | None = None,
    loggers=False,
    timings_file: str | Path | None = None,
) -> TrainResult:
    """Fine-tune the full model on ``dataset_dir`` and save a ``from_pretrained`` folder at ``out_dir``.

    ``timings_file``, when given, receives the run's wall-clock seconds as JSON
    (:meth:`TrainResult.timings`).
    """
    out_dir = Path(out_dir)
    if not out_dir.parent.is_dir():
        raise SeedVRError(f"output folder's parent does not exist: {out_dir.parent}")
    train = params.train
    L.seed_everything(train.seed, workers=True, verbose=False)
    started_from = resolve_init(init or train.init, params)
    pipeline = load_initial_pipeline(started_from, params)
    discriminator = PatchDiscriminator3D() if params.loss.adversarial > 0 else None
    module = SeedVRLightningModule.from_params(pipeline, train, params.loss, discriminator)
    loss = module.loss
    datamodule = SeedVRDataModule(
        dataset_dir,
        kinds=params.damage.kinds,
        mask_ratio=params.damage.mask_ratio,
        clip_frames=train.clip_frames,
        crop_size=train.crop_size,
        batch_size=train.batch_size,
        samples_per_epoch=train.samples_per_epoch,
        val_clips=train.val_clips,
        num_workers=train.num_workers,
        seed=train.seed,
    )
    history = EpochHistory(on_progress)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else out_dir.parent / f"{out_dir.name}-checkpoints"
    trainer = build_trainer(params, [history], checkpoint_dir, loggers)
    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=train.resume)
    seconds = time.perf_counter() - started

    result = TrainResult(
        out_dir=str(out_dir),
        epochs=trainer.current_epoch,
        steps=trainer.global_step,
        seconds=round(seconds, 2),
        perceptual_backend=loss.perceptual_backend,
        started_from=started_from,
        history=history.rows,
    )
    if trainer.is_global_zero:
        save_pipeline(module.pipeline, out_dir, summary=result.summary())
        if timings_file is not None:
            with atomic_output(timings_file) as staging:
                Path(staging).write_text(json.dumps(result.timings(), indent=2) + "\n")
    return result


def save_pipeline(pipeline: SeedVRPipeline, out_dir: Path, summary: dict | None = None) -> Path:
    """``save_pretrained`` (safetensors) into place atomically, with an optional summary JSON."""
    pipeline.to("cpu")
    with atomic_output(out_dir) as staging:
        pipeline.save_pretrained(str(staging), safe_serialization=True)
        if summary is not None:
            (Path(staging) / "training_summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return out_dir
