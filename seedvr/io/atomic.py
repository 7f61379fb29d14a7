"""All-or-nothing outputs: write under a temporary name, rename into place on success.

Every writer in the project (videos, frame folders, datasets, reports, JSON) goes through
:func:`atomic_output`, so a crash, an error or a Ctrl-C never leaves a half-written file
where a user or a later pipeline stage would take it for a finished one.

The temporary sits in the same folder as the target because a rename is only atomic within
one file system. It keeps the target's suffix (``.mkv``, ``.json``...) because libraries such
as PyAV and OpenCV choose the format from the file name, and it starts with a dot so folder
listings and globs (``*.mp4``, numbered frames) do not pick it up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from seedvr.errors import SeedVRError

TEMP_MARKER = ".seedvr-tmp-"
"""Part of every temporary name, so stale temporaries from a killed process are recognisable."""

# Leaves room for the marker and token inside the usual 255-byte limit on a file name.
_MAX_STEM_CHARS = 200


def temporary_sibling(target: Path, tag: str = "") -> Path:
    """A fresh hidden name next to ``target`` with the same suffix (``.x.seedvr-tmp-ab12.mkv``)."""
    token = uuid.uuid4().hex[:12]
    stem = target.stem[:_MAX_STEM_CHARS] if target.suffix else target.name[:_MAX_STEM_CHARS]
    return target.parent / f".{stem}{TEMP_MARKER}{tag}{token}{target.suffix}"


def remove_path(path: Path) -> None:
    """Delete a file, link or folder tree; a path that is already gone is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _fsync_file(path: Path) -> None:
    # Without this, a power cut shortly after the rename can leave an empty file under the
    # final name on some file systems: the rename reaches the disk before the data.
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a folder, so best effort.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


class PendingOutput:
    """One output being written under a temporary name; :meth:`commit` or :meth:`discard` it.

    :func:`atomic_output` is the usual way in; writers that are themselves context managers
    (``VideoWriter``) hold a ``PendingOutput`` directly.

    Args:
        target: the final path (a file or a folder; the caller decides which by what it
            creates at :attr:`temp`).
        overwrite: replace an existing ``target`` on commit. When ``False`` an existing
            target is a :class:`SeedVRError`, checked now and again at commit.
        make_parents: create missing parent folders instead of refusing.
    """

    def __init__(self, target: str | os.PathLike, *, overwrite: bool = True, make_parents: bool = False) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        if str(self.target) in ("", "."):
            raise SeedVRError("an output path is required")
        parent = self.target.parent
        if make_parents:
            parent.mkdir(parents=True, exist_ok=True)
        elif not parent.is_dir():
            raise SeedVRError(f"output folder {parent} does not exist")
        if not overwrite and os.path.lexists(self.target):
            raise SeedVRError(f"{self.target} already exists")
        self.temp = temporary_sibling(self.target)
        self.done = False

    def commit(self) -> Path:
        """Move the temporary into place; on any failure the temporary is deleted."""
        if self.done:
            raise RuntimeError(f"output {self.target} was already committed or discarded")
        try:
            if not os.path.lexists(self.temp):
                raise RuntimeError(f"nothing was written to the temporary path {self.temp}")
            if not self.overwrite and os.path.lexists(self.target):
                raise SeedVRError(f"{self.target} already exists")
            if self.temp.is_dir():
                self._move_folder_into_place()
            else:
                if self.target.is_dir() and not self.target.is_symlink():
                    raise SeedVRError(f"{self.target} is a folder; cannot replace it with a file")
                _fsync_file(self.temp)
                os.replace(self.temp, self.target)
            _fsync_folder(self.target.parent)
        except BaseException:
            self.discard()
            raise
        self.done = True
        return self.target

    def _move_folder_into_place(self) -> None:
        if not os.path.lexists(self.target):
            os.rename(self.temp, self.target)
            return
        # A folder cannot be renamed over a non-empty one: park the old output under a
        # temporary name, move the new one in, then delete the old. If the second rename
        # fails the old output is put back, so the target is never left missing by an error.
        parked = temporary_sibling(self.target, tag="old-")
        os.rename(self.target, parked)
        try:
            os.rename(self.temp, self.target)
        except BaseException:
            os.rename(parked, self.target)
            raise
        remove_path(parked)

    def discard(self) -> None:
        """Delete the temporary (file or folder); the target is left as it was."""
        remove_path(self.temp)
        self.done = True


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = True, make_parents: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place if the block succeeds.

    The block creates either a file or a folder at the yielded path. On success it replaces
    ``path``; on any exception (KeyboardInterrupt included) it is deleted and ``path`` is left
    untouched. Example::

        with atomic_output(Path("report.json")) as tmp:
            tmp.write_text(json.dumps(report))

    Raises:
        SeedVRError: the parent folder does not exist (unless ``make_parents``), or the
            target exists and ``overwrite`` is false.
    """
    pending = PendingOutput(path, overwrite=overwrite, make_parents=make_parents)
    try:
        yield pending.temp
    except BaseException:
        pending.discard()
        raise
    pending.commit()
