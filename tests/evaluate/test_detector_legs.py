"""``seedvr detect-train`` in legs: each leg continues the previous one's weights on new clips,
and the card and scores say what every leg did, so the command reproduces the shipped detector."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.config import DetectorLeg, DetectorParams, load_params
from seedvr.data.photos import PHOTO_NAMES
from seedvr.errors import SeedVRError
from seedvr.evaluate.detection import SCORES_FILE, train_shipped_detector
from seedvr.pipeline.detector_folder import load_detector

TINY = DetectorParams(
    clips=4,
    heldout_clips=4,
    frames=4,
    width=48,
    height=32,
    small_share=0.0,
    channels=8,
    crop_size=32,
    batch_size=2,
    steps=30,
    lr=3e-3,
    legs=(DetectorLeg(seed=3, steps=20, crop_size=24),),
)
TRAINING_PHOTOS, HELDOUT_PHOTOS = list(PHOTO_NAMES[:3]), list(PHOTO_NAMES[3:5])


@pytest.fixture(scope="module")
def two_legs(tmp_path_factory):
    out = tmp_path_factory.mktemp("legs") / "detector"
    params = TINY.model_copy(update={"out": str(out)})
    return train_shipped_detector(params, TRAINING_PHOTOS, HELDOUT_PHOTOS, commit="abc123")


def test_each_leg_trains_with_its_own_settings_from_the_previous_weights(two_legs):
    first, second = two_legs.legs
    assert (first.params.seed, first.params.steps, first.params.crop_size, first.init) == (0, 30, 32, None)
    assert (second.params.seed, second.params.steps, second.params.crop_size, second.init) == (3, 20, 24, "leg 1")
    assert (first.result.steps, second.result.steps) == (30, 20) and two_legs.steps == 50
    # The second leg starts where the first stopped: its first losses are far below the first leg's.
    assert sum(second.result.losses[:5]) < sum(first.result.losses[:5])


def test_the_card_and_scores_name_every_leg(two_legs):
    card = (two_legs.out_dir / "README.md").read_text()
    assert "training, leg 1: from scratch, 30 steps" in card and "training, leg 2: from leg 1, 20 steps" in card
    assert "batch 2 of 24x24 crops" in card and "new clips in each leg (seeds 0, 3)" in card
    summary = json.loads((two_legs.out_dir / SCORES_FILE).read_text())
    assert [(leg["leg"], leg["init"], leg["params"]["seed"], leg["steps"]) for leg in summary["legs"]] == [
        (1, None, 0, 30),
        (2, "leg 1", 3, 20),
    ]
    assert summary["steps"] == 50 and "legs" not in summary["legs"][0]["params"]


def test_the_saved_folder_is_the_last_legs_detector(two_legs):
    loaded = load_detector(two_legs.out_dir)
    for saved, trained in zip(loaded.state_dict().values(), two_legs.detector.state_dict().values(), strict=True):
        assert saved.equal(trained)


def test_a_leg_may_add_real_video_and_its_card_line_says_so(two_legs):
    from seedvr.evaluate.detection import _leg_line

    leg = DetectorLeg(seed=7, footage_clips=40)
    assert leg.model_dump() == {"seed": 7, "footage_clips": 40}
    params = leg.applied_to(TINY)
    assert (params.footage_clips, params.seed, params.steps, params.crop_size) == (40, 7, TINY.steps, TINY.crop_size)
    trained = two_legs.legs[1]
    line = _leg_line(dataclasses.replace(trained, params=params), "training, leg 2", "2 CPU threads")
    assert "seed 7, plus 40 clips of real video (vtest, box, cup; frames no benchmark case reads)" in line
    assert "real video" not in _leg_line(trained, "training, leg 2", "2 CPU threads")


def test_an_init_folder_is_continued(two_legs, tmp_path):
    params = TINY.model_copy(update={"legs": (), "steps": 5, "init": str(two_legs.out_dir), "out": str(tmp_path / "on")})
    continued = train_shipped_detector(params, TRAINING_PHOTOS, HELDOUT_PHOTOS)
    assert continued.legs[0].init == str(two_legs.out_dir)
    # Its first losses are those of the trained detector it starts from, not of a fresh one.
    assert sum(continued.legs[0].result.losses) < sum(two_legs.legs[0].result.losses[:5])


def test_the_command_takes_init(two_legs, tmp_path, monkeypatch):
    from seedvr.evaluate import detection

    monkeypatch.setattr(detection, "card_photos", lambda: (TRAINING_PHOTOS, HELDOUT_PHOTOS))
    one_leg = TINY.model_copy(update={"legs": (), "steps": 10, "sway_share": 0.5}).model_dump(mode="json")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"detector": one_leg}))
    out = tmp_path / "continued"
    argv = ["detect-train", "--params", tmp_path / "params.yaml", "--out", out, "--init", two_legs.out_dir]
    result = CliRunner().invoke(app, [*map(str, argv)])
    assert result.exit_code == 0, result.output
    assert f"saved detector to {out} (10 steps" in result.output
    assert json.loads((out / SCORES_FILE).read_text())["legs"][0]["init"] == str(two_legs.out_dir)
    card = (out / "README.md").read_text()
    assert f"training: from {two_legs.out_dir}, 10 steps" in card and "seed 0, 50% of its clips swaying" in card


def test_a_missing_init_folder_is_one_line(tmp_path):
    params = TINY.model_copy(update={"init": str(tmp_path / "nowhere"), "out": str(tmp_path / "out")})
    with pytest.raises(SeedVRError, match="no such model folder"):
        train_shipped_detector(params, TRAINING_PHOTOS, HELDOUT_PHOTOS)
    assert not (tmp_path / "out").exists()


def test_legs_must_draw_new_clips(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"detector": {"seed": 4, "legs": [{"seed": 5}, {"seed": 4, "steps": 10}]}}))
    with pytest.raises(SeedVRError, match="each leg needs a seed of its own"):
        load_params(path)
    path.write_text(yaml.safe_dump({"detector": {"legs": [{"steps": 10}]}}))
    with pytest.raises(SeedVRError, match="seed"):
        load_params(path)


COMPARED_LEG_SETTINGS = ("seed", "steps", "lr", "crop_size", "batch_size", "sway_share", "footage_clips")


def test_the_shipped_settings_name_the_shipped_legs():
    from seedvr.pipeline.shipped import SHIPPED_DETECTOR

    settings = load_params("params.yaml").detector
    shipped = json.loads((SHIPPED_DETECTOR / SCORES_FILE).read_text())["legs"]
    assert len(shipped) == 1 + len(settings.legs)
    for leg, params in zip(shipped, (settings, *(leg.applied_to(settings) for leg in settings.legs)), strict=True):
        # Legs 1-3 were trained before sway_share existed: their clips did not sway.
        trained_with = {"sway_share": 0.0, **leg["params"]}
        trained_with = {key: trained_with[key] for key in COMPARED_LEG_SETTINGS}
        assert trained_with == {key: getattr(params, key) for key in trained_with}
