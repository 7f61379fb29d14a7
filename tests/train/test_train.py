"""Training: the loss goes down, the output folder loads, fine-tuning continues, resume, DDP."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from seedvr.config import Params
from seedvr.errors import SeedVRError
from seedvr.losses import SeedVRLoss
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.train.datamodule import RandomDamageClips, SeedVRDataModule
from seedvr.train.fit import load_initial_pipeline, train_model
from seedvr.train.module import SeedVRLightningModule

# init scratch: the default (`auto`, as in params.yaml) would look up the registry's champion
# and start from the shipped base model, not the tiny preset these tests build.
TINY_TRAIN = {
    "init": "scratch",
    "crop_size": 32,
    "clip_frames": 4,
    "batch_size": 2,
    "samples_per_epoch": 2,
    "max_epochs": 1,
    "val_clips": 1,
    "val_steps": 1,
}


def tiny_params(**train) -> Params:
    return Params.model_validate({"train": {**TINY_TRAIN, **train}, "model": {"num_inference_steps": 4}})


@pytest.fixture(scope="module")
def trained(tiny_dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "model"
    result = train_model(
        tiny_params(max_epochs=2), tiny_dataset_dir, out, init="scratch", timings_file=out.parent / "timings.json"
    )
    return out, result


def test_training_writes_a_loadable_pipeline_with_its_history(trained):
    out, result = trained
    assert (out / "model_index.json").is_file()
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["steps"] == result.steps == 2 and len(summary["history"]) == 2
    assert {"val_loss", "val/psnr_mask", "val/psnr_mask_propagation"} <= set(summary["history"][-1])
    assert summary["perceptual_backend"] == "structural"  # no VGG16 weights on this machine
    # The folder is the train stage's DVC output: no wall-clock time in it; that goes beside it.
    assert "seconds" not in summary
    timings = json.loads((out.parent / "timings.json").read_text())
    assert timings == {"epochs": result.epochs, "steps": 2, "seconds": result.seconds} and result.seconds > 0
    SeedVRPipeline.from_pretrained(str(out))
    assert not list(out.parent.glob(".*seedvr-tmp*"))


def test_the_loss_goes_down_when_fitting_a_batch(tiny_dataset_dir):
    params = tiny_params()
    torch.manual_seed(0)
    module = SeedVRLightningModule(SeedVRPipeline.from_preset("tiny", seed=0), SeedVRLoss.from_params(params.loss))
    datamodule = SeedVRDataModule(tiny_dataset_dir, params.damage.kinds, params.damage.mask_ratio, clip_frames=4, crop_size=32)
    datamodule.setup()
    samples = [RandomDamageClips(datamodule.train_clips, 4, 32, 2, ["stroke"], (0.1, 0.2))[i] for i in range(2)]
    batch = torch.utils.data.default_collate(samples)
    optimizer = torch.optim.AdamW(module.parameters(), lr=2e-3)

    def loss_with_fixed_noise() -> float:
        with torch.no_grad():
            return float(module.compute_losses(batch, generator=torch.Generator().manual_seed(1))[0]["total"])

    before = loss_with_fixed_noise()
    for step in range(12):
        terms, _ = module.compute_losses(batch, generator=torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        terms["total"].backward()
        optimizer.step()
    assert loss_with_fixed_noise() < 0.8 * before


def test_fine_tuning_starts_from_the_folder_weights(trained):
    out, _ = trained
    saved = SeedVRPipeline.from_pretrained(str(out))
    loaded = load_initial_pipeline(str(out), tiny_params())
    for name in ("denoiser", "temporal_encoder", "detail_net", "texture_net"):
        for (key, a), (_, b) in zip(getattr(saved, name).state_dict().items(), getattr(loaded, name).state_dict().items()):
            assert torch.equal(a, b), f"{name}.{key} differs"
    fresh = SeedVRPipeline.from_preset("tiny", seed=0)
    assert any(not torch.equal(a, b) for a, b in zip(fresh.denoiser.parameters(), saved.denoiser.parameters()))


def test_resume_from_the_last_checkpoint_continues_the_step_count(trained, tiny_dataset_dir, tmp_path):
    out, _ = trained
    checkpoint = out.parent / "model-checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    result = train_model(tiny_params(max_epochs=3, resume=str(checkpoint)), tiny_dataset_dir, tmp_path / "resumed")
    assert result.steps == 3


def test_fresh_damage_every_epoch_and_deterministic_samples(tiny_dataset_dir):
    datamodule = SeedVRDataModule(tiny_dataset_dir, ("stroke", "dust"), (0.05, 0.2), clip_frames=4, crop_size=32)
    datamodule.setup()
    make = lambda epoch: RandomDamageClips(datamodule.train_clips, 4, 32, 2, ("stroke", "dust"), (0.05, 0.2), seed=0, epoch=epoch)  # noqa: E731
    first, again, next_epoch = make(0)[0], make(0)[0], make(1)[0]
    assert torch.equal(first["mask"], again["mask"]) and torch.equal(first["frames"], again["frames"])
    assert not torch.equal(first["mask"], next_epoch["mask"])
    outside = first["mask"] == 0
    assert torch.equal(
        first["frames"].masked_select(outside.expand_as(first["frames"])),
        first["clean"].masked_select(outside.expand_as(first["clean"])),
    )


def test_two_process_ddp_spawn_on_cpu(tiny_dataset_dir, tmp_path):
    params = tiny_params(strategy="ddp_spawn", devices=2, max_steps=1, max_epochs=1, samples_per_epoch=4)
    train_model(params, tiny_dataset_dir, tmp_path / "ddp")
    # The workers' weights come back to the main process, which saves them.
    trained = SeedVRPipeline.from_pretrained(str(tmp_path / "ddp"))
    initial = SeedVRPipeline.from_preset("tiny", seed=params.train.seed)
    assert any(not torch.equal(a, b) for a, b in zip(initial.denoiser.parameters(), trained.denoiser.parameters()))


@pytest.mark.parametrize("init", ["/nonexistent/folder", "not-a-model"])
def test_bad_init_is_one_clear_error(init):
    with pytest.raises(SeedVRError):
        load_initial_pipeline(init, tiny_params())


def test_a_missing_dataset_is_one_clear_error(tmp_path):
    with pytest.raises(SeedVRError):
        train_model(tiny_params(), tmp_path / "nothing", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_random_crop_shapes(tiny_dataset_dir):
    from seedvr.train.datamodule import random_crop

    clip = np.zeros((6, 32, 48, 3), np.uint8)
    assert random_crop(clip, 4, 32, np.random.default_rng(0)).shape == (4, 32, 32, 3)
    assert random_crop(clip, 10, 64, np.random.default_rng(0)).shape == (6, 32, 48, 3)


def test_adversarial_training_clips_with_the_configured_gradient_clip(tiny_dataset_dir, tmp_path, monkeypatch):
    """Manual optimisation (adversarial) cannot use the Trainer's clip: the module clips with train.gradient_clip."""
    clips = []
    original = SeedVRLightningModule.clip_gradients

    def recording(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        clips.append((gradient_clip_val, gradient_clip_algorithm))
        return original(self, optimizer, gradient_clip_val=gradient_clip_val, gradient_clip_algorithm=gradient_clip_algorithm)

    monkeypatch.setattr(SeedVRLightningModule, "clip_gradients", recording)
    params = Params.model_validate(
        {
            "train": {**TINY_TRAIN, "gradient_clip": 0.25, "max_steps": 1},
            "model": {"num_inference_steps": 4},
            "loss": {"adversarial": 0.1},
        }
    )
    train_model(params, tiny_dataset_dir, tmp_path / "adversarial")
    assert clips == [(0.25, "norm")]


def test_the_trainer_clips_with_the_configured_gradient_clip(tmp_path):
    from seedvr.train.fit import build_trainer

    assert build_trainer(tiny_params(gradient_clip=0.25), [], tmp_path).gradient_clip_val == 0.25


@pytest.mark.parametrize("prediction_type", ["sample", "epsilon", "v_prediction"])
def test_every_prediction_type_the_schema_accepts_trains(prediction_type):
    params = tiny_params(prediction_type=prediction_type)
    module = SeedVRLightningModule.from_params(SeedVRPipeline.from_preset("tiny", seed=0), params.train, params.loss)
    clean = torch.zeros(1, 2, 3, 8, 8)
    error = module.diffusion_error(clean + 0.1, clean, clean, torch.tensor([10]), torch.ones(1, 2, 1, 8, 8))
    assert torch.isfinite(error) and error > 0


def test_an_unknown_prediction_type_is_one_clear_error():
    with pytest.raises(SeedVRError, match="prediction_type"):
        SeedVRLightningModule(
            SeedVRPipeline.from_preset("tiny", seed=0), SeedVRLoss.from_params(Params().loss), prediction_type="x0"
        )
