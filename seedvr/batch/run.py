"""One batch run: check the settings and folders, plan what to do, then do it item by item.

:func:`plan_batch` is shared with the Prefect flow (which maps the to-do items over tasks);
:func:`run_batch` is the same policy in this process, without Prefect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from seedvr.batch.hashing import input_hash, model_identity, output_intact
from seedvr.batch.inbox import BatchItem, discover_inbox
from seedvr.batch.items import ItemResult, process_item, quarantine_item
from seedvr.batch.ledger import STATUS_QUARANTINED, STATUS_REPAIRED, STATUS_SKIPPED, Ledger
from seedvr.batch.model_cache import ModelUnavailable, loaded_method, pin_model
from seedvr.batch.outbox import detected_mask_path, name_problem, output_path
from seedvr.batch.settings import RepairSettings, absolute_path
from seedvr.errors import SeedVRError
from seedvr.io.atomic import sweep_dead_temporaries_in

QUARANTINE_FOLDER = "quarantine"
# A temporary from another machine sharing the outbox, untouched this long, belongs to a killed
# process (a live writer keeps appending); this machine's are swept as soon as their writer is dead.
FOREIGN_TEMPORARY_SECONDS = 3600.0


@dataclass
class BatchPlan:
    """What a run has to do: ``todo`` items with their hashes, and what it skips.

    ``settings`` are the run's settings with the model pinned (:func:`pin_model`), and the
    folders are absolute: repair the to-do items with these, not the ones asked for, so a
    worker in another current folder reads and writes the same files.
    """

    settings: RepairSettings
    inbox: Path
    outbox: Path
    quarantine_dir: Path
    todo: list[tuple[BatchItem, str]] = field(default_factory=list)
    skipped: list[ItemResult] = field(default_factory=list)
    unreadable: list[ItemResult] = field(default_factory=list)


def default_quarantine(outbox: str | os.PathLike) -> Path:
    return Path(outbox) / QUARANTINE_FOLDER


def check_folders(inbox: Path, outbox: Path) -> None:
    """The outbox must not be the inbox: outputs would be taken for new inputs next run."""
    if not inbox.is_dir():
        raise SeedVRError(f"inbox {inbox} is not a folder")
    if outbox.exists() and not outbox.is_dir():
        raise SeedVRError(f"outbox {outbox} exists and is not a folder")
    if outbox.resolve() == inbox.resolve():
        raise SeedVRError("the outbox must differ from the inbox: outputs would be repaired again as inputs")


def plan_batch(
    inbox: str | os.PathLike,
    outbox: str | os.PathLike,
    settings: RepairSettings,
    quarantine_dir: str | os.PathLike | None = None,
) -> BatchPlan:
    """Check the settings, create the outbox, discover the inbox, split it into to-do and
    skipped, and load the model when there is work for it.

    An item is skipped when the ledger has its hash and, if it was repaired, its output
    is still there as committed; a deleted or changed output is repaired again. An item
    whose input cannot be read right now (deleted or still locked mid-run) gets an
    unrecorded quarantine report and is looked at again by the next run.

    Raises:
        SeedVRError: bad settings, a missing inbox, or a model that cannot be resolved or
            loaded (:class:`ModelUnavailable`); nothing is quarantined then, since the fault
            is not the videos'.
    """
    inbox, outbox = absolute_path(inbox), absolute_path(outbox)
    quarantine_dir = absolute_path(quarantine_dir) if quarantine_dir is not None else default_quarantine(outbox)
    settings.check()
    check_folders(inbox, outbox)
    items = discover_inbox(inbox)
    outbox.mkdir(parents=True, exist_ok=True)
    sweep_dead_temporaries_in(outbox, FOREIGN_TEMPORARY_SECONDS)
    sweep_dead_temporaries_in(quarantine_dir, FOREIGN_TEMPORARY_SECONDS)
    plan = BatchPlan(pin_model(settings) if items else settings, inbox, outbox, quarantine_dir)
    model_id = model_identity(plan.settings.model) if items and plan.settings.uses_model else None
    ledger = Ledger(outbox)
    unreadable: list[tuple[BatchItem, str]] = []
    for item in items:
        item = _with_name_problem(item, plan)
        try:
            digest = input_hash(item, plan.settings, model_id)
        except OSError as error:
            unreadable.append((item, f"cannot read the input: {error}"))
            continue
        entry = ledger.entry(digest)
        if entry is not None and _still_done(item, entry, plan):
            plan.skipped.append(_skipped(item, digest, entry))
        else:
            plan.todo.append((item, digest))
    if plan.todo or unreadable:
        # Before any video is repaired or quarantined: a model that cannot load fails the
        # run here, with every video left as it was for the next run.
        loaded_method(plan.settings)
    plan.unreadable = [quarantine_item(item, quarantine_dir, reason) for item, reason in unreadable]
    return plan


def _with_name_problem(item: BatchItem, plan: BatchPlan) -> BatchItem:
    """The item, or the item with a problem when its outbox names are too long for the file system."""
    if item.problem:
        return item
    problem = name_problem(item, plan.outbox, plan.settings)
    return replace(item, problem=problem) if problem else item


def _still_done(item: BatchItem, entry: dict, plan: BatchPlan) -> bool:
    """Whether a ledger entry still holds: a known-bad input, or an output (and its detected mask,
    for a video given without one) still there unchanged."""
    if entry.get("status") == STATUS_QUARANTINED:
        return True
    if entry.get("status") != STATUS_REPAIRED or not output_intact(output_path(item, plan.outbox, plan.settings), entry):
        return False
    detected = entry.get("detected_mask")
    return detected is None or output_intact(detected_mask_path(item, plan.outbox), detected)


def _skipped(item: BatchItem, digest: str, entry: dict) -> ItemResult:
    return ItemResult(
        item.name,
        STATUS_SKIPPED,
        str(item.video),
        digest,
        output=entry.get("output"),
        error=entry.get("error"),  # a known-bad input says why it is left alone
    )


def run_batch(
    inbox: str | os.PathLike,
    outbox: str | os.PathLike,
    settings: RepairSettings,
    quarantine_dir: str | os.PathLike | None = None,
) -> list[ItemResult]:
    """Repair a whole inbox in this process, one item after the other.

    The same policy as the flow, without Prefect: finished items are skipped, bad inputs
    quarantined and recorded, unexpected errors quarantined unrecorded (retried next run).

    Raises:
        SeedVRError: see :func:`plan_batch`; a model that cannot load fails the run, and
            nothing is quarantined for it.
    """
    plan = plan_batch(inbox, outbox, settings, quarantine_dir)
    results = [*plan.skipped, *plan.unreadable]
    for item, digest in plan.todo:
        try:
            results.append(process_item(item, plan.outbox, plan.quarantine_dir, plan.settings, digest))
        except ModelUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - one broken video must not stop the batch
            results.append(quarantine_item(item, plan.quarantine_dir, error))
    return sorted(results, key=lambda result: result.name)


def summarize(results: list[ItemResult]) -> dict:
    """Counts per status plus every row, as the flow returns it."""
    counts = {status: 0 for status in (STATUS_REPAIRED, STATUS_SKIPPED, STATUS_QUARANTINED)}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return {**counts, "items": [result.to_dict() for result in results]}
