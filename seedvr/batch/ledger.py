"""The ledger: the append-only record of finished items, ``outbox/.ledger.jsonl``.

Every finished item appends one line keyed by :func:`seedvr.batch.hashing.input_hash`. The
line is the commit point of an item: an output written just before a crash has no line, so
the next run repairs it again. A repaired item's line records its output's hash, so an output
deleted or changed since is repaired again too. A bad input is recorded (``quarantined``), so
it is not retried until its bytes (or its mask) change.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

try:  # POSIX: an advisory lock keeps appends from several processes whole.
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl; the in-process lock remains.
    fcntl = None

LEDGER_NAME = ".ledger.jsonl"
# What happened to an item in a run. Only the first two are ever written to the ledger.
STATUS_REPAIRED = "repaired"
STATUS_QUARANTINED = "quarantined"
STATUS_SKIPPED = "skipped"


class Ledger:
    """The append-only record of finished items: ``outbox/.ledger.jsonl``, one JSON per line.

    A line is written with one ``write`` under a lock, then flushed and fsynced, so a crash
    loses at most the line being written; a torn last line is ignored when reading. The
    file is re-read only when it changed, so asking about many hashes stays cheap.
    """

    _append_lock = threading.Lock()

    def __init__(self, outbox: str | os.PathLike) -> None:
        self.path = Path(outbox) / LEDGER_NAME
        self._stamp: tuple[int, int] | None = None
        self._latest: dict[str, dict] = {}

    def entries(self) -> list[dict]:
        """Every readable line, oldest first."""
        if not self.path.is_file():
            return []
        entries = []
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                with contextlib.suppress(json.JSONDecodeError):
                    entry = json.loads(line)
                    if isinstance(entry, dict) and "hash" in entry:
                        entries.append(entry)
        return entries

    def _index(self) -> dict[str, dict]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._latest = {entry["hash"]: entry for entry in self.entries()}
            self._stamp = stamp
        return self._latest

    def entry(self, input_hash: str) -> dict | None:
        """The latest line recorded for this hash, if any."""
        return self._index().get(input_hash)

    def status(self, input_hash: str) -> str | None:
        """``repaired``, ``quarantined`` or ``None`` for a hash never finished."""
        entry = self.entry(input_hash)
        return None if entry is None else entry.get("status")

    def append(self, entry: dict) -> None:
        """Add one line durably (the commit point of an item)."""
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._append_lock, open(self.path, "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                # A crash mid-line leaves no newline: start on a fresh line so that torn
                # line stays the only casualty.
                handle.seek(0, os.SEEK_END)
                if handle.tell() > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        line = "\n" + line
                handle.write(line.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                if fcntl is not None:
                    fcntl.flock(handle, fcntl.LOCK_UN)
