"""What identifies an item's output: the ledger key :func:`input_hash`, and :func:`model_identity`;
and whether a committed output is still the one written (:func:`output_record`, :func:`output_intact`).

Content, not names or times: the same bytes repaired with the same settings and the same
model give the same hash wherever they lie, and any changed byte gives a new one.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from seedvr.batch.inbox import BatchItem, frame_folder_members
from seedvr.batch.settings import RepairSettings
from seedvr.modelstore import registered
from seedvr.modelstore.folder import require_pipeline_folder
from seedvr.pipeline.shipped import shipped_detector

_HASH_BLOCK = 1 << 20
_digests_lock = threading.Lock()
_folder_digests: dict[tuple, str] = {}


def _utf8(text: str) -> bytes:
    # surrogateescape: a file name that is not valid UTF-8 still has its own bytes to hash.
    return text.encode("utf-8", "surrogateescape")


def _hash_file(digest, path: Path, label: str) -> None:
    # A header per file (label and size) keeps different splits of the same bytes apart.
    digest.update(_utf8(f"file:{label}:{path.stat().st_size}\n"))
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)


def _hash_input(digest, path: Path, role: str) -> None:
    if path.is_dir():
        members = frame_folder_members(path)
        digest.update(_utf8(f"folder:{role}:{len(members)}\n"))
        for member in members:
            _hash_file(digest, member, f"{role}/{member.name}")
    else:
        _hash_file(digest, path, role)


def model_identity(model: str) -> str:
    """What the model *is*, whatever name points to it; enters :func:`input_hash`.

    For a registry URI: the version it resolves to and that version's source (version
    numbers repeat across stores). For a folder: a digest of its files, cached per process by
    their sizes and modification times so the weights are read once, not per video.

    Raises:
        SeedVRError: an unknown registry model or alias, or a folder that is not a pipeline.
    """
    if registered.is_registry_uri(model):
        version = registered.resolve_model_version(model)
        return f"{registered.version_uri(version)}|{version.source}|{version.run_id}"
    return folder_digest(require_pipeline_folder(model, f"model {model}"))


def folder_digest(folder: Path) -> str:
    """sha256 of a model folder's files (names and bytes), cached per process by their sizes
    and modification times so the weights are read once, not per video."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    listing = tuple((str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns) for path in files)
    key = (str(folder.resolve()), listing)
    with _digests_lock:
        cached = _folder_digests.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for path in files:
        _hash_file(digest, path, label=str(path.relative_to(folder)))
    result = digest.hexdigest()
    with _digests_lock:
        _folder_digests[key] = result
    return result


def detector_identity(settings: RepairSettings, model_id: str | None) -> str:
    """What decides the detector of a run, for items given without a mask: the registered
    version (which carries its detector, or not) and the shipped detector it falls back to."""
    carrier = model_id if settings.uses_model and settings.model and registered.is_registry_uri(settings.model) else None
    return f"carried:{carrier}|shipped:{folder_digest(shipped_detector())}"


def input_hash(item: BatchItem, settings: RepairSettings | None = None, model_id: str | None = None) -> str:
    """sha256 of everything that decides the item's output, read in 1 MiB blocks.

    Covers the output name, the video bytes, the mask bytes (without a mask: the detector,
    :func:`detector_identity`), and
    :meth:`RepairSettings.output_defining`. An item with a problem is hashed by its name and
    problem alone: its verdict depends on nothing else, and its input is never read (it may
    be a link to a file outside the inbox). ``model_id`` is :func:`model_identity` of the
    settings' model; it is looked up when not given.
    """
    settings = settings or RepairSettings()
    if settings.uses_model and model_id is None and settings.model:
        model_id = model_identity(settings.model)
    digest = hashlib.sha256()
    digest.update(_utf8(f"name:{item.name}\n"))
    if not item.problem:
        _hash_input(digest, item.video, "video")
        if item.mask is not None:
            _hash_input(digest, item.mask, "mask")
        else:  # blind mode: the detector decides the mask
            digest.update(_utf8(f"detector:{detector_identity(settings, model_id)}\n"))
    digest.update(_utf8(f"problem:{item.problem or ''}\n"))
    digest.update(json.dumps(settings.output_defining(model_id), sort_keys=True).encode())
    return digest.hexdigest()


def output_record(path: Path) -> dict:
    """What the ledger keeps of a committed output: its hash, and its size and modification time."""
    digest = hashlib.sha256()
    _hash_input(digest, path, "output")
    return {"output_hash": digest.hexdigest(), "output_stamp": _stamp(path)}


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def output_intact(path: Path, entry: dict) -> bool:
    """Whether the output a ledger ``entry`` committed is still at ``path``, unchanged.

    Every scheduled run asks this of every finished video, and outputs are large, so an
    output whose size and modification time are those recorded at commit is taken as
    unchanged; any other is hashed and compared (an output restored from a backup passes).
    Entries older than output records only ask that the output exists.
    """
    recorded = entry.get("output_hash")
    try:
        stamp = _stamp(path)
        return recorded is None or entry.get("output_stamp") == stamp or output_record(path)["output_hash"] == recorded
    except FileNotFoundError:  # deleted, possibly while being hashed
        return False
