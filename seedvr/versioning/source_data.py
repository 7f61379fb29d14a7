"""``data/`` on any machine, byte for byte: restore it, pull it, or regenerate it.

The source clips are procedural, so a fresh clone can rebuild them from ``params.data``
without a DVC remote. What makes that reproducible rather than merely similar is the
check at the end: the rebuilt folder must hash to the md5 that ``data.dvc`` pins, or
nothing is put in place and the user is told why. The order of attempts is cheapest and
most faithful first:

1. ``data/`` present: check it against ``data.dvc`` and ``params.data``;
2. ``dvc checkout`` from the local DVC cache (a deleted ``data/`` in a working copy);
3. ``dvc pull`` from the default remote, when one is configured;
4. generate from ``params.data`` with :func:`seedvr.data.synth.generate_source_clips`.

``update=True`` regenerates from ``params.data`` whatever is there and records the new
hash with ``dvc add`` (after ``params.data`` changed on purpose).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from seedvr.config import SourceDataParams
from seedvr.errors import SeedVRError
from seedvr.versioning.dvc_commands import configured_remotes, dvc_add, is_dvc_repo, run_dvc
from seedvr.versioning.dvc_files import dvc_file_for, read_tracked_output
from seedvr.versioning.dvc_hash import directory_md5

SOURCES_FILE = "sources.json"
# The keys of sources.json that must agree with params.data (the rest describes each clip).
_PARAM_KEYS = ("clips", "frames", "width", "height", "seed", "fps")

Action = Literal["present", "checked_out", "pulled", "generated", "updated"]
Generator = Callable[[Path, SourceDataParams], None]


@dataclass(frozen=True)
class EnsureResult:
    """What :func:`ensure_source_data` did and the data version it left in place."""

    action: Action
    data_dir: Path
    md5: str
    tracked: bool
    notes: list[str] = field(default_factory=list)


def generate_from_params(out_dir: Path, params: SourceDataParams) -> None:
    """Render the procedural source clips that ``params.data`` describes into ``out_dir``."""
    from seedvr.data.synth import generate_source_clips

    generate_source_clips(
        out_dir,
        clips=params.clips,
        frames=params.frames,
        width=params.width,
        height=params.height,
        seed=params.seed,
        fps=params.fps,
    )


def _normalised_fps(text: object) -> str | None:
    from fractions import Fraction

    try:
        rate = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        return None
    return f"{rate.numerator}/{rate.denominator}"


def params_mismatch(data_dir: Path, params: SourceDataParams) -> list[str]:
    """The ``params.data`` values that differ from what ``data_dir/sources.json`` records.

    Empty when they agree, or when there is no ``sources.json`` (footage that was not
    generated, e.g. real clips added by hand, has no parameters to compare).
    """
    sources_file = data_dir / SOURCES_FILE
    if not sources_file.is_file():
        return []
    try:
        recorded = json.loads(sources_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SeedVRError(f"{sources_file} is not readable JSON: {error}") from None
    expected = params.model_dump()
    differences = []
    for key in _PARAM_KEYS:
        have, want = recorded.get(key), expected[key]
        if key == "fps":
            have, want = _normalised_fps(have), _normalised_fps(want)
        if have != want:
            differences.append(f"{key}: data has {have}, params.data says {want}")
    return differences


def _recorded_md5(dvc_file: Path) -> str | None:
    return read_tracked_output(dvc_file).md5 if dvc_file.is_file() else None


def _mismatch_message(data_dir: Path, found: str, recorded: str, dvc_file: Path) -> str:
    return (
        f"{data_dir} hashes to {found} but {dvc_file.name} records {recorded}: restore the recorded "
        f"data with `dvc checkout {dvc_file.name}` / `dvc pull`, or record this data with "
        "`seedvr data ensure --update`"
    )


def _check_present(data_dir: Path, dvc_file: Path, params: SourceDataParams) -> EnsureResult:
    found = directory_md5(data_dir)
    recorded = _recorded_md5(dvc_file)
    if recorded is not None and found != recorded:
        raise SeedVRError(_mismatch_message(data_dir, found, recorded, dvc_file))
    stale = params_mismatch(data_dir, params)
    if stale:
        raise SeedVRError(
            f"params.data changed since {data_dir} was generated ({'; '.join(stale)}): "
            "run `seedvr data ensure --update` to regenerate and record it"
        )
    notes = [] if recorded is not None else [f"{dvc_file.name} is missing: `seedvr data ensure --update` tracks {data_dir}"]
    return EnsureResult("present", data_dir, found, tracked=recorded is not None, notes=notes)


def _try_dvc(repo_root: Path, args: list[str], notes: list[str]) -> bool:
    """Run a DVC command that may legitimately fail (no cache, unreachable remote)."""
    try:
        run_dvc(args, repo_root)
    except SeedVRError as error:
        notes.append(str(error))
        return False
    return True


def _generate_checked(data_dir: Path, params: SourceDataParams, recorded: str | None, dvc_file: Path, generate: Generator) -> str:
    """Generate into a hidden sibling, compare with ``recorded``, then rename into place.

    Nothing appears at ``data_dir`` unless the hash matches (or nothing is recorded yet).
    """
    from seedvr.io.atomic import PendingOutput

    pending = PendingOutput(data_dir)
    try:
        generate(pending.temp, params)
        found = directory_md5(pending.temp)
        if recorded is not None and found != recorded:
            raise SeedVRError(
                f"data generated from params.data hashes to {found} but {dvc_file.name} records "
                f"{recorded}: params.data or the generator changed since the data was recorded; "
                "run `seedvr data ensure --update` to record the new data, or `dvc pull` the "
                "recorded one"
            )
        pending.commit()
    except BaseException:
        pending.discard()
        raise
    return found


def ensure_source_data(
    repo_root: str | Path,
    params: SourceDataParams,
    update: bool = False,
    generate: Generator = generate_from_params,
) -> EnsureResult:
    """Make ``<repo_root>/<params.dir>`` hold the source data that ``<params.dir>.dvc`` pins.

    Args:
        repo_root: the repository (holds ``.dvc/`` and ``params.yaml``).
        params: the ``data`` section of ``params.yaml``.
        update: regenerate from ``params`` and record the new hash with ``dvc add``.
        generate: renders the clips into a folder; the procedural generator by default.

    Raises:
        SeedVRError: the data present, pulled or generated does not match ``data.dvc``, or
            ``params.data`` no longer describes ``data/``; nothing is replaced then.
    """
    repo_root = Path(repo_root)
    if not repo_root.is_dir():
        raise SeedVRError(f"repository folder not found: {repo_root}")
    data_dir = repo_root / params.dir
    dvc_file = dvc_file_for(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise SeedVRError(f"{data_dir} is a file; the source data must be a folder")

    if update:
        md5 = _generate_checked(data_dir, params, None, dvc_file, generate)
        tracked = is_dvc_repo(repo_root)
        notes = []
        if tracked:
            dvc_add(repo_root, params.dir)
        else:
            notes.append(f"{repo_root} is not a DVC repository: {data_dir} generated but not tracked")
        return EnsureResult("updated", data_dir, md5, tracked=tracked, notes=notes)

    if data_dir.is_dir() and any(data_dir.iterdir()):
        return _check_present(data_dir, dvc_file, params)

    recorded = _recorded_md5(dvc_file)
    notes: list[str] = []
    if recorded is not None and is_dvc_repo(repo_root):
        # No note when checkout fails: on a fresh clone the cache is empty, which is normal.
        if _try_dvc(repo_root, ["checkout", "--quiet", dvc_file.name], []):
            return EnsureResult("checked_out", data_dir, _verified(data_dir, recorded, dvc_file), True, notes)
        if configured_remotes(repo_root) and _try_dvc(repo_root, ["pull", dvc_file.name], notes):
            return EnsureResult("pulled", data_dir, _verified(data_dir, recorded, dvc_file), True, notes)
    if data_dir.is_dir():
        data_dir.rmdir()  # empty (checked above); the generated folder is renamed into its place
    md5 = _generate_checked(data_dir, params, recorded, dvc_file, generate)
    tracked = recorded is not None
    if not tracked:
        notes.append(f"{dvc_file.name} is missing: `seedvr data ensure --update` tracks {data_dir}")
    return EnsureResult("generated", data_dir, md5, tracked=tracked, notes=notes)


def _verified(data_dir: Path, recorded: str, dvc_file: Path) -> str:
    """DVC checked the cache on the way in; hash again so every path ends in the same check."""
    found = directory_md5(data_dir)
    if found != recorded:
        raise SeedVRError(_mismatch_message(data_dir, found, recorded, dvc_file))
    return found
