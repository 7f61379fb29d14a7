"""Where an item's files go: ``OUTBOX/NAME.EXT``, ``OUTBOX/NAME.report.json``, for a video
given without a mask ``OUTBOX/NAME.mask.mkv`` (the detected one), and
``QUARANTINE/NAME.error.json``; and whether those names fit the file system.

Names come from the inbox, so a name the inbox can hold may still be too long once a suffix
(or a temporary's marker) is added. Such an item is quarantined with a reason, under a
shortened report name, instead of failing the run on a ``File name too long`` error.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from seedvr.batch.inbox import BatchItem
from seedvr.batch.settings import RepairSettings
from seedvr.io.atomic import temporary_sibling

REPORT_SUFFIX = ".report.json"
DETECTED_MASK_SUFFIX = ".mask.mkv"
ERROR_SUFFIX = ".error.json"
# Ext4, XFS, Btrfs, APFS and NTFS all stop at 255 (bytes or UTF-16 units) per name.
DEFAULT_NAME_MAX = 255
# How much of an over-long name its error report keeps: short enough for any file system.
_SHORTENED_NAME_BYTES = 100


def output_path(item: BatchItem, outbox: str | os.PathLike, settings: RepairSettings) -> Path:
    return Path(outbox) / f"{item.name}{settings.output_extension}"


def report_path(item: BatchItem, outbox: str | os.PathLike) -> Path:
    return Path(outbox) / f"{item.name}{REPORT_SUFFIX}"


def detected_mask_path(item: BatchItem, outbox: str | os.PathLike) -> Path:
    """``OUTBOX/NAME.mask.mkv``: the mask the detector found for a video given without one
    (lossless, white = damage), beside the output so a person can check what was repaired."""
    return Path(outbox) / f"{item.name}{DETECTED_MASK_SUFFIX}"


def item_outputs(item: BatchItem, outbox: str | os.PathLike, settings: RepairSettings) -> list[Path]:
    """Every file a repaired item leaves in the outbox: output, report, and its detected mask when it had none."""
    outputs = [output_path(item, outbox, settings), report_path(item, outbox)]
    return outputs + ([detected_mask_path(item, outbox)] if item.mask is None else [])


def error_report_path(item: BatchItem, quarantine_dir: str | os.PathLike) -> Path:
    """``QUARANTINE/NAME.error.json``, shortened (and kept unique by a hash) when that name does not fit."""
    target = Path(quarantine_dir) / f"{item.name}{ERROR_SUFFIX}"
    if _too_long(target) is None:
        return target
    head = os.fsencode(item.name)[:_SHORTENED_NAME_BYTES].decode("utf-8", errors="ignore")
    tag = hashlib.sha256(os.fsencode(item.name)).hexdigest()[:12]
    return target.with_name(f"{head}~{tag}{ERROR_SUFFIX}")


def name_problem(item: BatchItem, outbox: str | os.PathLike, settings: RepairSettings) -> str | None:
    """Why the item's outbox files cannot be written under its name (too long), else None."""
    for target in item_outputs(item, outbox, settings):
        excess = _too_long(target)
        if excess is not None:
            name_bytes, limit = excess
            return (
                f"the name {item.name} is too long: the outbox file {target.name} (or its temporary) needs "
                f"{name_bytes} bytes, over this file system's limit of {limit} per name; rename the input shorter"
            )
    return None


def _too_long(target: Path) -> tuple[int, int] | None:
    """``(bytes, limit)`` when ``target``'s name or its temporary's is longer than its folder allows."""
    limit = _name_max(target.parent)
    longest = max(len(os.fsencode(name)) for name in (target.name, temporary_sibling(target).name))
    return (longest, limit) if longest > limit else None


def _name_max(folder: Path) -> int:
    """The longest file name, in bytes, the file system under ``folder`` (or its nearest existing parent) takes."""
    existing = next((path for path in (folder, *folder.parents) if path.is_dir()), None)
    try:
        return os.pathconf(existing, "PC_NAME_MAX") if existing is not None else DEFAULT_NAME_MAX
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer from this file system
        return DEFAULT_NAME_MAX
