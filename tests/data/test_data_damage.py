"""Synthetic damage: confined to the mask, sized to the mask ratio, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.config import DAMAGE_KINDS
from seedvr.data.damage import KINDS_ALLOWING_EMPTY_FRAMES, MAX_MASK_RATIO, apply_damage, check_mask_ratio
from seedvr.errors import SeedVRError


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """A textured clip (a smooth gradient plus noise) so painted damage always shows."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 215, 64)[None, None, :, None]
    noise = rng.normal(0.0, 12.0, (8, 48, 64, 3))
    return np.clip(ramp + noise, 0, 255).astype(np.uint8)


BOUNDS = [(0.01, 0.03), (0.1, 0.15), (0.25, 0.3)]


@pytest.mark.parametrize("bounds", BOUNDS, ids=lambda b: f"{b[0]}-{b[1]}")
@pytest.mark.parametrize("kind", DAMAGE_KINDS)
def test_each_kind_stays_in_mask_and_hits_ratio(clip, kind, bounds):
    damaged, mask, info = apply_damage(clip, [kind], np.random.default_rng(11), bounds)
    assert damaged.dtype == np.uint8 and damaged.shape == clip.shape
    assert mask.dtype == np.bool_ and mask.shape == clip.shape[:3]
    assert np.array_equal(damaged[~mask], clip[~mask]), "pixels outside the mask changed"
    assert bounds[0] <= mask.mean() <= bounds[1]
    assert info.mask_ratio == pytest.approx(mask.mean())
    # The damage is really painted in: most masked pixels differ from the clean ones.
    assert (damaged != clip).any(axis=-1)[mask].mean() > 0.8
    empty_frames = int((~mask.reshape(len(mask), -1).any(axis=1)).sum())
    if kind not in KINDS_ALLOWING_EMPTY_FRAMES:
        assert empty_frames == 0


def test_same_generator_state_same_damage_other_differs(clip):
    first = apply_damage(clip, ["stroke", "dust"], np.random.default_rng(7))
    again = apply_damage(clip, ["stroke", "dust"], np.random.default_rng(7))
    other = apply_damage(clip, ["stroke", "dust"], np.random.default_rng(8))
    assert np.array_equal(first.damaged, again.damaged) and np.array_equal(first.mask, again.mask)
    assert not np.array_equal(first.mask, other.mask)


def test_a_fainter_paint_draws_the_same_damage_and_moves_the_picture_less(clip):
    full = apply_damage(clip, ["scratch", "blotch", "dust"], np.random.default_rng(9))
    faint = apply_damage(clip, ["scratch", "blotch", "dust"], np.random.default_rng(9), opacity=0.3)
    assert np.array_equal(faint.mask, full.mask)
    assert np.array_equal(faint.damaged[~faint.mask], clip[~faint.mask])
    mask = full.mask
    full_shift = np.abs(full.damaged.astype(np.int16) - clip)[mask].mean()
    faint_shift = np.abs(faint.damaged.astype(np.int16) - clip)[mask].mean()
    # Each damaged pixel moves towards the paint by the opacity: a third of the way here.
    assert 0.2 * full_shift < faint_shift < 0.4 * full_shift
    same = apply_damage(clip, ["scratch", "blotch", "dust"], np.random.default_rng(9), opacity=1.0)
    assert np.array_equal(same.damaged, full.damaged)


def test_repainted_damage_is_the_same_damage_in_colour(clip):
    grey = apply_damage(clip, ["scratch", "blotch", "dust"], np.random.default_rng(9))
    coloured = apply_damage(clip, ["scratch", "blotch", "dust"], np.random.default_rng(9), repaint=("scratch", "blotch", "dust"))
    assert np.array_equal(coloured.mask, grey.mask)
    assert np.array_equal(coloured.damaged[~coloured.mask], clip[~coloured.mask])

    # Film dirt is near-neutral; repainted, some kind carries a colour (its channels spread apart).
    def spread(result) -> float:
        return float(np.ptp(result.damaged[result.mask].astype(np.int16), axis=-1).mean())

    assert spread(coloured) > spread(grey) + 10


def test_only_the_kinds_named_are_repainted(clip):
    grey = apply_damage(clip, ["blotch"], np.random.default_rng(9))
    scratches_only = apply_damage(clip, ["blotch"], np.random.default_rng(9), repaint=("scratch",))
    assert np.array_equal(scratches_only.damaged, grey.damaged)
    repainted = apply_damage(clip, ["blotch"], np.random.default_rng(9), repaint=("blotch",))
    assert np.array_equal(repainted.mask, grey.mask) and not np.array_equal(repainted.damaged, grey.damaged)


def test_luma_matched_paint_keeps_the_pictures_luma_and_changes_its_colour(clip):
    from dataclasses import replace

    from seedvr.data.damage import KIND_REGISTRY
    from seedvr.data.damage.paint import paint_damage

    tone = np.zeros(clip.shape[:3], dtype=np.uint8)
    tone[:, :, 30:32] = 128
    style = replace(KIND_REGISTRY["scratch"].style.repainted(np.random.default_rng(1)), luma_matched=True, grain=0.0)
    painted = np.ascontiguousarray(clip.copy())
    paint_damage(painted, tone, np.random.default_rng(2), style)
    luma = np.array([0.299, 0.587, 0.114])
    inside = tone > 0
    assert np.abs(painted[inside] @ luma - clip[inside] @ luma).mean() < 3.0
    assert np.abs(painted[inside].astype(int) - clip[inside]).max(axis=-1).mean() > 20


def test_a_repainted_style_is_colourful_with_less_grain_and_its_own_or_a_hard_edge():
    from seedvr.data.damage import KIND_REGISTRY

    style = KIND_REGISTRY["blotch"].style
    drawn = [style.repainted(np.random.default_rng(seed)) for seed in range(40)]
    assert all(new.colourful and 0.0 <= new.grain <= style.grain and new.opacity == style.opacity for new in drawn)
    assert {new.edge_blur for new in drawn} == {1, style.edge_blur}
    assert any(new.grain == 0.0 for new in drawn) and any(new.grain > 0.0 for new in drawn)


def test_only_a_kind_that_takes_dye_is_repainted_in_the_pictures_luma():
    from seedvr.data.damage import KIND_REGISTRY

    for name in ("scratch", "blotch", "dust"):
        style = KIND_REGISTRY[name].style
        matched = {style.repainted(np.random.default_rng(seed)).luma_matched for seed in range(40)}
        assert matched == ({False, True} if style.takes_dye else {False}), name
    assert KIND_REGISTRY["scratch"].style.takes_dye and not KIND_REGISTRY["blotch"].style.takes_dye


@pytest.mark.parametrize("opacity", [0.0, -0.5, 1.5])
def test_an_opacity_factor_outside_the_unit_interval_is_refused(clip, opacity):
    with pytest.raises(ValueError, match="opacity factor"):
        apply_damage(clip, ["dust"], np.random.default_rng(0), opacity=opacity)


def test_several_kinds_share_the_ratio(clip):
    kinds = ["scratch", "blotch", "object"]
    damaged, mask, info = apply_damage(clip, kinds, np.random.default_rng(3), (0.1, 0.2))
    assert 0.1 <= mask.mean() <= 0.2
    assert info.kinds == tuple(kinds)
    assert all(info.kind_ratios[kind] > 0 for kind in kinds)
    assert np.array_equal(damaged[~mask], clip[~mask])


def test_logo_is_static_and_scratches_persist(clip):
    _, logo, _ = apply_damage(clip, ["logo"], np.random.default_rng(1))
    assert all(np.array_equal(frame, logo[0]) for frame in logo)
    _, scratch, _ = apply_damage(clip, ["scratch"], np.random.default_rng(1))
    assert scratch.reshape(len(scratch), -1).any(axis=1).all()
    # Scratches drift: not frozen like the logo, but each frame's columns stay close.
    assert not all(np.array_equal(frame, scratch[0]) for frame in scratch)


def test_moving_kinds_move(clip):
    for kind in ("stroke", "object"):
        _, mask, _ = apply_damage(clip, [kind], np.random.default_rng(2), (0.05, 0.1))
        assert not np.array_equal(mask[0], mask[-1]), kind


def test_blotches_come_and_go():
    """Blotches last one or two frames: over a long clip some frames are clean."""
    clip = np.full((24, 48, 64, 3), 128, np.uint8)
    _, mask, _ = apply_damage(clip, ["blotch"], np.random.default_rng(4), (0.005, 0.01))
    per_frame = mask.reshape(len(mask), -1).any(axis=1)
    assert per_frame.any() and not per_frame.all()


@pytest.mark.parametrize(
    "bounds, message",
    [((0.9, 0.1), "0 < low <= high < 1"), ((2.0, 3.0), "0 < low <= high < 1"), ((0.0, 0.1), "0 < low"), ((0.6, 0.7), "maximum")],
)
def test_bad_mask_ratio_is_a_clear_error(clip, bounds, message):
    with pytest.raises(SeedVRError, match=message):
        apply_damage(clip, ["dust"], np.random.default_rng(0), bounds)


def test_unknown_kind_and_bad_frames_are_clear_errors(clip):
    with pytest.raises(SeedVRError, match="unknown damage kind"):
        apply_damage(clip, ["fire"], np.random.default_rng(0))
    with pytest.raises(SeedVRError, match="uint8"):
        apply_damage(clip.astype(np.float32), ["dust"], np.random.default_rng(0))


def test_unreachable_ratio_is_a_clear_error():
    """A persistent kind needs a pixel per frame: below that the bound cannot be met."""
    tiny = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(SeedVRError, match="below one damaged pixel per frame"):
        apply_damage(tiny, ["scratch"], np.random.default_rng(0), (0.001, 0.002))


def test_every_kind_reaches_the_maximum_ratio(clip):
    low = MAX_MASK_RATIO - 0.05
    assert check_mask_ratio((low, MAX_MASK_RATIO)) == (low, MAX_MASK_RATIO)
    for kind in DAMAGE_KINDS:
        _, mask, _ = apply_damage(clip, [kind], np.random.default_rng(5), (low, MAX_MASK_RATIO))
        assert low <= mask.mean() <= MAX_MASK_RATIO, kind
