"""The damaged dataset's ``manifest.csv``: one row per clip, read and written in one place.

Columns (exactly, in this order) are :data:`MANIFEST_COLUMNS`:

=============  ==========================================================================
clip_id        unique name of the damaged clip: source clip + ``_`` + kinds, e.g.
               ``clip_0003_scratch`` (see :func:`source_clip_id`)
split          ``train``, ``val`` or ``test``; disjoint by source clip
frames         frame count
height, width  frame size in pixels
fps            exact frame rate as text, ``"24/1"`` or ``"30000/1001"``
mask_ratio     mean fraction of damaged pixels over the clip (measured on the mask)
damage_kinds   kinds applied, ``|``-separated in painting order, e.g. ``scratch|dust``
seed           the seed of the generator that drew this clip's damage
clean_path     clean clip, relative to the manifest's folder
damaged_path   damaged clip, relative to the manifest's folder
mask_path      mask video (255 = damaged), relative to the manifest's folder
=============  ==========================================================================
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from fractions import Fraction
from pathlib import Path

import pandas as pd

from seedvr.config import DAMAGE_KINDS
from seedvr.errors import SeedVRError

MANIFEST_FILE = "manifest.csv"
SPLITS: tuple[str, ...] = ("train", "val", "test")
KIND_SEPARATOR = "|"
VARIANT_KIND_JOINER = "+"


@dataclass(frozen=True)
class ManifestRow:
    """One clip of the damaged dataset (field order = column order)."""

    clip_id: str
    split: str
    frames: int
    height: int
    width: int
    fps: str
    mask_ratio: float
    damage_kinds: str
    seed: int
    clean_path: str
    damaged_path: str
    mask_path: str

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.damage_kinds.split(KIND_SEPARATOR))

    @property
    def frame_rate(self) -> Fraction:
        return parse_fps(self.fps)


MANIFEST_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ManifestRow))
PATH_COLUMNS: tuple[str, ...] = ("clean_path", "damaged_path", "mask_path")
_INTEGER_COLUMNS = ("frames", "height", "width", "seed")
_TEXT_COLUMNS = ("clip_id", "split", "fps", "damage_kinds") + PATH_COLUMNS


def format_fps(fps: Fraction) -> str:
    """``Fraction(24)`` -> ``"24/1"``, ``Fraction(30000, 1001)`` -> ``"30000/1001"``."""
    fps = Fraction(fps)
    return f"{fps.numerator}/{fps.denominator}"


def parse_fps(text: str) -> Fraction:
    """``"24/1"``, ``"24"`` or ``"30000/1001"`` -> a positive Fraction."""
    try:
        fps = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise SeedVRError(f"frame rate {text!r} is not a number like 24/1 or 30000/1001") from None
    if fps <= 0:
        raise SeedVRError(f"frame rate must be positive, got {text!r}")
    return fps


def join_kinds(kinds: Iterable[str]) -> str:
    return KIND_SEPARATOR.join(kinds)


def variant_clip_id(source: str, kinds: Iterable[str]) -> str:
    """Name of a damaged variant of ``source``: ``clip_0003`` + ``[scratch]`` -> ``clip_0003_scratch``
    (several kinds are joined with ``+``: ``clip_0003_scratch+dust``)."""
    return f"{source}_{VARIANT_KIND_JOINER.join(kinds)}"


def source_clip_id(clip_id: str) -> str:
    """The source clip a damaged variant was made from (inverse of :func:`variant_clip_id`).

    Splits are disjoint by this name. An id without a damage-kind suffix is its own source.
    """
    source, _, suffix = str(clip_id).rpartition("_")
    if source and suffix and all(kind in DAMAGE_KINDS for kind in suffix.split(VARIANT_KIND_JOINER)):
        return source
    return str(clip_id)


def write_manifest(path: str | Path, rows: Iterable[ManifestRow]) -> Path:
    """Write ``rows`` as ``manifest.csv`` (atomically; ``mask_ratio`` with 8 decimals so the
    text, hence the file, is identical on every run)."""
    from seedvr.io import atomic_output

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        values = list(astuple(row))
        values[MANIFEST_COLUMNS.index("mask_ratio")] = f"{row.mask_ratio:.8f}"
        writer.writerow(values)
    path = Path(path)
    with atomic_output(path) as temporary:
        temporary.write_text(buffer.getvalue())
    return path


def read_manifest(path: str | Path, check_files: bool = True, absolute_paths: bool = False) -> pd.DataFrame:
    """Read and check a ``manifest.csv``; every problem is a one-line :class:`SeedVRError`.

    Checks: the exact columns, unique ``clip_id``, known splits and damage kinds, positive
    sizes and frame counts, parseable positive fps, ``0 <= mask_ratio <= 1``, and (with
    ``check_files``) that every listed file exists. Path columns stay relative to the
    manifest's folder unless ``absolute_paths``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_FILE
    if not path.is_file():
        raise SeedVRError(f"manifest not found: {path}")
    try:
        table = pd.read_csv(path, dtype={column: str for column in _TEXT_COLUMNS}, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SeedVRError(f"{path} is not a readable CSV file: {str(error).splitlines()[0]}") from None
    if tuple(table.columns) != MANIFEST_COLUMNS:
        raise SeedVRError(f"{path}: columns must be {', '.join(MANIFEST_COLUMNS)}; found {', '.join(map(str, table.columns))}")
    if table.empty:
        raise SeedVRError(f"{path} lists no clips")
    _check_values(table, path)
    root = path.parent
    if check_files:
        for column in PATH_COLUMNS:
            for clip_id, relative in zip(table["clip_id"], table[column]):
                if not (root / relative).exists():
                    raise SeedVRError(f"{path}: {clip_id}: {column} {relative} does not exist")
    if absolute_paths:
        for column in PATH_COLUMNS:
            table[column] = [str((root / relative).resolve()) for relative in table[column]]
    return table


def _check_values(table: pd.DataFrame, path: Path) -> None:
    for column in _INTEGER_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or (values != values.round()).any():
            raise SeedVRError(f"{path}: column {column} must hold integers")
        table[column] = values.astype("int64")
    for column in ("frames", "height", "width"):
        if (table[column] <= 0).any():
            clip_id = table.loc[table[column] <= 0, "clip_id"].iloc[0]
            raise SeedVRError(f"{path}: {clip_id}: {column} must be positive")
    ratio = pd.to_numeric(table["mask_ratio"], errors="coerce")
    if ratio.isna().any() or ((ratio < 0) | (ratio > 1)).any():
        raise SeedVRError(f"{path}: mask_ratio must be a number from 0 to 1 on every row")
    table["mask_ratio"] = ratio.astype("float64")
    duplicated = table["clip_id"][table["clip_id"].duplicated()]
    if not duplicated.empty:
        raise SeedVRError(f"{path}: clip_id {duplicated.iloc[0]} appears more than once")
    bad_split = table.loc[~table["split"].isin(SPLITS), "split"]
    if not bad_split.empty:
        raise SeedVRError(f"{path}: unknown split {bad_split.iloc[0]!r}; expected one of {', '.join(SPLITS)}")
    for clip_id, fps in zip(table["clip_id"], table["fps"]):
        try:
            parse_fps(fps)
        except SeedVRError as error:
            raise SeedVRError(f"{path}: {clip_id}: {error}") from None
    for clip_id, kinds in zip(table["clip_id"], table["damage_kinds"]):
        unknown = [kind for kind in kinds.split(KIND_SEPARATOR) if kind not in DAMAGE_KINDS]
        if unknown:
            raise SeedVRError(f"{path}: {clip_id}: unknown damage kind {unknown[0]!r}")


def manifest_rows(table: pd.DataFrame) -> list[ManifestRow]:
    """Rows of a manifest table (as returned by :func:`read_manifest`) as :class:`ManifestRow`."""
    casts = {f.name: {"int": int, "float": float, "str": str}[f.type] for f in fields(ManifestRow)}
    return [
        ManifestRow(**{column: casts[column](record[column]) for column in MANIFEST_COLUMNS})
        for record in table.to_dict("records")
    ]
