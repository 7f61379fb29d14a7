"""All-or-nothing outputs: write under a temporary name, rename into place on success.

Every writer in the project (videos, frame folders, datasets, reports, JSON) goes through
:func:`atomic_output`, so a crash, an error or a Ctrl-C never leaves a half-written file
where a user or a later pipeline stage would take it for a finished one.

The temporary sits in the same folder as the target because a rename is only atomic within
one file system. It keeps the target's suffix (``.mkv``, ``.json``...) because libraries such
as PyAV and OpenCV choose the format from the file name, and it starts with a dot so folder
listings and globs (``*.mp4``, numbered frames) do not pick it up.

Its name also says who writes it (``.out.seedvr-tmp-HOST-PID-TOKEN.mkv``): a process killed
outright (``kill -9``, a power cut) cannot delete its temporary, so the next writer of the same
output deletes the temporaries whose writer is dead, and only those (:func:`sweep_dead_temporaries`).
Several processes may replace the same folder output at once: the last one wins and no old
output is left behind (:meth:`PendingOutput.commit`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from seedvr.errors import SeedVRError

TEMP_MARKER = ".seedvr-tmp-"
"""Part of every temporary name, so stale temporaries from a killed process are recognisable."""

# Leaves room for the marker, writer and token inside the usual 255-byte limit on a file name.
_MAX_STEM_CHARS = 180
# Tag of a replaced folder output parked aside while the new one moves in.
_PARKED_TAG = "old-"
# Tries at moving a folder into place while other processes replace the same one.
_SWAP_ATTEMPTS = 100


@functools.cache
def _host_id() -> str:
    """Eight hex digits naming this machine and PID namespace: a PID only means something there.

    Two containers sharing an output folder may reuse each other's PIDs (and, with the host's
    network, its host name); neither may take the other's live temporary for a dead one.
    """
    try:
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_namespace = ""
    return hashlib.sha1(f"{socket.gethostname()}|{pid_namespace}".encode()).hexdigest()[:8]


def _name_parts(target: Path) -> tuple[str, str]:
    """The stem and suffix a temporary of ``target`` carries (a folder's whole name is its stem)."""
    stem = target.stem if target.suffix else target.name
    return stem[:_MAX_STEM_CHARS], target.suffix


def temporary_sibling(target: Path, tag: str = "") -> Path:
    """A fresh hidden name next to ``target`` with the same suffix (``.x.seedvr-tmp-HOST-PID-ab12.mkv``)."""
    stem, suffix = _name_parts(target)
    return target.parent / f".{stem}{TEMP_MARKER}{_host_id()}-{os.getpid()}-{tag}{uuid.uuid4().hex[:12]}{suffix}"


def _temporary_pattern(target: Path) -> re.Pattern:
    """What :func:`temporary_sibling` names for ``target`` look like, writer and tag captured."""
    stem, suffix = _name_parts(target)
    return re.compile(
        rf"\.{re.escape(stem)}{re.escape(TEMP_MARKER)}(?P<host>[0-9a-f]{{8}})-(?P<pid>[0-9]+)-"
        rf"(?P<parked>{_PARKED_TAG})?[0-9a-f]{{12}}{re.escape(suffix)}"
    )


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except (OverflowError, ValueError):  # no process can have that number
        return False
    return True


def sweep_dead_temporaries(target: str | os.PathLike) -> list[Path]:
    """Delete the temporaries of ``target`` left by writers that died without cleaning up.

    Only names :func:`temporary_sibling` made for this very target, on this machine, by a
    process that no longer exists: a live writer's temporary (in this process or another) is
    never touched, nor are temporaries written from another machine sharing the folder. A
    folder output parked aside by a writer killed in the middle of its swap is put back when
    nothing took its place, since it is the last complete output.
    """
    target = Path(target)
    pattern = _temporary_pattern(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    swept = []
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or match["host"] != _host_id() or _process_is_alive(int(match["pid"])):
            continue
        leftover = target.parent / name
        if match["parked"] and _put_back(leftover, target):
            continue
        remove_path(leftover)
        swept.append(leftover)
    return swept


# Any temporary name in a folder: the target's stem, the marker, the writer, the token, the suffix.
_ANY_TEMPORARY = re.compile(
    rf"\.(?P<stem>.+?){re.escape(TEMP_MARKER)}(?P<host>[0-9a-f]{{8}})-(?P<pid>[0-9]+)-"
    rf"(?P<parked>{_PARKED_TAG})?[0-9a-f]{{12}}(?P<suffix>(\.[^.]*)?)"
)


def sweep_dead_temporaries_in(folder: str | os.PathLike, foreign_after_s: float | None = None) -> list[Path]:
    """:func:`sweep_dead_temporaries` for every output of ``folder`` (a batch's outbox).

    Temporaries written on another machine sharing the folder cannot be checked for a live
    writer; with ``foreign_after_s`` they are swept once untouched that long (a live writer
    keeps appending), otherwise they are left alone.
    """
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    swept: list[Path] = []
    for name in names:
        match = _ANY_TEMPORARY.fullmatch(name)
        if match is None:
            continue
        if match["host"] == _host_id() and len(match["stem"]) < _MAX_STEM_CHARS:
            swept += sweep_dead_temporaries(folder / f"{match['stem']}{match['suffix']}")
        elif match["host"] == _host_id():
            # The stem was cut to fit: the target's name is unknown, so a parked output stays.
            if not match["parked"] and not _process_is_alive(int(match["pid"])):
                remove_path(folder / name)
                swept.append(folder / name)
        elif foreign_after_s is not None and _untouched_for(folder / name, foreign_after_s):
            remove_path(folder / name)
            swept.append(folder / name)
    return sorted(set(swept))


def _untouched_for(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > seconds
    except FileNotFoundError:  # its writer finished or swept it meanwhile
        return False


def _put_back(parked: Path, target: Path) -> bool:
    """Move a parked output back to ``target`` unless something is there (or arrives) first."""
    if os.path.lexists(target):
        return False
    try:
        os.rename(parked, target)
    except OSError:  # another writer moved its output in meanwhile: that one is newer
        return False
    return True


def check_output_folder(target: str | os.PathLike, what: str = "output", *, make_parents: bool = False) -> None:
    """The folder ``target`` goes in exists (or is created, with ``make_parents``) and takes new entries.

    Checked before any work, so a read-only or missing folder is one line, not a traceback
    after minutes of computing.

    Raises:
        SeedVRError: the folder is missing (and not to be created), cannot be created, or is not writable.
    """
    parent = Path(target).parent
    if make_parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SeedVRError(f"cannot create the {what} folder {parent}: {error.strerror}") from None
    if not parent.is_dir():
        raise SeedVRError(f"{what} folder {parent} does not exist")
    # Write to add the entry, execute (search) to rename into it. A read-only mount fails here too.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SeedVRError(f"{what} folder {parent} is not writable")


def check_outputs_apart(outputs: Mapping[str, Path], inputs: Mapping[str, Path]) -> None:
    """No output may land on an input or on another output, nor inside or around one.

    ``outputs`` and ``inputs`` map a label for messages (``"--report"``, ``"the mask"``) to a
    path. Two paths clash when they are the same file (links included, when both exist) or
    resolve to the same path, or when one is inside the other: a frame-folder output is
    replaced as a whole, and an output inside a frame-folder input would change that input.

    Raises:
        SeedVRError: naming the first two paths that clash.
    """
    labelled = list(outputs.items())
    for index, (label, path) in enumerate(labelled):
        for other_label, other in [*inputs.items(), *labelled[index + 1 :]]:
            clash = _clash(Path(path), Path(other))
            if clash:
                why = "an output must not overwrite an input, a mask or another output"
                raise SeedVRError(f"{label} {path} {clash} {other_label} {other}: {why}")


def _clash(path: Path, other: Path) -> str | None:
    """How ``path`` clashes with ``other`` (``"is the same path as"``, ``"is inside"``, ``"contains"``), or ``None``."""
    same = "is the same path as"
    # samefile sees hard links and needs both to exist; otherwise compare where they would be.
    with contextlib.suppress(OSError):
        if os.path.samefile(path, other):
            return same
    resolved, other_resolved = path.resolve(), other.resolve()
    if resolved == other_resolved:
        return same
    if resolved.is_relative_to(other_resolved):
        return "is inside"
    if other_resolved.is_relative_to(resolved):
        return "contains"
    return None


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
        check_output_folder(self.target, make_parents=make_parents)
        if not overwrite and os.path.lexists(self.target):
            raise SeedVRError(f"{self.target} already exists")
        sweep_dead_temporaries(self.target)
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
        # A folder cannot be renamed over a non-empty one: park the old output under a
        # temporary name, move the new one in, then delete the old. Another process may move
        # its own folder in between our two renames; then we park that one too and try again,
        # so the last writer wins and every replaced output is deleted, none orphaned. On an
        # error the old output is put back, so an error never leaves the target missing.
        for _ in range(_SWAP_ATTEMPTS):
            parked = self._park_target()
            try:
                os.rename(self.temp, self.target)
            except BaseException as error:
                self._restore(parked)
                if isinstance(error, OSError) and error.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    continue  # another writer's folder arrived at the target: park it in turn
                raise
            if parked is not None:
                remove_path(parked)
            return
        raise SeedVRError(f"could not replace {self.target}: other processes keep replacing it at the same time")

    def _park_target(self) -> Path | None:
        """Move the current output aside; ``None`` when there is none (or another writer just parked it)."""
        parked = temporary_sibling(self.target, tag=_PARKED_TAG)
        try:
            os.rename(self.target, parked)
        except FileNotFoundError:
            return None
        return parked

    def _restore(self, parked: Path | None) -> None:
        """Put a parked output back after a failed swap, or delete it if a newer one took its place."""
        if parked is not None and not _put_back(parked, self.target):
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
