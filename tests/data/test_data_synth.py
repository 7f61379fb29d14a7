"""Procedural source clips: deterministic bytes, real motion, a readable sources.json."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest
from data_helpers import CLIPS, FRAMES, HEIGHT, SYNTH_SEED, WIDTH, folder_bytes, synth

from seedvr.data.photos import PHOTO_NAMES
from seedvr.data.synth import SOURCES_FILE, generate_source_clips, plan_source_clips, render_clip
from seedvr.errors import SeedVRError
from seedvr.io import probe, read_video


def test_same_seed_same_bytes_other_seed_differs(tmp_path, source_dir):
    again = folder_bytes(synth(tmp_path / "again"))
    assert again == folder_bytes(source_dir)
    other = folder_bytes(synth(tmp_path / "other", seed=SYNTH_SEED + 1))
    assert set(other) == set(again)
    assert all(other[name] != again[name] for name in again)


def test_clips_have_the_asked_shape_and_rate(source_dir):
    clips = sorted(source_dir.glob("clip_*.mkv"))
    assert [clip.name for clip in clips] == [f"clip_{index:04d}.mkv" for index in range(CLIPS)]
    for clip in clips:
        info = probe(clip)
        assert (info.frames, info.height, info.width, info.fps) == (FRAMES, HEIGHT, WIDTH, Fraction(24))
        assert info.codec == "ffv1"


def test_sources_json_describes_every_clip(source_dir):
    sources = json.loads((source_dir / SOURCES_FILE).read_text())
    assert sources["seed"] == SYNTH_SEED and sources["fps"] == "24/1"
    specs = sources["clip_specs"]
    assert [spec["clip_id"] for spec in specs] == [f"clip_{index:04d}" for index in range(CLIPS)]
    backgrounds = [spec["camera"]["photo"] for spec in specs]
    assert set(backgrounds) <= set(PHOTO_NAMES) and len(set(backgrounds)) == CLIPS  # no repeat before all used
    for spec in specs:
        assert spec["sprites"], "every clip has at least one moving sprite"
        assert all(sprite["photo"] != spec["camera"]["photo"] for sprite in spec["sprites"])


def test_rendering_is_pure_and_the_camera_moves(source_dir):
    spec = plan_source_clips(2, FRAMES, WIDTH, HEIGHT, SYNTH_SEED, Fraction(24))[1]
    video = render_clip(spec)
    assert np.array_equal(video, render_clip(spec))
    assert np.array_equal(video, read_video(source_dir / "clip_0001.mkv"))  # FFV1 is lossless
    differences = np.abs(np.diff(video.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert (differences > 0.5).all(), "consecutive frames should differ: camera, sprites and light move"


def test_a_clip_does_not_depend_on_how_many_are_made():
    few = plan_source_clips(2, FRAMES, WIDTH, HEIGHT, 9, Fraction(24))
    many = plan_source_clips(5, FRAMES, WIDTH, HEIGHT, 9, Fraction(24))
    assert few == many[:2]


def test_a_smaller_rerun_replaces_the_old_clips(tmp_path):
    out = tmp_path / "data"
    generate_source_clips(out, clips=3, frames=2, width=16, height=16, seed=0)
    (out / "notes.txt").write_text("kept")
    generate_source_clips(out, clips=2, frames=2, width=16, height=16, seed=0)
    assert sorted(path.name for path in out.iterdir()) == ["clip_0000.mkv", "clip_0001.mkv", "notes.txt", SOURCES_FILE]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(clips=0), "clips"),
        (dict(frames=0), "frames"),
        (dict(width=0), "width"),
        (dict(height=4), "height"),
        (dict(seed=-1), "seed"),
        (dict(fps=0), "fps|frame rate"),
    ],
)
def test_bad_arguments_write_nothing(tmp_path, arguments, message):
    request = dict(clips=1, frames=2, width=16, height=16, seed=0) | arguments
    out = tmp_path / "nested" / "data"
    with pytest.raises(SeedVRError, match=message):
        generate_source_clips(out, **request)
    assert list(tmp_path.iterdir()) == []


def test_sway_is_drawn_last_so_other_clips_keep_their_pixels():
    rigid = plan_source_clips(4, FRAMES, WIDTH, HEIGHT, SYNTH_SEED, Fraction(24))
    swaying = plan_source_clips(4, FRAMES, WIDTH, HEIGHT, SYNTH_SEED, Fraction(24), sway_share=1.0)
    assert all(spec.sway is None and "sway" not in spec.to_dict() for spec in rigid)
    assert all(spec.sway is not None for spec in swaying)
    assert [dataclasses.replace(spec, sway=None) for spec in swaying] == rigid


def test_sway_moves_the_background_non_rigidly_inside_its_region():
    spec = plan_source_clips(1, FRAMES, 96, 64, SYNTH_SEED, Fraction(24), sway_share=1.0)[0]
    still = dataclasses.replace(spec, sprites=(), sway=None)
    swaying = dataclasses.replace(spec, sprites=())
    change = np.abs(render_clip(swaying).astype(np.int16) - render_clip(still)).max(axis=-1)
    assert (change > 8).mean() > 0.01, "sway must displace the picture"
    # An envelope below zero everywhere confines the sway to nothing: the rigid view is back.
    nowhere = dataclasses.replace(swaying, sway=dataclasses.replace(spec.sway, envelope_offset=-10.0))
    assert np.abs(render_clip(nowhere).astype(np.int16) - render_clip(still)).max() <= 1
    # Points a few pixels apart move differently: no single shift explains a frame's change.
    x, y = np.meshgrid(np.arange(96.0), np.arange(64.0))
    dx, dy = spec.sway.displacement(x, y, 0.5)
    assert np.hypot(dx, dy).max() <= sum(w.amplitude for w in spec.sway.dx + spec.sway.dy) + 1e-9
    assert np.std(dx) > 0.05 or np.std(dy) > 0.05


def test_a_sway_share_outside_zero_to_one_is_refused():
    with pytest.raises(SeedVRError, match="sway_share"):
        plan_source_clips(1, FRAMES, WIDTH, HEIGHT, SYNTH_SEED, Fraction(24), sway_share=1.5)
