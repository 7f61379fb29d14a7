"""Looking classical methods up by name; inputs are never modified."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.baselines import CLASSICAL_METHODS, classical_method, inpaint_frames
from seedvr.errors import SeedVRError


def test_every_advertised_method_is_found_and_unknown_names_are_clear_errors():
    assert set(CLASSICAL_METHODS) == {"telea", "ns", "propagate"}
    for name, method in CLASSICAL_METHODS.items():
        assert classical_method(name) is method
    with pytest.raises(SeedVRError, match="unknown classical method"):
        classical_method("deep-magic")
    with pytest.raises(TypeError):
        CLASSICAL_METHODS["mine"] = inpaint_frames  # read-only mapping


@pytest.mark.parametrize("name", sorted(CLASSICAL_METHODS))
def test_methods_leave_their_inputs_untouched_and_accept_uint8_masks(panning_clip, name):
    frames, masks = panning_clip
    frames_before, masks_before = frames.copy(), masks.copy()
    as_bool = CLASSICAL_METHODS[name](frames, masks)
    as_uint8 = CLASSICAL_METHODS[name](frames, masks.astype(np.uint8) * 255)
    np.testing.assert_array_equal(frames, frames_before)
    np.testing.assert_array_equal(masks, masks_before)
    np.testing.assert_array_equal(as_bool, as_uint8)


def test_navier_stokes_and_telea_differ_inside_the_mask_only(panning_clip):
    frames, masks = panning_clip
    damaged = frames.copy()
    damaged[masks] = 0
    telea = inpaint_frames(damaged, masks, "telea")
    navier_stokes = inpaint_frames(damaged, masks, "ns", radius=5)
    np.testing.assert_array_equal(telea[~masks], navier_stokes[~masks])
    assert np.any(telea[masks] != navier_stokes[masks])
