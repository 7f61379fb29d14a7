"""One item of a batch: repair it into the outbox, or quarantine it with a one-line reason.

Outbox layout: ``NAME.EXT`` (the output extension is a setting), ``NAME.report.json``, and
``NAME.mask.mkv`` for a video given without a mask (the detected mask it was repaired in); reports
of bad inputs go to ``QUARANTINE/NAME.error.json`` (see :mod:`seedvr.batch.outbox`). Inputs
are only ever read. Both files appear atomically and the ledger line, which records the
output's hash, is written last (see :mod:`seedvr.batch.ledger`).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from seedvr.batch.detection import detect_mask
from seedvr.batch.hashing import input_hash, output_record
from seedvr.batch.inbox import BatchItem
from seedvr.batch.ledger import STATUS_QUARANTINED, STATUS_REPAIRED, Ledger
from seedvr.batch.model_cache import loaded_method
from seedvr.batch.outbox import detected_mask_path, error_report_path, output_path, report_path
from seedvr.batch.settings import RepairSettings
from seedvr.engine.methods import RepairMethod
from seedvr.engine.repair import repair_video
from seedvr.errors import SeedVRError
from seedvr.io import atomic_output
from seedvr.ops.blending import DETECTED_MASK_BLEND


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ItemResult:
    """What happened to one item in a batch run (one row of the results table)."""

    name: str
    status: str
    input: str
    input_hash: str | None = None
    output: str | None = None
    report: str | None = None
    frames: int | None = None
    seconds: float | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_row(self) -> dict:
        """The columns of the batch results table."""
        return {
            "name": self.name,
            "status": self.status,
            "frames": self.frames,
            "seconds": self.seconds,
            "output": self.output,
            "error": self.error,
        }


def one_line(error: BaseException) -> str:
    """An error as one line: the user's sentence for :class:`SeedVRError`, else ``Type: text``."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(error, SeedVRError):
        return first or "invalid input"
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _write_json(path: Path, data: dict) -> None:
    with atomic_output(path, make_parents=True) as staging:
        staging.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def repair_item(
    item: BatchItem,
    outbox: str | os.PathLike,
    settings: RepairSettings,
    digest: str | None = None,
    method: RepairMethod | str | None = None,
) -> ItemResult:
    """Repair one item into ``outbox/NAME.EXT`` + ``NAME.report.json``, then commit it to the ledger.

    Both files appear atomically; the ledger line is written last, so a crash at any point
    leaves the item to be redone by the next run. Does not consult the ledger (see
    :func:`plan_batch` for skipping). ``method`` defaults to :func:`loaded_method`.

    Raises:
        SeedVRError: the item has a problem or its input is bad (see :func:`repair_video`).
    """
    if item.problem:
        raise SeedVRError(item.problem)
    outbox = Path(outbox)
    digest = digest or input_hash(item, settings)
    target = output_path(item, outbox, settings)
    mask, detected = item.mask, None
    if mask is None:  # blind mode: the detector's mask, written beside the output, then repaired inside
        mask = detected_mask_path(item, outbox)
        detected = detect_mask(item.video, mask, settings)
    report = repair_video(
        item.video,
        mask,
        target,
        method=method or loaded_method(settings),
        chunk=settings.chunk,
        overlap=settings.overlap,
        steps=settings.steps,
        device=settings.device,
        precision=settings.precision,
        mask_dilate=settings.mask_dilate,
        max_side=settings.max_side,
        seed=settings.seed,
        crf=settings.crf,
        # A detected mask's ring may still hold the damage's rim: see DETECTED_MASK_BLEND.
        blend=None if detected is None else DETECTED_MASK_BLEND,
        # A clean video is detected clean and passes through; a given mask must mark something.
        allow_empty_mask=detected is not None,
    )
    finished = _now()
    report_data = {
        **report.to_dict(),
        "input_hash": digest,
        "model_uri": settings.model if settings.uses_model else None,
        "finished": finished,
    }
    if detected is not None:
        report_data["detected_mask"] = {"path": str(mask), "flagged_fraction": detected["flagged_fraction"]}
    report_file = report_path(item, outbox)
    _write_json(report_file, report_data)
    Ledger(outbox).append(
        {
            "hash": digest,
            "status": STATUS_REPAIRED,
            "name": item.name,
            "input": str(item.video),
            "mask": str(mask),
            "output": str(target),
            **output_record(target),
            # The detected mask is an output too: deleted or changed, the item is redone.
            **({"detected_mask": output_record(mask)} if detected is not None else {}),
            "report": report_data,
            "time": finished,
        }
    )
    return ItemResult(
        item.name, STATUS_REPAIRED, str(item.video), digest, str(target), str(report_file), report.frames, report.seconds
    )


def quarantine_item(
    item: BatchItem,
    quarantine_dir: str | os.PathLike,
    error: BaseException | str,
    ledger: Ledger | None = None,
    digest: str | None = None,
) -> ItemResult:
    """Write ``quarantine_dir/NAME.error.json`` (input, mask, one-line error, time) atomically.

    The input itself is left where it is, untouched. With a ``ledger`` (and the item's hash)
    the verdict is recorded, so the same bytes are not tried again; without one (unexpected
    errors) the next run retries the item.
    """
    message = error if isinstance(error, str) else one_line(error)
    recorded = ledger is not None and digest is not None
    target = error_report_path(item, quarantine_dir)
    time_now = _now()
    _write_json(
        target,
        {
            "name": item.name,
            "input": str(item.video),
            "mask": str(item.mask) if item.mask else None,
            "error": message,
            "input_hash": digest,
            "time": time_now,
            "retry": "when the input or its mask changes" if recorded else "on the next run",
        },
    )
    if recorded:
        ledger.append(
            {
                "hash": digest,
                "status": STATUS_QUARANTINED,
                "name": item.name,
                "input": str(item.video),
                "mask": str(item.mask) if item.mask else None,
                "output": None,
                "report": str(target),
                "error": message,
                "time": time_now,
            }
        )
    return ItemResult(item.name, STATUS_QUARANTINED, str(item.video), digest, None, str(target), error=message)


def process_item(
    item: BatchItem,
    outbox: str | os.PathLike,
    quarantine_dir: str | os.PathLike,
    settings: RepairSettings,
    digest: str | None = None,
) -> ItemResult:
    """Repair one item, or quarantine it (recorded in the ledger) when its input is bad.

    Only :class:`SeedVRError` (a bad input, explained in one line) is caught here; anything
    else propagates so the caller can retry it (the flow's task retries) before quarantining.
    A successful repair removes an earlier error report of the same name, which would
    otherwise claim the item is still broken, and, when a mask was given, the detected mask
    of an earlier blind repair, which would otherwise claim it was repaired there.

    Raises:
        ModelUnavailable: the model cannot be loaded in this worker. It is not this video's
            fault: the caller fails the run instead of quarantining anything.
    """
    digest = digest or input_hash(item, settings)
    method = loaded_method(settings)  # outside the try: see Raises
    try:
        result = repair_item(item, outbox, settings, digest, method)
    except SeedVRError as error:
        return quarantine_item(item, quarantine_dir, error, Ledger(outbox), digest)
    with contextlib.suppress(FileNotFoundError):
        error_report_path(item, quarantine_dir).unlink()
    if item.mask is not None:
        # A detected mask left by an earlier blind repair of this name no longer describes the output.
        detected_mask_path(item, outbox).unlink(missing_ok=True)
    return result
