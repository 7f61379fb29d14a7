"""Which videos the inbox holds, each with its mask (the naming rules are in :mod:`seedvr.batch`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from seedvr.errors import SeedVRError
from seedvr.io import FPS_SIDECAR, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from seedvr.io.frames import list_frame_files

MASK_MARKER = ".mask"
SHARED_MASK_STEM = "mask"


@dataclass(frozen=True)
class BatchItem:
    """One video of the inbox: where its output goes (``name``), its input and its mask.

    ``mask`` ``None`` (no mask given): the damage is found by the detector (blind mode,
    :mod:`seedvr.batch.detection`). ``problem`` is a one-line reason the item cannot be
    repaired as found (an ambiguous mask, a name clash, an input outside the inbox, a name
    too long for the outbox); such items go straight to quarantine and their input is never read.
    """

    name: str
    video: Path
    mask: Path | None
    problem: str | None = None


def _mask_owner(entry: Path) -> str | None:
    """The video name a mask entry belongs to (``clip`` for ``clip.mask.png``), else None."""
    if entry.is_dir():
        stem = entry.name
    elif entry.suffix.lower() in VIDEO_EXTENSIONS | IMAGE_EXTENSIONS:
        stem = entry.stem
    else:
        return None
    if stem.lower().endswith(MASK_MARKER) and len(stem) > len(MASK_MARKER):
        return stem[: -len(MASK_MARKER)]
    return None


def _is_shared_mask(entry: Path) -> bool:
    return entry.is_file() and entry.suffix.lower() in IMAGE_EXTENSIONS and entry.stem.lower() == SHARED_MASK_STEM


def _video_name(entry: Path) -> str | None:
    """The output name of a video entry (``clip`` for ``clip.mp4`` or ``clip/``), else None."""
    if entry.is_file() and entry.suffix.lower() in VIDEO_EXTENSIONS:
        return entry.stem
    if entry.is_dir() and list_frame_files(entry):
        return entry.name
    return None


def frame_folder_members(folder: Path) -> list[Path]:
    """The files a frame folder's video is made of: its frames, then ``fps.txt`` if present."""
    members = list_frame_files(folder)
    if (folder / FPS_SIDECAR).is_file():
        members.append(folder / FPS_SIDECAR)  # the frame rate is kept in the output
    return members


def _outside_target(entry: Path, root: Path) -> Path | None:
    """Where ``entry`` (or, for a frame folder, one of its files) leads outside ``root``, else None.

    Links are resolved by name only: nothing outside the inbox is opened or read.
    """
    target = entry.resolve()
    if not target.is_relative_to(root):
        return target
    for member in frame_folder_members(entry) if entry.is_dir() else ():
        target = member.resolve()
        if not target.is_relative_to(root):
            return target
    return None


def _link_problem(entry: Path, root: Path) -> str | None:
    """Why ``entry`` may not be read, when it is a link leading out of the inbox or nowhere."""
    try:
        target = _outside_target(entry, root)
    except (OSError, RuntimeError):  # a link loop (a RuntimeError before Python 3.13)
        return f"{entry.name} is a link that leads to itself; replace it with the file"
    if target is None:
        return None
    return f"{entry.name} is a link to {target}, outside the inbox; copy the file into the inbox instead"


def _confined(item: BatchItem, root: Path) -> BatchItem:
    """The item, or the item with a problem when its video or mask is a link leading out of the inbox.

    A link would let whoever can write the inbox make the batch read (and copy into the
    outbox) any file the worker can read.
    """
    for entry in (item.video, item.mask):
        problem = _link_problem(entry, root) if entry is not None else None
        if problem is not None:
            return replace(item, problem=problem)
    return item


def _listing(folder: Path) -> str:
    return ", ".join(sorted(path.name for path in folder))


def discover_inbox(inbox: str | os.PathLike) -> list[BatchItem]:
    """Every video of ``inbox`` with its mask, in name order (see the module doc for rules).

    Raises:
        SeedVRError: ``inbox`` is not a folder.
    """
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise SeedVRError(f"inbox {inbox} is not a folder")
    own_masks: dict[str, list[Path]] = {}
    shared_masks: list[Path] = []
    videos: dict[str, list[Path]] = {}
    for entry in sorted(inbox.iterdir(), key=lambda path: path.name):
        if entry.name.startswith("."):
            continue  # our own temporaries and the system's hidden files
        owner = _mask_owner(entry)
        if owner is not None:
            own_masks.setdefault(owner, []).append(entry)
        elif _is_shared_mask(entry):
            shared_masks.append(entry)
        else:
            name = _video_name(entry)
            if name is not None:
                videos.setdefault(name, []).append(entry)

    items: list[BatchItem] = []
    for name, entries in sorted(videos.items()):
        if len(entries) > 1:
            # Both would write outbox/NAME.*: refuse rather than let one overwrite the other.
            problem = f"several inputs are named {name} ({_listing(entries)}); rename all but one"
            items.extend(BatchItem(entry.name, entry, None, problem) for entry in entries)
            continue
        items.append(_match_mask(name, entries[0], own_masks.get(name, []), shared_masks))
    root = inbox.resolve()
    return [_confined(item, root) for item in items]


def _match_mask(name: str, video: Path, own: list[Path], shared: list[Path]) -> BatchItem:
    if len(own) == 1:
        return BatchItem(name, video, own[0])
    if len(own) > 1:
        return BatchItem(name, video, None, f"several masks for {video.name} ({_listing(own)}); keep one")
    if len(shared) == 1:
        return BatchItem(name, video, shared[0])
    if len(shared) > 1:
        return BatchItem(name, video, None, f"several inbox-wide masks ({_listing(shared)}) and none for {video.name}; keep one")
    return BatchItem(name, video, None)  # no mask: the detector finds the damage
