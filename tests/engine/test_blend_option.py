"""The share of gradient-domain blending a method repairs with, and the detected masks' own.

Around a detected blotch the ring may still hold the blotch's faint rim, so ``--mask auto``,
blind batch repair and the blind benchmark repair blotch-shaped holes without blending and
lines and specks with it (:data:`seedvr.ops.blending.DETECTED_MASK_BLEND`); a given mask
keeps the default.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from seedvr.baselines.classical import telea_repair
from seedvr.data.photos import load_photo
from seedvr.engine import auto_mask
from seedvr.engine.methods import RepairMethod, make_method, with_blend
from seedvr.engine.repair import repair_video
from seedvr.errors import SeedVRError
from seedvr.io import write_mask, write_video
from seedvr.ops.blending import BORDER_BLEND, DETECTED_MASK_BLEND
from seedvr.ops.fusion import fused_propagation


@pytest.fixture(scope="module")
def drifting_clip() -> tuple[np.ndarray, np.ndarray]:
    """A pan over a photo whose light rises 6 levels a frame, a square hole moving across it:
    what propagation carries in is too dark, so blending has an offset to correct."""
    photo = cv2.resize(load_photo("coffee"), (160, 120), interpolation=cv2.INTER_AREA).astype(np.int16)
    frames = np.stack([np.clip(photo[10:58, 3 * t : 3 * t + 64] + 6 * t, 0, 255) for t in range(8)]).astype(np.uint8)
    masks = np.zeros(frames.shape[:3], dtype=bool)
    for t in range(8):
        masks[t, 16:32, 8 + 4 * t : 24 + 4 * t] = True
    return frames, masks


def test_propagate_repairs_with_the_share_it_is_built_or_rebuilt_with(drifting_clip):
    frames, masks = drifting_clip
    unblended = fused_propagation(frames, masks, blend=0.0).guess
    assert np.array_equal(make_method("propagate", blend=0.0).repair(frames, masks), unblended)
    assert np.array_equal(with_blend(make_method("propagate"), 0.0).repair(frames, masks), unblended)
    default = make_method("propagate").repair(frames, masks)
    assert np.array_equal(default, fused_propagation(frames, masks, blend=BORDER_BLEND).guess)
    assert not np.array_equal(default, unblended)  # the clip does exercise the blending


def test_the_model_is_rebuilt_around_the_same_pipeline(drifting_clip, tiny_pipeline_dir):
    frames, masks = drifting_clip
    method = make_method("seedvr", tiny_pipeline_dir, steps=1, device="cpu")
    variant = with_blend(method, DETECTED_MASK_BLEND)
    assert variant.details["model"] == tiny_pipeline_dir
    assert variant.details["blend"] == {"lines": BORDER_BLEND, "blotches": 0.0}
    # An untrained pipeline returns its guess: the propagation with the shape-aware share, which
    # leaves this square (blotch-shaped) hole unblended, so not the default blended guess.
    shaped = fused_propagation(frames, masks, blend=DETECTED_MASK_BLEND).guess
    assert np.array_equal(variant.repair(frames, masks), shaped)
    assert np.array_equal(method.repair(frames, masks), fused_propagation(frames, masks).guess)
    assert not np.array_equal(shaped, fused_propagation(frames, masks).guess)


def test_a_method_without_blending_or_built_elsewhere_is_used_as_it_is(drifting_clip):
    frames, masks = drifting_clip
    assert np.array_equal(with_blend(make_method("telea"), 0.0).repair(frames, masks), telea_repair(frames, masks))
    ready = RepairMethod("ready", telea_repair)
    assert with_blend(ready, 0.0) is ready


@pytest.mark.parametrize("blend", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_one_line(blend, drifting_clip, tmp_path):
    with pytest.raises(SeedVRError, match=r"blend must be in \[0, 1\]"):
        with_blend(make_method("propagate"), blend)
    frames, masks = drifting_clip
    video, mask = write_video(tmp_path / "in.mkv", frames, 10), write_mask(tmp_path / "in.mask.mkv", masks, 10)
    with pytest.raises(SeedVRError, match="blend"):
        repair_video(video, mask, tmp_path / "out.mkv", method="propagate", blend=blend)
    assert not (tmp_path / "out.mkv").exists()


def test_mask_auto_repairs_without_blending_unless_asked(drifting_clip, tmp_path, monkeypatch):
    frames, masks = drifting_clip
    video = write_video(tmp_path / "in.mkv", frames, 10)

    def found(input_path, output_mask, detector, **options):
        write_mask(output_mask, masks, 10)  # stands in for the detector: the true holes
        return {"flagged_fraction": float(masks.mean()), "temporal_cue": True, "confirmation": None}

    asked = []

    def recording(*args, **options):
        asked.append(options.get("blend"))
        return repair_video(*args, **options)

    monkeypatch.setattr(auto_mask, "detect_repair_region", found)
    monkeypatch.setattr(auto_mask, "repair_video", recording)
    auto_mask.repair_with_detected_mask(video, tmp_path / "auto.mkv", method="propagate")
    auto_mask.repair_with_detected_mask(video, tmp_path / "asked.mkv", method="propagate", blend=0.5)
    assert asked == [DETECTED_MASK_BLEND, 0.5]
