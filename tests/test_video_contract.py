"""The video contract: what passes, and one sentence naming the caller's input for what does not."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.video_contract import check_video, check_video_and_masks, check_videos_alike

VIDEO = np.zeros((3, 8, 10, 3), np.uint8)


@pytest.mark.parametrize(
    "video, message",
    [
        (VIDEO.astype(np.float32), "uint8"),
        (VIDEO.tolist(), "got list"),
        (VIDEO[..., 0], r"\[T, H, W, 3\]"),
        (VIDEO[:0], r"T, H, W >= 1"),
        (VIDEO[:, :0], r"T, H, W >= 1"),
    ],
)
def test_a_bad_video_is_one_sentence_naming_it(video, message):
    check_video(VIDEO)
    with pytest.raises(SeedVRError, match=message) as error:
        check_video(video, "clip")
    assert str(error.value).startswith("clip ") and "\n" not in str(error.value)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int64])
def test_masks_come_back_as_bool_with_non_zero_damaged(dtype):
    masks = np.zeros(VIDEO.shape[:3], dtype)
    masks[1, 2, 3] = 255 if dtype == np.uint8 else 1
    checked = check_video_and_masks(VIDEO, masks)
    assert checked.dtype == np.bool_ and checked.sum() == 1 and checked[1, 2, 3]


def test_bad_masks_are_refused():
    with pytest.raises(SeedVRError, match="hole must be a bool or integer"):
        check_video_and_masks(VIDEO, np.zeros(VIDEO.shape[:3], np.float32), names=("clip", "hole"))
    with pytest.raises(SeedVRError, match=r"hole shape \(3, 8, 9\) does not match .* of clip"):
        check_video_and_masks(VIDEO, np.zeros((3, 8, 9), bool), names=("clip", "hole"))
    with pytest.raises(SeedVRError, match="clip must be a uint8"):
        check_video_and_masks(VIDEO.astype(np.int16), np.zeros(VIDEO.shape[:3], bool), names=("clip", "hole"))


def test_two_videos_must_be_alike():
    check_videos_alike(VIDEO, VIDEO.copy())
    with pytest.raises(SeedVRError, match="pred shape .* differs from target shape"):
        check_videos_alike(VIDEO, VIDEO[:2])
    with pytest.raises(SeedVRError, match="target must be a uint8"):
        check_videos_alike(VIDEO, VIDEO.astype(np.float32))
