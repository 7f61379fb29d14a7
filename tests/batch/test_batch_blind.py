"""Batch repair without masks (blind mode): an inbox holding one masked and one unmasked video.

Both are repaired; the unmasked one is repaired inside the mask the detector found, written
beside its output as ``NAME.mask.mkv``; both outputs equal their inputs outside their masks.
The detected mask is an output like the others: a rerun skips it, deleting it redoes the item.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seedvr.batch import BatchItem, Ledger, RepairSettings, run_batch
from seedvr.batch.outbox import detected_mask_path
from seedvr.io import read_mask, read_video, write_mask, write_video
from seedvr.io.atomic import TEMP_MARKER
from seedvr.metrics.detection import detection_scores

TELEA = RepairSettings(method="telea")


@pytest.fixture
def inbox(tmp_path: Path, film_clip) -> Path:
    damaged, mask = film_clip
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_video(folder / "masked.mkv", damaged, fps=24)
    write_mask(folder / "masked.mask.mkv", mask, fps=24)
    write_video(folder / "blind.mkv", damaged, fps=24)
    return folder


def test_a_video_without_a_mask_is_detected_then_repaired_inside_it(inbox: Path, tmp_path: Path, film_clip) -> None:
    damaged, truth = film_clip
    outbox = tmp_path / "outbox"

    results = {result.name: result for result in run_batch(inbox, outbox, TELEA)}

    assert {name: result.status for name, result in results.items()} == {"blind": "repaired", "masked": "repaired"}
    detected = read_mask(outbox / "blind.mask.mkv")
    assert not (outbox / "masked.mask.mkv").exists()  # a given mask is not detected again
    # The detector found the film damage it was trained for (the shipped detector).
    assert detection_scores(detected, truth).recall > 0.5
    for name, mask in (("masked", truth), ("blind", detected)):
        repaired = read_video(outbox / f"{name}.mkv")
        assert np.array_equal(repaired[~mask], damaged[~mask])  # lossless outside the mask
        assert not np.array_equal(repaired[mask], damaged[mask])  # and repaired inside it
    entry = Ledger(outbox).entry(results["blind"].input_hash)
    assert entry["mask"] == str(outbox / "blind.mask.mkv") and "output_hash" in entry["detected_mask"]
    # The detections before confirmation and the confirming repair were temporaries: none is left.
    assert not [path.name for path in outbox.iterdir() if TEMP_MARKER in path.name]


def test_the_detected_mask_is_an_output_for_the_ledger(inbox: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    run_batch(inbox, outbox, TELEA)
    mask_file = detected_mask_path(BatchItem("blind", inbox / "blind.mkv", None), outbox)
    first = mask_file.read_bytes()

    again = {result.name: result.status for result in run_batch(inbox, outbox, TELEA)}
    assert again == {"blind": "skipped", "masked": "skipped"}

    mask_file.unlink()
    redone = {result.name: result.status for result in run_batch(inbox, outbox, TELEA)}
    assert redone == {"blind": "repaired", "masked": "skipped"}
    assert mask_file.read_bytes() == first  # the same detection, deterministic
    assert not any(path.name.startswith(".") and path.name != ".ledger.jsonl" for path in outbox.iterdir())


def test_only_the_detected_mask_is_repaired_without_blending(inbox: Path, tmp_path: Path, monkeypatch) -> None:
    from seedvr.batch import items
    from seedvr.ops.blending import DETECTED_MASK_BLEND

    asked = {}

    def recording(video, mask, target, **options):
        asked[Path(video).stem] = options["blend"]
        return repair_video(video, mask, target, **options)

    repair_video = items.repair_video
    monkeypatch.setattr(items, "repair_video", recording)
    run_batch(inbox, tmp_path / "outbox", TELEA)
    assert asked == {"blind": DETECTED_MASK_BLEND, "masked": None}
