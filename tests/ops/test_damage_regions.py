"""Growing detections to the damage's extent (hysteresis, blotches closed, enclosed holes),
then confirming them by what a repair changes."""

from __future__ import annotations

import numpy as np

from seedvr.ops.damage_regions import (
    RIM_TOLERANCE,
    close_blotches,
    confirmed_damage,
    confirmed_region,
    confirming_region,
    detection_rims,
    fill_enclosed_holes,
    grown_damage,
    hysteresis_mask,
    line_detections,
    neighbour_lines,
    thick_detections,
)


def _map(*rows: str) -> np.ndarray:
    """A one-frame probability map from rows of digits: ``"0"`` -> 0.0 ... ``"9"`` -> 0.9."""
    return np.array([[[int(char) / 10 for char in row] for row in rows]], dtype=np.float32)


def test_hysteresis_grows_a_detection_through_faint_pixels_that_touch_it():
    probabilities = _map(
        "0000000000",
        "0811100000",  # a strong pixel with a faint tail: the tail joins
        "0000000000",
        "0000001110",  # faint pixels touching nothing strong: left out
        "0000000000",
    )
    grown = hysteresis_mask(probabilities, threshold=0.5, grow_threshold=0.05)
    assert grown[0, 1].tolist() == [False, True, True, True, True, False, False, False, False, False]
    assert not grown[0, 3].any()
    assert np.count_nonzero(grown) == 4


def test_hysteresis_connects_diagonally_and_stops_at_the_grow_threshold():
    probabilities = _map(
        "9000",
        "0200",
        "0020",
        "0001",
    )
    assert hysteresis_mask(probabilities, 0.5, 0.15)[0].diagonal().tolist() == [True, True, True, False]
    # With grow_threshold == threshold it is the plain threshold.
    assert np.array_equal(hysteresis_mask(probabilities, 0.5, 0.5), probabilities > 0.5)


def test_hysteresis_is_frame_by_frame():
    probabilities = np.stack([_map("92")[0], _map("02")[0]])
    grown = hysteresis_mask(probabilities, 0.5, 0.1)
    assert grown[0].all() and not grown[1].any()


def test_enclosed_holes_are_filled_but_not_open_bays_or_large_areas():
    ring = np.zeros((1, 12, 12), dtype=bool)
    ring[0, 2:7, 2:7] = True
    ring[0, 3:6, 3:6] = False  # a 3x3 hole inside a detected ring
    ring[0, 8:12, 8] = True  # a wall touching the frame's edge: what it bounds is not enclosed
    filled = fill_enclosed_holes(ring)
    assert filled[0, 3:6, 3:6].all()
    assert np.array_equal(filled & ~ring, np.pad(np.ones((3, 3), bool), ((3, 6), (3, 6)))[None])
    # The same hole above the largest share of the frame stays open.
    assert np.array_equal(fill_enclosed_holes(ring, max_share=8 / 144), ring)


def test_grown_damage_recovers_a_blotch_whose_middle_looks_like_picture():
    # A blotch found at its rim (0.9), faint (0.1) or missed (0.0) inside; faint noise far off.
    probabilities = np.zeros((1, 20, 20), dtype=np.float32)
    probabilities[0, 4:14, 4:14] = 0.9
    probabilities[0, 6:12, 6:12] = 0.1
    probabilities[0, 8:10, 8:10] = 0.0
    probabilities[0, 17, 17] = 0.3
    blotch = np.zeros((1, 20, 20), dtype=bool)
    blotch[0, 4:14, 4:14] = True
    assert np.count_nonzero((probabilities > 0.5) & blotch) == 64
    assert np.array_equal(grown_damage(probabilities, 0.5, 0.05), blotch)  # the noise far off starts nothing


def _broken_ring(size: int, centre: int, outer: int, inner: int, gap: int) -> np.ndarray:
    """``bool [size, size]``: a ring (a blotch found only at its rim) cut by four gaps of
    ``gap`` pixels that open its inside to the picture."""
    rows, cols = np.mgrid[:size, :size]
    distance = np.hypot(rows - centre, cols - centre)
    ring = (distance <= outer) & (distance > inner)
    half = gap // 2
    ring[centre - half : centre + half + 1, :] = False
    ring[:, centre - half : centre + half + 1] = False
    return ring


def test_compact_thick_detections_are_blotches_and_long_ones_are_not():
    frame = np.zeros((60, 60), dtype=bool)
    frame[5:15, 5:15] = True  # a 10 px square: compact
    frame[:, 40:48] = True  # an 8 px scratch down the frame: as thick, but a line
    frame[30:32, 5:20] = True  # a thin line: not thick at all
    thick = thick_detections(frame)
    assert thick[5:15, 5:15].all() and thick[:, 40:48].all() and not thick[30:32, :20].any()
    compact = thick_detections(frame, compactness=6.0)
    assert np.array_equal(compact, np.pad(np.ones((10, 10), bool), ((5, 45), (5, 45))))


def test_closing_joins_the_pieces_of_a_blotch_so_its_inside_is_filled():
    # A blotch of radius 20 found at its rim only, in four pieces 4 px apart: no hole is enclosed.
    pieces = _broken_ring(120, 60, outer=20, inner=12, gap=4)[None]
    distance = np.hypot(*(np.mgrid[:120, :120] - 60))[None]
    assert np.array_equal(fill_enclosed_holes(pieces), pieces)
    closed = close_blotches(pieces)  # reach: 5 % of 120 px, 6 px
    assert fill_enclosed_holes(closed)[distance <= 18].all()  # the gaps' outer tips are the rim's
    probabilities = np.where(pieces, 0.9, 0.0).astype(np.float32)
    grown = grown_damage(probabilities, 0.5, 0.05)
    assert grown[distance <= 18].all()  # the gaps' outer tips lie outside the closed pieces
    assert not (grown & (distance > 21)).any()  # the blotch, no further (1 px of grid)


def test_closing_leaves_neighbouring_scratches_apart():
    # Two 8 px scratches 6 px apart, and a speck: closing them would take the picture between.
    masks = np.zeros((1, 120, 120), dtype=bool)
    masks[0, :, 40:48] = True
    masks[0, :, 54:62] = True
    masks[0, 90:92, 90:92] = True
    assert np.array_equal(close_blotches(masks), masks)
    assert np.array_equal(close_blotches(masks, compactness=1e9)[0, :, 48:54], np.ones((120, 6), bool))


def test_wide_scratches_are_lines_and_blotches_are_not():
    # A 6 px scratch down a 240 px frame is as thick as a small blotch but 50 times its disc.
    masks = np.zeros((1, 240, 80), dtype=bool)
    masks[0, :, 20:26] = True
    masks[0, 100:112, 50:62] = True  # a 12 px blotch beside it
    lines = line_detections(masks)
    assert np.array_equal(lines[0, :, :40], masks[0, :, :40])
    assert not lines[0, :, 40:].any()


def test_a_detection_is_confirmed_only_where_the_repair_changed_it_beyond_the_tolerance():
    frames = np.full((2, 3, 4, 3), 100, dtype=np.uint8)
    repaired = frames.copy()
    repaired[0, 0, 0] = (110, 100, 100)  # exactly the tolerance: agrees with the picture
    repaired[0, 0, 1] = (100, 100, 89)  # one level past it, in one channel, downwards
    repaired[1, 2, 3] = (0, 0, 0)  # changed a lot
    repaired[1, 1, 1] = (0, 0, 0)  # changed a lot, but never detected
    masks = np.zeros((2, 3, 4), dtype=bool)
    masks[0, 0, :3] = True
    masks[1, 2, 3] = True
    confirmed = confirmed_damage(masks, frames, repaired, tolerance=10)
    expected = np.zeros_like(masks)
    expected[0, 0, 1] = expected[1, 2, 3] = True
    assert np.array_equal(confirmed, expected)
    assert not confirmed_damage(masks, frames, repaired, tolerance=254).any()
    expected[0, 0, 0] = True  # any change counts at 0; the unchanged detection [0, 0, 2] still does not
    assert np.array_equal(confirmed_damage(masks, frames, repaired, tolerance=0), expected)


def test_every_detection_gets_a_rim_outside_it():
    masks = np.zeros((2, 60, 60), dtype=bool)
    masks[0, :, 10:12] = True  # a 2 px scratch line
    masks[0, 40, 40] = True  # a speck
    masks[0, 5:25, 30:50] = True  # a blotch: its soft edge is missed as often as a line's
    rims = detection_rims(masks)
    assert not (rims & masks).any()
    assert rims[0, :, 9].all() and rims[0, :, 12].all() and not rims[0, :, 8].any() and not rims[0, :, 13].any()
    assert rims[0, 39:42, 39:42].sum() == 4  # the speck's four neighbours (a disc of radius 1)
    assert rims[0, 4, 30:50].all() and rims[0, 25, 30:50].all() and rims[0, 5:25, 29].all() and rims[0, 5:25, 50].all()
    assert not rims[0, 4, 29] and not rims[0, 3, 30:50].any() and not rims[1].any()  # one pixel, no corners
    assert not detection_rims(masks, rim=0).any()


def test_a_rim_pixel_needs_a_larger_change_than_a_detected_one():
    frames = np.full((1, 1, 4, 3), 100, dtype=np.uint8)
    repaired = frames.copy()
    repaired[0, 0, :, 0] = (120, 120, 100 + RIM_TOLERANCE, 101 + RIM_TOLERANCE)
    masks = np.array([[[True, False, False, False]]])
    rims = ~masks
    confirmed = confirmed_region(masks, rims, frames, repaired, tolerance=10)
    # The detection changed by 20 stays; the rim changed by 20 or by exactly the rim tolerance does not.
    assert confirmed.tolist() == [[[True, False, False, True]]]
    # A tolerance above the rim's holds for the rim too.
    assert not confirmed_region(masks, rims, frames, repaired, tolerance=RIM_TOLERANCE + 1)[0, 0, 3]


def _line_blotch_clip() -> np.ndarray:
    """Five frames of 40x40: a scratch line in frames 0 and 2, a blotch in frame 1, a speck in frame 4."""
    masks = np.zeros((5, 40, 40), dtype=bool)
    masks[0, :, 10] = masks[2, :, 12] = True
    masks[1, 5:25, 20:35] = True
    masks[4, 30, 30] = True
    return masks


def test_each_frame_gets_the_lines_and_specks_of_the_frames_beside_it_not_their_blotches():
    masks = _line_blotch_clip()
    beside = neighbour_lines(masks)
    assert beside[1, :, 10].all() and beside[1, :, 12].all()  # the lines of frames 0 and 2
    assert not beside[0].any() and not beside[2, :, 10].any()  # frame 1 holds a blotch only
    assert beside[3, :, 12].all() and beside[3, 30, 30] and beside[3].sum() == 41
    assert not beside[4].any() and not beside[:, 5:25, 20:35].any()
    region = confirming_region(masks)
    assert np.all(region >= (masks | detection_rims(masks) | beside))
    assert not (region & ~(masks | detection_rims(masks) | beside)).any()


def test_the_lines_beside_a_chunk_come_from_the_frames_next_to_it():
    masks = _line_blotch_clip()
    whole = neighbour_lines(masks)
    for cut in range(1, len(masks)):
        first = neighbour_lines(masks[:cut], None, masks[cut])
        second = neighbour_lines(masks[cut:], masks[cut - 1], None)
        np.testing.assert_array_equal(np.concatenate([first, second]), whole)
