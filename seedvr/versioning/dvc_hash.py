"""DVC-compatible content hashes, computed without starting DVC.

``seedvr data ensure`` must tell whether a freshly generated ``data/`` is the data that
``data.dvc`` records. Starting DVC for that costs seconds and needs a DVC repository; the
hash itself is simple and stable (DVC 3, ``hash: md5``): a file's hash is the md5 of its
bytes, and a directory's hash is the md5 of a JSON list of ``{"md5", "relpath"}`` entries
sorted by relative path, followed by ``.dir``. ``tests/versioning`` checks this against
``dvc add`` so a change in DVC's format cannot go unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from seedvr.errors import SeedVRError

DIRECTORY_HASH_SUFFIX = ".dir"


def file_md5(path: str | Path) -> str:
    """The md5 hex digest of a file's bytes, as DVC 3 records it."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "md5").hexdigest()


def _relative_files(directory: Path) -> list[str]:
    """Every file under ``directory`` as a POSIX relative path (DVC skips nothing here).

    Symlinked files are followed, as DVC does; empty folders carry no entry, as in DVC.
    """
    relative: list[str] = []
    for root, _dirs, files in os.walk(directory, followlinks=True):
        for name in files:
            full = Path(root, name)
            relative.append(full.relative_to(directory).as_posix())
    return relative


def directory_md5(directory: str | Path) -> str:
    """The DVC 3 hash of a directory (``<md5>.dir``), as written into its ``.dvc`` file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SeedVRError(f"cannot hash {directory}: not a directory")
    entries = [{"md5": file_md5(directory / relpath), "relpath": relpath} for relpath in sorted(_relative_files(directory))]
    listing = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(listing).hexdigest() + DIRECTORY_HASH_SUFFIX


def path_md5(path: str | Path) -> str:
    """The DVC hash of a file or a directory."""
    path = Path(path)
    if path.is_dir():
        return directory_md5(path)
    if path.is_file():
        return file_md5(path)
    raise SeedVRError(f"cannot hash {path}: no such file or directory")
