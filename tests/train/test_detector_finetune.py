"""``seedvr detect-finetune`` (DVC stage train_detector): the shipped detector, fine-tuned on a
damaged dataset's film damage, saved as a detector folder that loads back.

A few steps on the tiny dataset: the weights move away from the start (they were trained,
not copied), the start is the shipped detector (not a fresh net), the steps bound it (two runs
give the same weights; a wall-clock ceiling only when asked), and a train split with no
film damage is one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.config import DetectorParams, Params
from seedvr.errors import SeedVRError
from seedvr.pipeline.detector_folder import load_detector
from seedvr.pipeline.shipped import SHIPPED_DETECTOR
from seedvr.train.detector import manifest_clips, train_detector
from seedvr.train.detector_finetune import finetune_detector, finetune_settings

runner = CliRunner()
STEPS = 3


def test_fine_tuning_settings_replace_the_full_trainings():
    settings = finetune_settings(DetectorParams(finetune_steps=7, finetune_lr=1e-5, finetune_minutes=0.5))
    assert (settings.steps, settings.lr, settings.max_minutes) == (7, 1e-5, 0.5)


def test_the_fine_tuning_is_bounded_by_steps_unless_given_a_ceiling(tiny_dataset_dir):
    # A clock-bounded stage gives another detector (and dvc.lock another hash) on a busy machine.
    assert finetune_settings(DetectorParams()).max_minutes is None
    clips = manifest_clips(tiny_dataset_dir, "train", with_clean=True)
    small = {"finetune_steps": STEPS, "batch_size": 2, "crop_size": 32}
    first, second = (finetune_detector(tiny_dataset_dir, DetectorParams(**small), init=load_detector()) for _ in range(2))
    assert first.steps == second.steps == STEPS
    weights, again = first.detector.state_dict(), second.detector.state_dict()
    assert all(torch.equal(weights[name], again[name]) for name in weights)
    ceiled = train_detector(clips, finetune_settings(DetectorParams(**small, finetune_minutes=1e-9)), init=load_detector())
    assert ceiled.steps == 1  # the ceiling is checked after each step


def test_the_train_split_gives_film_clips_and_their_clean_videos(tiny_dataset_dir):
    clips = manifest_clips(tiny_dataset_dir, "train", with_clean=True)
    kinds = [clip.kind for clip in clips]
    assert kinds[0::2] and set(kinds[0::2]) <= {"scratch", "blotch", "dust", "film"} and set(kinds[1::2]) == {"clean"}
    assert all(not clip.mask.any() for clip in clips[1::2]) and all(clip.mask.any() for clip in clips[0::2])


def test_the_stage_command_fine_tunes_the_shipped_detector_into_a_folder(tiny_dataset_dir, tmp_path):
    params = tmp_path / "params.yaml"
    document = Params().model_dump(mode="json", by_alias=True)
    tiny = {"finetune_steps": STEPS, "batch_size": 2, "crop_size": 32, "finetune_from": str(SHIPPED_DETECTOR)}
    document["detector"].update(tiny)
    params.write_text(yaml.safe_dump(document))
    out = tmp_path / "detector"
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = runner.invoke(app, ["detect-finetune", "--params", str(params), "--data", tiny_dataset_dir, "--out", str(out)])
    finally:
        torch.set_num_threads(previous)
    assert result.exit_code == 0, result.output
    assert f"for {STEPS} steps" in result.output
    tuned, shipped = load_detector(out).state_dict(), load_detector().state_dict()
    assert tuned.keys() == shipped.keys()
    changed = [name for name in tuned if not torch.equal(tuned[name], shipped[name])]
    assert changed  # trained, not copied
    # Started from the shipped weights: a few small steps leave them close, a fresh net would not be.
    drift = max(float((tuned[name] - shipped[name]).abs().max()) for name in tuned)
    assert drift < 0.05


def test_a_train_split_without_film_damage_is_one_line(tiny_dataset_dir, tmp_path):
    rows = (Path(tiny_dataset_dir) / "manifest.csv").read_text().splitlines()
    kept = [rows[0]] + [row for row in rows[1:] if not any(kind in row for kind in ("scratch", "blotch", "dust"))]
    (tmp_path / "manifest.csv").write_text("\n".join(kept) + "\n")
    (tmp_path / "clips").symlink_to(Path(tiny_dataset_dir) / "clips")
    with pytest.raises(SeedVRError, match="no film-damage clip"):
        finetune_detector(tmp_path, DetectorParams(finetune_steps=1), init=load_detector())
