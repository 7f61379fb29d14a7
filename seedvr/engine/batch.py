"""Batch repair of an inbox folder into an outbox: discovery, ledger, quarantine.

This is the library half of the scheduled batch repair (the Prefect flow in
``flows/repair.py`` only adds tasks, retries and a results table on top). It never imports
Prefect, so everything here runs and is tested without a server.

Inbox conventions (top level of the inbox only; names starting with ``.`` are ignored):

- a **video** is any file with a video extension (``clip.mp4``) or a folder of numbered frames
  (``clip/``) whose name does not end in ``.mask``;
- its **mask** is, by name: ``clip.mask.png`` (one image for every frame), ``clip.mask.mkv``
  (any video or image extension) or a frame folder ``clip.mask/``; failing that, an
  inbox-wide ``mask.png`` (any image extension) is used for every video without its own;
- a video without a mask, with several masks, or sharing its name with another video is an
  item with a ``problem``: it is quarantined with that sentence, never guessed at.

Outbox layout: ``NAME.mkv`` (the output extension is a setting), ``NAME.report.json`` and the
ledger ``.ledger.jsonl``; reports of bad inputs go to ``quarantine/NAME.error.json`` (the
quarantine folder is a setting, by default inside the outbox). Inputs are only ever read.

Idempotence: every finished item appends one line to the ledger, keyed by
:func:`input_hash` (input bytes + the settings that change the output). The ledger line is the
commit point: an output written just before a crash has no ledger line, so the next run
repairs it again and atomically replaces it. A bad input is recorded too, so it is not retried
until its bytes (or its mask) change; an *unexpected* error is not recorded, so the next run
tries again (it may have been transient: a full disk, a busy GPU).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from seedvr.engine.methods import RepairMethod, make_method, resolve_device, resolve_dtype
from seedvr.engine.repair import repair_video
from seedvr.engine.streaming import check_chunking
from seedvr.errors import SeedVRError
from seedvr.io import IMAGE_EXTENSIONS, OUTPUT_FORMATS, VIDEO_EXTENSIONS, atomic_output
from seedvr.io.atomic import TEMP_MARKER, remove_path
from seedvr.io.formats import FPS_SIDECAR
from seedvr.io.frames import list_frame_files
from seedvr.method_catalog import MODEL_METHOD, check_method

try:  # POSIX: an advisory lock keeps appends from several processes whole.
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl; the in-process lock remains.
    fcntl = None

LEDGER_NAME = ".ledger.jsonl"
REPORT_SUFFIX = ".report.json"
ERROR_SUFFIX = ".error.json"
QUARANTINE_FOLDER = "quarantine"
MASK_MARKER = ".mask"
SHARED_MASK_STEM = "mask"
BATCH_OUTPUT_EXTENSIONS: tuple[str, ...] = tuple(sorted(OUTPUT_FORMATS))

STATUS_REPAIRED = "repaired"
STATUS_SKIPPED = "skipped"
STATUS_QUARANTINED = "quarantined"

# A temporary untouched this long belongs to a killed process: a live writer keeps appending.
STALE_TEMPORARY_SECONDS = 3600.0
_HASH_BLOCK = 1 << 20


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RepairSettings:
    """How every item of a batch is repaired (the arguments of :func:`repair_video`).

    ``output_extension`` picks the output format (``.mkv`` FFV1 lossless by default).
    ``device`` is the only setting that does not enter :func:`input_hash`: moving a batch
    from CPU to GPU must not redo finished work.
    """

    method: str = MODEL_METHOD
    model: str | None = None
    steps: int | None = None
    seed: int = 0
    chunk: int = 32
    overlap: int = 8
    device: str = "auto"
    precision: str = "fp32"
    mask_dilate: int = 0
    max_side: int | None = None
    crf: int = 18
    output_extension: str = ".mkv"

    @property
    def uses_model(self) -> bool:
        return self.method == MODEL_METHOD

    def check(self) -> None:
        """Reject a bad setting once, up front.

        Without this a wrong setting would surface per video, and every video would be
        quarantined as if *it* were bad (and skipped on later runs).
        """
        check_method(self.method)
        if self.uses_model and not self.model:
            raise SeedVRError("method seedvr needs a model (a pipeline folder or models:/NAME@ALIAS)")
        if self.steps is not None and self.steps < 1:
            raise SeedVRError(f"steps must be at least 1, got {self.steps}")
        check_chunking(self.chunk, self.overlap)
        if not 0 <= self.mask_dilate <= 256:
            raise SeedVRError(f"mask_dilate must be between 0 and 256 pixels, got {self.mask_dilate}")
        if self.max_side is not None and self.max_side < 8:
            raise SeedVRError(f"max_side must be at least 8 pixels, got {self.max_side}")
        if self.output_extension not in OUTPUT_FORMATS:
            raise SeedVRError(
                f"unsupported batch output extension {self.output_extension!r}; "
                f"choose one of {', '.join(BATCH_OUTPUT_EXTENSIONS)}"
            )
        OUTPUT_FORMATS[self.output_extension].check_crf(self.crf)
        if self.uses_model:
            resolve_dtype(self.precision, resolve_device(self.device))

    def output_defining(self, model_identity: str | None) -> dict:
        """The settings that change the output bytes, as they enter :func:`input_hash`."""
        defining = {
            "method": self.method,
            "chunk": self.chunk,
            "overlap": self.overlap,
            "mask_dilate": self.mask_dilate,
            "max_side": self.max_side,
            "output_extension": self.output_extension,
        }
        if not OUTPUT_FORMATS[self.output_extension].lossless:
            defining["crf"] = self.crf
        if self.uses_model:
            # Classical methods are deterministic and ignore these; keeping them out means a
            # model promotion does not redo a telea batch.
            defining.update(model=model_identity, steps=self.steps, seed=self.seed, precision=self.precision)
        return defining


# --------------------------------------------------------------------------- models

_cache_lock = threading.Lock()
_pinned_folders: dict[str, str] = {}
_folder_digests: dict[tuple, str] = {}


def _is_registry_uri(model: str) -> bool:
    return model.startswith("models:/")


def pin_model(settings: RepairSettings) -> RepairSettings:
    """Settings whose registry alias is replaced by the version it points at now.

    ``models:/seedvr-repair@champion`` moves with each promotion. Pinning it once per batch
    run (``models:/seedvr-repair/7``) gives every video of the run the same model, even if a
    promotion lands mid-run, and lets workers cache the download for good.
    """
    if not (settings.uses_model and settings.model and _is_registry_uri(settings.model)):
        return settings
    from seedvr.modelstore.registered import resolve_model_version

    version = resolve_model_version(settings.model)
    return replace(settings, model=f"models:/{version.name}/{version.version}")


def resolve_model(model: str) -> str:
    """A local pipeline folder for ``model`` (a folder is returned as it is).

    A version-pinned registry URI never changes meaning, so its folder is looked up once per
    process: a batch worker asks the registry on its first video only. Alias URIs are
    resolved on every call so they follow promotions.
    """
    if not _is_registry_uri(model):
        return model
    from seedvr.modelstore.registered import download_registered_pipeline, parse_model_uri

    if parse_model_uri(model)[2] is None:
        return str(download_registered_pipeline(model))
    with _cache_lock:
        if model not in _pinned_folders:
            _pinned_folders[model] = str(download_registered_pipeline(model))
        return _pinned_folders[model]


def model_identity(model: str) -> str:
    """What the model *is*, whatever name points to it; enters :func:`input_hash`.

    For a registry URI: the version it resolves to and that version's source (version
    numbers repeat across stores). For a folder: a digest of its files, cached per process by
    their sizes and modification times so the weights are read once, not per video.

    Raises:
        SeedVRError: an unknown registry model or alias, or a folder that is not a pipeline.
    """
    if _is_registry_uri(model):
        from seedvr.modelstore.registered import resolve_model_version

        version = resolve_model_version(model)
        return f"models:/{version.name}/{version.version}|{version.source}|{version.run_id}"
    folder = Path(model)
    if not (folder / "model_index.json").is_file():
        raise SeedVRError(f"model {model}: not a saved SeedVR pipeline folder (no model_index.json)")
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    listing = tuple((str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns) for path in files)
    key = (str(folder.resolve()), listing)
    with _cache_lock:
        cached = _folder_digests.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for path in files:
        _hash_file(digest, path, label=str(path.relative_to(folder)))
    result = digest.hexdigest()
    with _cache_lock:
        _folder_digests[key] = result
    return result


_method_lock = threading.Lock()
_loaded_method: tuple[tuple, RepairMethod] | None = None


def loaded_method(settings: RepairSettings) -> RepairMethod | str:
    """What :func:`repair_item` hands to ``repair_video``: the method name, or for ``seedvr``
    a method around a pipeline loaded once per process.

    A worker repairs many videos with one model; loading multi-gigabyte weights per video
    would dominate the run. Only the latest model is kept, so a long-lived worker that sees a
    promotion frees the old one. Calls into the pipeline are serialised: its scheduler holds
    per-call state, and two videos on one GPU would only compete anyway.
    """
    global _loaded_method
    if not settings.uses_model or not settings.model:
        return settings.method
    settings = pin_model(settings)
    identity = settings.model if _is_registry_uri(settings.model) else model_identity(settings.model)
    key = (identity, settings.device, settings.precision, settings.steps, settings.seed)
    # Held while loading: a second thread wants the same model and must not load it twice.
    with _method_lock:
        if _loaded_method is not None and _loaded_method[0] == key:
            return _loaded_method[1]
        _loaded_method = None
        method = make_method(
            "seedvr", model=resolve_model(settings.model), steps=settings.steps, device=settings.device,
            precision=settings.precision, seed=settings.seed,
        )
        one_at_a_time = threading.Lock()
        pipeline_repair = method.repair

        def serialized_repair(frames, masks):
            with one_at_a_time:
                return pipeline_repair(frames, masks)

        shared = RepairMethod(method.name, serialized_repair, {**method.details, "model_uri": settings.model})
        _loaded_method = (key, shared)
        return shared


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class BatchItem:
    """One video of the inbox: where its output goes (``name``), its input and its mask.

    ``problem`` is a one-line reason the item cannot be repaired as found (no mask, an
    ambiguous mask, a name clash); such items go straight to quarantine.
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

    items = []
    for name, entries in sorted(videos.items()):
        if len(entries) > 1:
            # Both would write outbox/NAME.*: refuse rather than let one overwrite the other.
            problem = f"several inputs are named {name} ({_listing(entries)}); rename all but one"
            items.extend(BatchItem(entry.name, entry, None, problem) for entry in entries)
            continue
        items.append(_match_mask(name, entries[0], own_masks.get(name, []), shared_masks))
    return items


def _match_mask(name: str, video: Path, own: list[Path], shared: list[Path]) -> BatchItem:
    if len(own) == 1:
        return BatchItem(name, video, own[0])
    if len(own) > 1:
        return BatchItem(name, video, None, f"several masks for {video.name} ({_listing(own)}); keep one")
    if len(shared) == 1:
        return BatchItem(name, video, shared[0])
    if len(shared) > 1:
        return BatchItem(name, video, None, f"several inbox-wide masks ({_listing(shared)}) and none for {video.name}; keep one")
    return BatchItem(
        name, video, None,
        f"no mask for {video.name}: add {name}.mask.png (one image for all frames), "
        f"{name}.mask.mkv, a {name}.mask/ frame folder, or an inbox-wide mask.png",
    )


# --------------------------------------------------------------------------- hashing


def _hash_file(digest, path: Path, label: str) -> None:
    # A header per file (label and size) keeps different splits of the same bytes apart.
    digest.update(f"file:{label}:{path.stat().st_size}\n".encode())
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)


def _hash_input(digest, path: Path, role: str) -> None:
    if path.is_dir():
        members = list_frame_files(path)
        if (path / FPS_SIDECAR).is_file():
            members.append(path / FPS_SIDECAR)  # the frame rate is kept in the output
        digest.update(f"folder:{role}:{len(members)}\n".encode())
        for member in members:
            _hash_file(digest, member, f"{role}/{member.name}")
    else:
        _hash_file(digest, path, role)


def input_hash(item: BatchItem, settings: RepairSettings | None = None, model_id: str | None = None) -> str:
    """sha256 of everything that decides the item's output, read in 1 MiB blocks.

    Covers the output name, the video bytes, the mask bytes (or the problem that stands in
    for a missing mask), and :meth:`RepairSettings.output_defining`. ``model_id`` is
    :func:`model_identity` of the settings' model; it is looked up when not given.
    """
    settings = settings or RepairSettings()
    if settings.uses_model and model_id is None and settings.model:
        model_id = model_identity(settings.model)
    digest = hashlib.sha256()
    digest.update(f"name:{item.name}\n".encode())
    _hash_input(digest, item.video, "video")
    if item.mask is not None:
        _hash_input(digest, item.mask, "mask")
    digest.update(f"problem:{item.problem or ''}\n".encode())
    digest.update(json.dumps(settings.output_defining(model_id), sort_keys=True).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- ledger


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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

    def done(self, input_hash: str) -> bool:
        """Whether this input was already repaired with these settings."""
        return self.status(input_hash) == STATUS_REPAIRED

    def settled(self, input_hash: str) -> bool:
        """Repaired, or known bad: either way nothing to do until the input changes."""
        return self.status(input_hash) in (STATUS_REPAIRED, STATUS_QUARANTINED)

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


# --------------------------------------------------------------------------- items


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


def output_path(item: BatchItem, outbox: str | os.PathLike, settings: RepairSettings) -> Path:
    return Path(outbox) / f"{item.name}{settings.output_extension}"


def report_path(item: BatchItem, outbox: str | os.PathLike) -> Path:
    return Path(outbox) / f"{item.name}{REPORT_SUFFIX}"


def error_report_path(item: BatchItem, quarantine_dir: str | os.PathLike) -> Path:
    return Path(quarantine_dir) / f"{item.name}{ERROR_SUFFIX}"


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
    report = repair_video(
        item.video, item.mask, target, method=method or loaded_method(settings), chunk=settings.chunk,
        overlap=settings.overlap, steps=settings.steps, device=settings.device, precision=settings.precision,
        mask_dilate=settings.mask_dilate, max_side=settings.max_side, seed=settings.seed, crf=settings.crf,
    )
    finished = _now()
    report_data = {**report.to_dict(), "input_hash": digest, "model_uri": settings.model if settings.uses_model else None, "finished": finished}
    report_file = report_path(item, outbox)
    _write_json(report_file, report_data)
    Ledger(outbox).append({
        "hash": digest, "status": STATUS_REPAIRED, "name": item.name, "input": str(item.video),
        "mask": str(item.mask), "output": str(target), "report": report_data, "time": finished,
    })
    return ItemResult(item.name, STATUS_REPAIRED, str(item.video), digest, str(target), str(report_file),
                      report.frames, report.seconds)


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
    _write_json(target, {
        "name": item.name, "input": str(item.video), "mask": str(item.mask) if item.mask else None,
        "error": message, "input_hash": digest, "time": time_now,
        "retry": "when the input or its mask changes" if recorded else "on the next run",
    })
    if recorded:
        ledger.append({
            "hash": digest, "status": STATUS_QUARANTINED, "name": item.name, "input": str(item.video),
            "mask": str(item.mask) if item.mask else None, "output": None, "report": str(target),
            "error": message, "time": time_now,
        })
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
    otherwise claim the item is still broken.
    """
    digest = digest or input_hash(item, settings)
    # Loaded outside the try: a model that cannot be fetched or loaded (registry down, bad
    # weights) is not this video's fault and must not brand it bad for good.
    method = loaded_method(settings)
    try:
        result = repair_item(item, outbox, settings, digest, method)
    except SeedVRError as error:
        return quarantine_item(item, quarantine_dir, error, Ledger(outbox), digest)
    with contextlib.suppress(FileNotFoundError):
        error_report_path(item, quarantine_dir).unlink()
    return result


# --------------------------------------------------------------------------- batches


@dataclass
class BatchPlan:
    """What a run has to do: ``todo`` items with their hashes, and what it skips.

    ``settings`` are the run's settings with the model pinned (:func:`pin_model`): repair
    the to-do items with these, not the ones asked for.
    """

    settings: RepairSettings
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


def sweep_stale_temporaries(folder: str | os.PathLike, older_than_s: float = STALE_TEMPORARY_SECONDS) -> list[Path]:
    """Delete our own temporaries (``.NAME.seedvr-tmp-*``) left by a killed process.

    Only names carrying the temporary marker are touched, and only when unmodified for
    ``older_than_s``, so a repair still writing in another process keeps its file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than_s
    removed = []
    for entry in folder.iterdir():
        if entry.name.startswith(".") and TEMP_MARKER in entry.name and entry.lstat().st_mtime < cutoff:
            remove_path(entry)
            removed.append(entry)
    return removed


def plan_batch(
    inbox: str | os.PathLike,
    outbox: str | os.PathLike,
    settings: RepairSettings,
    quarantine_dir: str | os.PathLike | None = None,
) -> BatchPlan:
    """Check the settings, create the outbox, discover the inbox and split it into to-do and skipped.

    An item whose input cannot be read right now (deleted or still locked mid-run) gets an
    unrecorded quarantine report and is looked at again by the next run.

    Raises:
        SeedVRError: bad settings, a missing inbox, or an unusable model; nothing is
            quarantined then, since the fault is not the videos'.
    """
    inbox, outbox = Path(inbox), Path(outbox)
    quarantine_dir = Path(quarantine_dir) if quarantine_dir is not None else default_quarantine(outbox)
    settings.check()
    check_folders(inbox, outbox)
    items = discover_inbox(inbox)
    outbox.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(outbox)
    sweep_stale_temporaries(quarantine_dir)
    plan = BatchPlan(settings=pin_model(settings) if items else settings)
    if not items:
        return plan
    model_id = model_identity(plan.settings.model) if plan.settings.uses_model else None
    ledger = Ledger(outbox)
    for item in items:
        try:
            digest = input_hash(item, plan.settings, model_id)
        except OSError as error:
            plan.unreadable.append(quarantine_item(item, quarantine_dir, f"cannot read the input: {error}"))
            continue
        entry = ledger.entry(digest)
        if entry is not None and entry.get("status") in (STATUS_REPAIRED, STATUS_QUARANTINED):
            plan.skipped.append(ItemResult(
                item.name, STATUS_SKIPPED, str(item.video), digest, output=entry.get("output"),
                # A known-bad input says why it is left alone.
                error=entry.get("error"),
            ))
        else:
            plan.todo.append((item, digest))
    return plan


def run_batch(
    inbox: str | os.PathLike,
    outbox: str | os.PathLike,
    settings: RepairSettings,
    quarantine_dir: str | os.PathLike | None = None,
) -> list[ItemResult]:
    """Repair a whole inbox in this process, one item after the other.

    The same policy as the flow, without Prefect: finished items are skipped, bad inputs
    quarantined and recorded, unexpected errors quarantined unrecorded (retried next run).
    """
    quarantine_dir = Path(quarantine_dir) if quarantine_dir is not None else default_quarantine(outbox)
    plan = plan_batch(inbox, outbox, settings, quarantine_dir)
    results = [*plan.skipped, *plan.unreadable]
    for item, digest in plan.todo:
        try:
            results.append(process_item(item, outbox, quarantine_dir, plan.settings, digest))
        except Exception as error:  # noqa: BLE001 - one broken video must not stop the batch
            results.append(quarantine_item(item, quarantine_dir, error))
    return sorted(results, key=lambda result: result.name)


def summarize(results: list[ItemResult]) -> dict:
    """Counts per status plus every row, as the flow returns it."""
    counts = {status: 0 for status in (STATUS_REPAIRED, STATUS_SKIPPED, STATUS_QUARANTINED)}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return {**counts, "items": [result.to_dict() for result in results]}
