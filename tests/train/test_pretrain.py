"""``seedvr pretrain`` end to end at a tiny size: data over given photos, a loadable model, a card."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from seedvr.config import Params
from seedvr.data.footage import FootageSources
from seedvr.data.photos import PHOTO_NAMES
from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.train.pretrain import pretrain_base_model, pretraining_params


def tiny_params(tmp_path) -> Params:
    params = Params()
    pretrain = params.pretrain.model_copy(
        update=dict(
            out=str(tmp_path / "base"),
            work=str(tmp_path / "work"),
            clips=3,
            frames=4,
            width=48,
            height=32,
            crop_size=16,
            clip_frames=4,
            batch_size=1,
            samples_per_epoch=2,
            max_epochs=1,
        )
    )
    train = params.train.model_copy(update=dict(val_clips=1, val_steps=1))
    model = params.model.model_copy(update=dict(num_inference_steps=2))
    return params.model_copy(update={"pretrain": pretrain, "train": train, "model": model})


def test_pretraining_params_start_from_scratch_with_the_pretrain_settings(tmp_path):
    params = tiny_params(tmp_path)
    settings = pretraining_params(params)
    assert settings.train.init == "scratch"
    assert settings.train.crop_size == 16 and settings.train.max_epochs == 1
    assert settings.train.lr == params.pretrain.lr


def test_pretrain_writes_a_loadable_model_with_a_model_card(tmp_path):
    params = tiny_params(tmp_path)
    result = pretrain_base_model(params, list(PHOTO_NAMES[:3]), commit="abc123", command="seedvr pretrain --test")
    assert result.steps == 2
    out = tmp_path / "base"
    card = (out / "README.md").read_text()
    assert "abc123" in card and "seedvr pretrain --test" in card and "3 photographs (3 from scikit-image, 0 real" in card
    assert json.loads((out / "pretraining.json").read_text())["params"]["clips"] == 3
    # The checkpoint a longer run resumes from is there after the first epoch.
    assert (tmp_path / "work" / "checkpoints" / "last.ckpt").is_file()
    pipeline = SeedVRPipeline.from_pretrained(str(out), use_safetensors=True, low_cpu_mem_usage=False)
    frames = np.full((4, 32, 48, 3), 90, dtype=np.uint8)
    masks = np.zeros((4, 32, 48), dtype=bool)
    masks[:, 10:20, 10:20] = True
    repaired = pipeline(frames, masks, seed=0).frames
    assert np.array_equal(repaired[~masks], frames[~masks])


def test_a_second_leg_continues_the_weights_on_real_video_beside_the_procedural_clips(tmp_path):
    params = tiny_params(tmp_path)
    pretrain_base_model(params, list(PHOTO_NAMES[:3]))
    video = tmp_path / "real.mkv"
    with VideoWriter(video, Fraction(24), 64, 48) as writer:
        writer.write(np.random.default_rng(0).integers(0, 256, (12, 48, 64, 3), dtype=np.uint8))
    leg = params.pretrain.model_copy(update=dict(init=str(tmp_path / "base"), out=str(tmp_path / "leg"), footage_clips=2))
    params = params.model_copy(update={"pretrain": leg})
    with pytest.raises(SeedVRError, match="footage_clips is 2 but no footage videos"):
        pretrain_base_model(params, list(PHOTO_NAMES[:3]))

    pretrain_base_model(params, list(PHOTO_NAMES[:3]), footage=FootageSources({"real": video}, {"real": [(0, 4)]}))

    sources = sorted(path.name for path in (tmp_path / "work" / "sources").glob("*.mkv"))
    assert sources == ["clip_0000.mkv", "clip_0001.mkv", "clip_0002.mkv", "footage_0000.mkv", "footage_0001.mkv"]
    card = (tmp_path / "leg" / "README.md").read_text()
    assert f"training: from {tmp_path / 'base'}," in card and "and 2 clips of its sample videos" in card
    assert SeedVRPipeline.from_pretrained(str(tmp_path / "leg"), use_safetensors=True, low_cpu_mem_usage=False) is not None

    # A later run in the same work folder without footage leaves none of those clips behind.
    without_footage = leg.model_copy(update={"footage_clips": 0})
    pretrain_base_model(params.model_copy(update={"pretrain": without_footage}), list(PHOTO_NAMES[:3]))
    assert not list((tmp_path / "work" / "sources").glob("footage_*.mkv"))
