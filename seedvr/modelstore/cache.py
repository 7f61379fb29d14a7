"""The user's SeedVR cache folder, and checksum manifests that prove a cached copy unchanged.

Downloads that are reused across runs (the real footage, registered model versions) live in
one per-user folder, ``$SEEDVR_CACHE`` or ``~/.cache/seedvr``: never the shared temp folder,
where anyone can plant a file under a predictable name. Registered models go to its
``models/`` folder (``$SEEDVR_MODEL_CACHE`` moves just them).

A cached copy is trusted only while it matches its manifest: the sha256 of every file,
written when the download completes. :func:`matches_manifest` re-hashes the copy on each
use, so an edited, truncated, added or deleted file is noticed before anything reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

CACHE_ENV = "SEEDVR_CACHE"
MODEL_CACHE_ENV = "SEEDVR_MODEL_CACHE"
MODELS_FOLDER = "models"
MANIFEST_FILE = ".seedvr-manifest.json"


def user_cache_root() -> Path:
    """``$SEEDVR_CACHE``, else ``~/.cache/seedvr``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "seedvr")


def model_cache_root() -> Path:
    """Where downloaded registered models are kept: ``$SEEDVR_MODEL_CACHE``, else
    ``models/`` in :func:`user_cache_root`."""
    return Path(os.environ.get(MODEL_CACHE_ENV) or user_cache_root() / MODELS_FOLDER)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in blocks (never whole into memory)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _listed_files(folder: Path) -> list[str]:
    """Every file below ``folder`` but its manifest, as sorted POSIX paths relative to it."""
    files = (path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    return sorted(relative for relative in files if relative != MANIFEST_FILE)


def write_manifest(folder: Path) -> None:
    """Record the sha256 of every file in ``folder`` (its contents must be final).

    Written under a temporary name and renamed, so a manifest is whole or absent.
    """
    digests = {relative: file_sha256(folder / relative) for relative in _listed_files(folder)}
    temporary = folder / f"{MANIFEST_FILE}.{uuid.uuid4().hex}"
    temporary.write_text(json.dumps({"sha256": digests}, indent=2) + "\n")
    os.replace(temporary, folder / MANIFEST_FILE)


def matches_manifest(folder: Path) -> bool:
    """Whether ``folder`` holds exactly the files of its manifest, each with its recorded hash.

    ``False`` for a folder without a (readable) manifest, including one that does not exist.
    """
    try:
        recorded = json.loads((folder / MANIFEST_FILE).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not isinstance(recorded, dict) or sorted(recorded) != _listed_files(folder):
        return False
    return all(file_sha256(folder / relative) == digest for relative, digest in recorded.items())
