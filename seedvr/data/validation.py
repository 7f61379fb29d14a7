"""Data validation with Great Expectations: is a dataset fit to train and evaluate on?

Two entry points:

- :func:`validate_dataset` checks a damaged dataset (``manifest.csv`` + per-clip clean /
  damaged / mask files): the manifest as written, then statistics measured from every
  clip's files (frame counts, sizes, fps, mask coverage, empty mask frames, splits disjoint
  by source clip).
- :func:`validate_sources` checks the source clips of ``data/`` against ``params.data``.

Both return a :class:`ValidationReport` (success, one readable sentence per failure,
statistics) that the command line prints and writes as JSON. A user mistake that stops
validation before it starts (no folder, no manifest) is a :class:`SeedVRError`; data that
fails an expectation is *not* an error, it is a report with ``success = False``.

Great Expectations takes seconds to import, so it is imported inside the validating
functions only (through :mod:`seedvr.data.suites`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seedvr.config import DAMAGE_KINDS, SourceDataParams, ValidateParams
from seedvr.errors import SeedVRError

MANIFEST_NAME = "manifest.csv"
SOURCES_NAME = "sources.json"
# Masks are read in chunks of this many frames so memory stays flat on long clips.
MASK_CHUNK_FRAMES = 32
_NUMERIC_MANIFEST_COLUMNS = ("frames", "height", "width", "mask_ratio", "seed")


@dataclass
class ValidationReport:
    """The outcome of validating a dataset.

    ``failures`` holds one readable sentence per problem, each naming the suite, the clip
    and what was expected against what was found. ``statistics`` holds counts (clips per
    split, expectations evaluated per suite, mask coverage) and ``clips`` the per-clip
    measurements, so a report can be read without re-running anything.
    """

    dataset: str
    kind: str
    success: bool
    failures: list[str] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    clips: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write_json(self, path: str | Path) -> Path:
        """Write the report as JSON (parents created); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        temporary.replace(path)  # atomic: a reader never sees half a report
        return path


def _json_default(value: Any) -> Any:
    """numpy scalars and NaN from pandas rows, as plain JSON values."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (Fraction, Path)):
        return str(value)
    return value


# ------------------------------------------------------------------------------ helpers


def normalise_fps(value: Any) -> str | None:
    """A frame rate as an exact fraction string ("24" -> "24/1", "30000/1001"); None if invalid."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        rate = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        return None
    if rate <= 0:
        return None
    return f"{rate.numerator}/{rate.denominator}"


def _fps_value(value: Any) -> float:
    normalised = normalise_fps(value)
    return float(Fraction(normalised)) if normalised else float("nan")


def _split_kinds(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [kind.strip() for kind in value.split("|") if kind.strip()]


def kinds_allowing_empty_frames() -> tuple[str, ...]:
    """Damage kinds whose masks may leave some frames empty (a blotch that comes and goes).

    Declared by the damage module next to the kinds themselves, so a new kind cannot
    silently make the suite too strict or too lax.
    """
    from seedvr.data import KINDS_ALLOWING_EMPTY_FRAMES

    return tuple(KINDS_ALLOWING_EMPTY_FRAMES)


def _require_dir(path: Path, what: str) -> None:
    if not path.exists():
        raise SeedVRError(f"{what} not found: {path}")
    if not path.is_dir():
        raise SeedVRError(f"{what} is not a folder: {path}")


def read_raw_manifest(dataset_dir: str | Path) -> pd.DataFrame:
    """Read ``manifest.csv`` as written (ids and paths kept as text); a missing or unreadable
    manifest is a SeedVRError."""
    dataset_dir = Path(dataset_dir)
    _require_dir(dataset_dir, "dataset folder")
    manifest_path = dataset_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        raise SeedVRError(f"no {MANIFEST_NAME} in {dataset_dir}: is it a damaged dataset folder?")
    try:
        # Everything as text first: a stray "abc" in frames must become a reported failure,
        # not a parser error, and clip ids such as "0001" must keep their zeros.
        return pd.read_csv(manifest_path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SeedVRError(f"{manifest_path} is not a readable CSV file: {error}") from None


def source_of_clip(clip_id: str, explicit: Any = None) -> str:
    """The source clip a dataset clip was made from.

    A ``source`` column in the manifest wins when present; otherwise the damage kinds that
    :func:`seedvr.data.build.build_damaged_dataset` appends to the source's name are
    stripped (``clip_0003_scratch`` -> ``clip_0003``, ``clip_0003_scratch_dust`` too).
    """
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip()
    parts = str(clip_id).split("_")
    while len(parts) > 1 and parts[-1] in DAMAGE_KINDS:
        parts.pop()
    return "_".join(parts)


def manifest_frame(manifest: pd.DataFrame, dataset_dir: Path) -> pd.DataFrame:
    """The manifest plus the derived columns the manifest suite checks.

    Numbers are coerced (an unparsable value becomes missing and fails ``not_null``), and
    ``fps_value``, ``unknown_damage_kinds`` and ``<role>_exists`` are added.
    """
    frame = manifest.copy()
    for column in _NUMERIC_MANIFEST_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if "fps" in frame.columns:
        frame["fps_value"] = frame["fps"].map(_fps_value)
    if "damage_kinds" in frame.columns:
        frame["unknown_damage_kinds"] = frame["damage_kinds"].map(
            lambda value: ",".join(kind for kind in _split_kinds(value) if kind not in DAMAGE_KINDS)
        )
    for role in ("clean", "damaged", "mask"):
        column = f"{role}_path"
        if column in frame.columns:
            frame[f"{role}_exists"] = frame[column].map(
                lambda relative: isinstance(relative, str) and (dataset_dir / relative).is_file()
            )
    if "clip_id" not in frame.columns:
        frame["clip_id"] = [f"row {number}" for number in range(1, len(frame) + 1)]
    frame["clip_id"] = frame["clip_id"].fillna("(no clip_id)")
    return frame


# ------------------------------------------------------------------- per-clip statistics


def _mask_statistics(mask_path: Path, info: Any) -> dict[str, Any]:
    """Coverage and empty / full frame counts of a mask file, read chunk by chunk."""
    from seedvr.io import iter_mask_chunks

    marked = 0
    frames = 0
    empty = 0
    full = 0
    pixels_per_frame = info.height * info.width
    for chunk in iter_mask_chunks(mask_path, MASK_CHUNK_FRAMES, info):
        per_frame = chunk.reshape(chunk.shape[0], -1).sum(axis=1)
        marked += int(per_frame.sum())
        frames += int(chunk.shape[0])
        empty += int((per_frame == 0).sum())
        full += int((per_frame == pixels_per_frame).sum())
    ratio = marked / (frames * pixels_per_frame) if frames else float("nan")
    return {
        "measured_mask_ratio": ratio,
        "empty_mask_frames": empty,
        "full_mask_frames": full,
        "decoded_mask_frames": frames,
    }


def _probe_roles(dataset_dir: Path, row: pd.Series) -> dict[str, Any]:
    """Probe the clean, damaged and mask files of one clip and measure its mask."""
    from seedvr.io import probe

    measured: dict[str, Any] = {}
    infos = {}
    for role in ("clean", "damaged", "mask"):
        info = probe(dataset_dir / str(row[f"{role}_path"]))
        infos[role] = info
        measured[f"{role}_frames"] = int(info.frames)
        measured[f"{role}_size"] = f"{info.width}x{info.height}"
        measured[f"{role}_fps"] = normalise_fps(info.fps)
    measured.update(_mask_statistics(dataset_dir / str(row["mask_path"]), infos["mask"]))
    return measured


CLIP_SOURCE_COLUMNS: tuple[str, ...] = (
    "clip_id",
    "split",
    "frames",
    "height",
    "width",
    "fps",
    "mask_ratio",
    "damage_kinds",
    "clean_path",
    "damaged_path",
    "mask_path",
)


def measure_clips(manifest: pd.DataFrame, dataset_dir: str | Path, allowing_empty: Iterable[str]) -> pd.DataFrame:
    """One row per clip: what the manifest says next to what the files hold.

    A clip whose files cannot be read gets ``readable = False`` and its reason; its
    measurements stay missing, so only the readability check reports it.
    """
    dataset_dir = Path(dataset_dir)
    allowing_empty = set(allowing_empty)
    frame = manifest_frame(manifest, dataset_dir)
    rows: list[dict[str, Any]] = []
    for _, row in frame.iterrows():
        record: dict[str, Any] = {
            "clip_id": row["clip_id"],
            "split": row["split"],
            "source": source_of_clip(row["clip_id"], row.get("source")),
            "damage_kinds": row["damage_kinds"] if isinstance(row["damage_kinds"], str) else "",
            "frames": row["frames"],
            "size": (f"{int(row['width'])}x{int(row['height'])}" if pd.notna(row["width"]) and pd.notna(row["height"]) else None),
            "fps": normalise_fps(row["fps"]),
            "mask_ratio": row["mask_ratio"],
        }
        try:
            record.update(_probe_roles(dataset_dir, row))
            record["readable"] = True
            record["read_error"] = ""
        except (SeedVRError, OSError, ValueError) as error:
            record["readable"] = False
            record["read_error"] = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        rows.append(record)
    clips = pd.DataFrame(rows)
    if clips.empty:
        return clips
    for column in ("measured_mask_ratio", "empty_mask_frames", "mask_frames"):
        if column not in clips.columns:
            clips[column] = np.nan
    clips["mask_ratio_error"] = (clips["measured_mask_ratio"] - clips["mask_ratio"]).abs()
    # A clip with several kinds may only have an empty mask frame when *every* one of its
    # kinds may leave frames empty (a scratch alongside a blotch marks every frame).
    allows_empty = clips["damage_kinds"].map(
        lambda kinds: bool(_split_kinds(kinds)) and set(_split_kinds(kinds)) <= allowing_empty
    )
    clips["allows_empty_frames"] = allows_empty
    clips["disallowed_empty_mask_frames"] = clips["empty_mask_frames"].where(~allows_empty, 0)
    # Splits must be disjoint by *source*: two damaged variants of one scene, one in train
    # and one in test, would leak test content into training.
    splits_per_source = clips.groupby("source")["split"].agg(lambda splits: sorted(set(map(str, splits))))
    clips["source_splits"] = clips["source"].map(lambda source: ", ".join(splits_per_source[source]))
    clips["source_split_count"] = clips["source"].map(lambda source: len(splits_per_source[source]))
    return clips


# ----------------------------------------------------------------------------- validate


def _suite_statistics(outcomes: list[Any]) -> dict[str, Any]:
    return {
        outcome.suite: {
            "success": outcome.success,
            "evaluated_expectations": outcome.evaluated,
            "successful_expectations": outcome.successful,
            "skipped_checks": outcome.skipped,
            "failures": len(outcome.failures),
        }
        for outcome in outcomes
    }


def validate_dataset(dataset_dir: str | Path, params: ValidateParams | None = None) -> ValidationReport:
    """Run the manifest and per-clip suites on a damaged dataset folder."""
    from seedvr.data import suites

    params = params or ValidateParams()
    dataset_dir = Path(dataset_dir)
    manifest = read_raw_manifest(dataset_dir)
    allowing_empty = kinds_allowing_empty_frames()

    context = suites.new_context()
    outcomes = [suites.run_suite(context, "manifest", manifest_frame(manifest, dataset_dir), suites.manifest_checks(params))]
    failures = list(outcomes[0].failures)
    clips = pd.DataFrame()
    missing = [column for column in CLIP_SOURCE_COLUMNS if column not in manifest.columns]
    if missing:
        failures.append(f"clips: not measured because manifest.csv lacks column(s) {', '.join(missing)}")
    elif len(manifest):
        clips = measure_clips(manifest, dataset_dir, allowing_empty)
        outcome = suites.run_suite(context, "clips", clips, suites.clip_checks(params, allowing_empty))
        outcomes.append(outcome)
        failures += outcome.failures

    statistics: dict[str, Any] = {"clips": int(len(manifest)), "suites": _suite_statistics(outcomes)}
    if "split" in manifest.columns:
        statistics["clips_per_split"] = {str(k): int(v) for k, v in manifest["split"].value_counts().items()}
    if not clips.empty:
        statistics["sources"] = int(clips["source"].nunique())
        readable = clips[clips["readable"]]
        if len(readable):
            statistics["measured_mask_ratio"] = {
                "min": float(readable["measured_mask_ratio"].min()),
                "mean": float(readable["measured_mask_ratio"].mean()),
                "max": float(readable["measured_mask_ratio"].max()),
            }
            statistics["empty_mask_frames"] = int(readable["empty_mask_frames"].sum())
    return ValidationReport(
        dataset=str(dataset_dir),
        kind="damaged dataset",
        success=not failures,
        failures=failures,
        statistics=statistics,
        clips=[{key: _json_default(value) for key, value in row.items()} for row in clips.to_dict("records")],
    )


# ------------------------------------------------------------------------ source clips


def _listed_source_ids(sources_file: Path) -> list[str]:
    """Clip ids that ``sources.json`` lists (its ``clip_specs``); a bad file is a SeedVRError."""
    try:
        content = json.loads(sources_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SeedVRError(f"{sources_file} is not readable JSON: {error}") from None
    specs = content.get("clip_specs") if isinstance(content, dict) else None
    if not isinstance(specs, list):
        raise SeedVRError(f"{sources_file} has no 'clip_specs' list")
    return [str(spec.get("clip_id")) for spec in specs if isinstance(spec, dict)]


def measure_sources(data_dir: str | Path) -> pd.DataFrame:
    """One row per source clip: listed in ``sources.json`` and/or present as a video file,
    with its probed frame count, size and fps (missing when it cannot be read)."""
    from seedvr.data.build import find_source_clips
    from seedvr.io import probe

    data_dir = Path(data_dir)
    _require_dir(data_dir, "source folder")
    sources_file = data_dir / SOURCES_NAME
    listed = _listed_source_ids(sources_file) if sources_file.is_file() else []
    try:
        on_disk = {path.stem: path for path in find_source_clips(data_dir)}
    except SeedVRError:
        on_disk = {}  # an empty folder: every listed clip is then reported as unreadable
    rows = []
    for clip_id in sorted(set(listed) | set(on_disk)):
        path = on_disk.get(clip_id, data_dir / f"{clip_id}.mkv")
        row: dict[str, Any] = {"clip_id": clip_id, "path": str(path.relative_to(data_dir)), "listed": clip_id in listed}
        try:
            info = probe(path)
            row.update(
                frames=int(info.frames),
                size=f"{info.width}x{info.height}",
                fps=normalise_fps(info.fps),
                readable=True,
                read_error="",
            )
        except (SeedVRError, OSError, ValueError) as error:
            row.update(frames=np.nan, size=None, fps=None, readable=False, read_error=str(error).strip())
        rows.append(row)
    columns = ["clip_id", "path", "listed", "frames", "size", "fps", "readable", "read_error"]
    return pd.DataFrame(rows, columns=columns)


def validate_sources(data_dir: str | Path, params: SourceDataParams | None = None) -> ValidationReport:
    """Run the source suite on ``data/``: every clip readable, at least two frames, and the
    size and fps that ``params.data`` asks for."""
    from seedvr.data import suites

    params = params or SourceDataParams()
    data_dir = Path(data_dir)
    sources = measure_sources(data_dir)
    fps = normalise_fps(params.fps)
    if fps is None:
        raise SeedVRError(f"params.data.fps {params.fps!r} is not a frame rate such as 24 or 30000/1001")
    outcome = suites.run_suite(suites.new_context(), "sources", sources, suites.source_checks(params.width, params.height, fps))
    statistics: dict[str, Any] = {"clips": int(len(sources)), "suites": _suite_statistics([outcome])}
    if len(sources):
        statistics["frames"] = {"min": _json_default(sources["frames"].min()), "max": _json_default(sources["frames"].max())}
    return ValidationReport(
        dataset=str(data_dir),
        kind="source clips",
        success=outcome.success,
        failures=list(outcome.failures),
        statistics=statistics,
        clips=[{key: _json_default(value) for key, value in row.items()} for row in sources.to_dict("records")],
    )


# ------------------------------------------------------------------------------- report


def render_report(report: ValidationReport, width: int = 110) -> str:
    """The report as readable text: a rich table per suite, then one line per failure.

    Failure lines are plain text (never wrapped) so they can be grepped and read in logs.
    """
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    buffer = StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    verdict = "PASSED" if report.success else "FAILED"
    console.print(f"Validation of {report.kind} {report.dataset}: {verdict}")
    table = Table(show_lines=False)
    for column in ("suite", "expectations", "passed", "failed", "failures", "skipped checks"):
        table.add_column(column, justify="right" if column in ("expectations", "passed", "failed", "failures") else "left")
    for suite, counts in report.statistics.get("suites", {}).items():
        evaluated = counts["evaluated_expectations"]
        successful = counts["successful_expectations"]
        table.add_row(
            suite,
            str(evaluated),
            str(successful),
            str(evaluated - successful),
            str(counts["failures"]),
            ", ".join(counts["skipped_checks"]) or "-",
        )
    console.print(table)
    summary = {key: value for key, value in report.statistics.items() if key != "suites"}
    for key, value in summary.items():
        console.print(f"{key}: {value}")
    lines = [buffer.getvalue().rstrip("\n")]
    lines += [f"FAIL {failure}" for failure in report.failures]
    return "\n".join(lines) + "\n"
