"""The Great Expectations suites, and the one place that runs them.

Three suites:

- ``manifest``: the damaged dataset's ``manifest.csv`` as written (columns, unique ids,
  splits, frame counts, sizes, mask ratios, files present);
- ``clips``: statistics measured from each clip's clean / damaged / mask files, checked
  against each other and against the manifest (frame counts, sizes, fps, mask coverage,
  empty mask frames, splits disjoint by source clip);
- ``sources``: the source clips in ``data/`` (frame counts, size and fps from params.data).

Every expectation carries a failure *template*: a sentence with ``{column}`` fields filled
from the failing row, so a failed suite reads "clip_0003: mask file has 15 frames but the
manifest says 16" rather than a metric dump. Importing this module imports Great
Expectations (seconds), which is why :mod:`seedvr.data.validation` only imports it when it
validates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from seedvr.config import ValidateParams
from seedvr.data.manifest import MANIFEST_COLUMNS

ExpectationFactory = Callable[[], Any]

SPLITS: tuple[str, ...] = ("train", "val", "test")

# A clip needs two frames for anything temporal (flow, propagation, consistency losses).
MIN_SOURCE_FRAMES = 2


@dataclass(frozen=True)
class Check:
    """One expectation and the sentence that explains a failure of it.

    ``failure`` is formatted with the failing row's columns (row expectations) or, for
    table expectations (no failing row), with ``details`` from the GX result.
    ``columns`` are those the expectation needs: when the frame lacks one, the check is
    skipped, because the missing column is already reported by the columns check.
    """

    name: str
    expectation: Any
    failure: str
    columns: tuple[str, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteOutcome:
    """What one suite found: readable failures plus GX's own counters."""

    suite: str
    success: bool
    failures: list[str]
    evaluated: int
    successful: int
    skipped: list[str]


def _row_check(name: str, expectation: Any, failure: str, *columns: str, **context: Any) -> Check:
    """A check whose expectation is column-wise (failures are reported per failing row)."""
    expectation.meta = {"check": name}
    return Check(name=name, expectation=expectation, failure=failure, columns=columns, context=context)


def _format_ratio_bounds(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}..{bounds[1]:g}"


# --------------------------------------------------------------------------- manifest suite


def manifest_checks(params: ValidateParams) -> list[Check]:
    """Expectations on ``manifest.csv`` itself, plus the derived columns of
    :func:`seedvr.data.validation.manifest_frame` (``fps_value``, ``*_exists``,
    ``unknown_damage_kinds``)."""
    E = gx.expectations
    low, high = params.mask_ratio
    columns_check = E.ExpectTableColumnsToMatchSet(column_set=list(MANIFEST_COLUMNS), exact_match=False)
    columns_check.meta = {"check": "manifest_columns"}
    rows_check = E.ExpectTableRowCountToBeBetween(min_value=1)
    rows_check.meta = {"check": "manifest_rows"}
    checks = [
        Check("manifest_columns", columns_check, "manifest.csv lacks column(s) {missing}"),
        Check("manifest_rows", rows_check, "manifest.csv lists no clip"),
    ]
    for column in MANIFEST_COLUMNS:
        checks.append(
            _row_check(
                f"not_null_{column}",
                E.ExpectColumnValuesToNotBeNull(column=column),
                f"row {{row_number}} ({{clip_id}}): {column} is empty or not a valid value",
                column,
            )
        )
    checks += [
        _row_check(
            "clip_id_unique",
            E.ExpectColumnValuesToBeUnique(column="clip_id"),
            "{clip_id}: clip_id appears more than once in the manifest; expected unique ids",
            "clip_id",
        ),
        _row_check(
            "split_known",
            E.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS)),
            "{clip_id}: split is {split!r}; expected one of train, val, test",
            "split",
        ),
        _row_check(
            "frames_minimum",
            E.ExpectColumnValuesToBeBetween(column="frames", min_value=params.min_frames),
            "{clip_id}: manifest says {frames:g} frames; expected at least {min_frames}",
            "frames",
            min_frames=params.min_frames,
        ),
        _row_check(
            "height_positive",
            E.ExpectColumnValuesToBeBetween(column="height", min_value=1),
            "{clip_id}: manifest height is {height:g}; expected a positive number of pixels",
            "height",
        ),
        _row_check(
            "width_positive",
            E.ExpectColumnValuesToBeBetween(column="width", min_value=1),
            "{clip_id}: manifest width is {width:g}; expected a positive number of pixels",
            "width",
        ),
        _row_check(
            "fps_positive",
            E.ExpectColumnValuesToBeBetween(column="fps_value", min_value=0, strict_min=True),
            "{clip_id}: manifest fps is {fps!r}; expected a positive rate such as 24/1",
            "fps_value",
        ),
        _row_check(
            "manifest_mask_ratio_bounds",
            E.ExpectColumnValuesToBeBetween(column="mask_ratio", min_value=low, max_value=high),
            "{clip_id}: manifest mask_ratio is {mask_ratio:.4f}; expected within {bounds}",
            "mask_ratio",
            bounds=_format_ratio_bounds(params.mask_ratio),
        ),
        _row_check(
            "damage_kinds_known",
            E.ExpectColumnValuesToBeInSet(column="unknown_damage_kinds", value_set=[""]),
            "{clip_id}: unknown damage kind(s) {unknown_damage_kinds} in {damage_kinds!r}",
            "unknown_damage_kinds",
        ),
    ]
    for role in ("clean", "damaged", "mask"):
        checks.append(
            _row_check(
                f"{role}_file_exists",
                E.ExpectColumnValuesToBeInSet(column=f"{role}_exists", value_set=[True]),
                f"{{clip_id}}: {role} file {{{role}_path}} does not exist",
                f"{role}_exists",
            )
        )
    return checks


# ------------------------------------------------------------------------------ clip suite


def clip_checks(params: ValidateParams, kinds_allowing_empty_frames: tuple[str, ...]) -> list[Check]:
    """Expectations on the statistics measured from each clip's files
    (:func:`seedvr.data.validation.measure_clips`)."""
    E = gx.expectations
    low, high = params.mask_ratio
    checks = [
        _row_check(
            "files_readable",
            E.ExpectColumnValuesToBeInSet(column="readable", value_set=[True]),
            "{clip_id}: cannot read its files: {read_error}",
            "readable",
        )
    ]
    for role in ("clean", "damaged", "mask"):
        # "either value missing" skips unreadable clips, already reported by files_readable.
        checks += [
            _row_check(
                f"{role}_frames_match_manifest",
                E.ExpectColumnPairValuesToBeEqual(
                    column_A=f"{role}_frames", column_B="frames", ignore_row_if="either_value_is_missing"
                ),
                f"{{clip_id}}: {role} file has {{{role}_frames:g}} frames but the manifest says {{frames:g}}",
                f"{role}_frames",
                "frames",
            ),
            _row_check(
                f"{role}_size_matches_manifest",
                E.ExpectColumnPairValuesToBeEqual(
                    column_A=f"{role}_size", column_B="size", ignore_row_if="either_value_is_missing"
                ),
                f"{{clip_id}}: {role} file is {{{role}_size}} (WxH) but the manifest says {{size}}",
                f"{role}_size",
                "size",
            ),
            _row_check(
                f"{role}_fps_matches_manifest",
                E.ExpectColumnPairValuesToBeEqual(
                    column_A=f"{role}_fps", column_B="fps", ignore_row_if="either_value_is_missing"
                ),
                f"{{clip_id}}: {role} file runs at {{{role}_fps}} fps but the manifest says {{fps}}",
                f"{role}_fps",
                "fps",
            ),
        ]
    allowing = ", ".join(kinds_allowing_empty_frames) or "none"
    checks += [
        _row_check(
            "mask_not_empty_nor_full",
            E.ExpectColumnValuesToBeBetween(
                column="measured_mask_ratio", min_value=0.0, max_value=1.0, strict_min=True, strict_max=True
            ),
            "{clip_id}: the mask covers {measured_mask_ratio:.4f} of the clip; "
            "expected a mask that is neither entirely empty nor entirely full",
            "measured_mask_ratio",
        ),
        _row_check(
            "measured_mask_ratio_bounds",
            E.ExpectColumnValuesToBeBetween(column="measured_mask_ratio", min_value=low, max_value=high),
            "{clip_id}: the mask file covers {measured_mask_ratio:.4f} of the clip; expected within {bounds}",
            "measured_mask_ratio",
            bounds=_format_ratio_bounds(params.mask_ratio),
        ),
        _row_check(
            "mask_ratio_matches_manifest",
            E.ExpectColumnValuesToBeBetween(column="mask_ratio_error", min_value=0.0, max_value=params.mask_ratio_tolerance),
            "{clip_id}: the mask file covers {measured_mask_ratio:.4f} of the clip but the manifest "
            "says {mask_ratio:.4f}; expected a difference of at most {tolerance:g}",
            "mask_ratio_error",
            tolerance=params.mask_ratio_tolerance,
        ),
        _row_check(
            "no_empty_mask_frames",
            E.ExpectColumnValuesToBeBetween(column="disallowed_empty_mask_frames", min_value=0, max_value=0),
            "{clip_id}: {empty_mask_frames:g} of {mask_frames:g} mask frames are empty; expected none "
            "for damage kinds {damage_kinds!r} (frames may be empty only when every kind is one "
            "of {allowing})",
            "disallowed_empty_mask_frames",
            allowing=allowing,
        ),
        _row_check(
            "splits_disjoint_by_source",
            E.ExpectColumnValuesToBeBetween(column="source_split_count", min_value=1, max_value=1),
            "{clip_id}: source clip {source} appears in {source_split_count:g} splits ({source_splits}); "
            "expected each source in exactly one split",
            "source_split_count",
        ),
    ]
    return checks


# ---------------------------------------------------------------------------- source suite


def source_checks(width: int, height: int, fps: str) -> list[Check]:
    """Expectations on the source clips in ``data/`` (:func:`measure_sources`)."""
    E = gx.expectations
    size = f"{width}x{height}"
    rows_check = E.ExpectTableRowCountToBeBetween(min_value=1)
    rows_check.meta = {"check": "source_rows"}
    return [
        Check("source_rows", rows_check, "the source folder lists no clip"),
        _row_check(
            "source_readable",
            E.ExpectColumnValuesToBeInSet(column="readable", value_set=[True]),
            "{clip_id}: cannot read {path}: {read_error}",
            "readable",
        ),
        _row_check(
            "source_frames_minimum",
            E.ExpectColumnValuesToBeBetween(column="frames", min_value=MIN_SOURCE_FRAMES),
            "{clip_id}: {frames:g} frames; expected at least {min_frames}",
            "frames",
            min_frames=MIN_SOURCE_FRAMES,
        ),
        _row_check(
            "source_size",
            E.ExpectColumnValuesToBeInSet(column="size", value_set=[size]),
            "{clip_id}: {size} (WxH); expected {expected_size} as params.data says",
            "size",
            expected_size=size,
        ),
        _row_check(
            "source_fps",
            E.ExpectColumnValuesToBeInSet(column="fps", value_set=[fps]),
            "{clip_id}: {fps} fps; expected {expected_fps} as params.data says",
            "fps",
            expected_fps=fps,
        ),
        _row_check(
            "source_listed",
            E.ExpectColumnValuesToBeInSet(column="listed", value_set=[True]),
            "{clip_id}: {path} is in the folder but not listed in sources.json",
            "listed",
        ),
    ]


# ------------------------------------------------------------------------------ the runner


def new_context() -> Any:
    """An in-memory GX context (nothing written to disk), progress bars off for clean logs."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


class _Row(dict):
    """Row values for a failure sentence; NaN reads as "missing" and formats without error."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return _Missing() if _is_missing(value) else value


class _Missing:
    def __format__(self, spec: str) -> str:
        return "missing"

    def __repr__(self) -> str:
        return "missing"


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _describe_row_failure(check: Check, frame: pd.DataFrame, index: Any) -> str:
    row = frame.loc[index].to_dict()
    row["row_number"] = int(frame.index.get_loc(index)) + 1
    return check.failure.format_map(_Row({**row, **check.context}))


def _describe_table_failure(check: Check, result: dict[str, Any]) -> str:
    mismatched = (result.get("details") or {}).get("mismatched") or {}
    missing = ", ".join(mismatched.get("missing") or []) or "?"
    return check.failure.format_map(_Row({"missing": missing, "observed": result.get("observed_value")}))


def run_suite(context: Any, suite_name: str, frame: pd.DataFrame, checks: list[Check]) -> SuiteOutcome:
    """Validate ``frame`` with ``checks`` as the GX suite ``suite_name``; readable failures out.

    Checks whose columns are absent are skipped (and listed), so one missing manifest column
    yields one failure rather than a cascade of GX metric errors.
    """
    frame = frame.reset_index(drop=True)
    runnable = [check for check in checks if all(column in frame.columns for column in check.columns)]
    skipped = [check.name for check in checks if check not in runnable]
    by_name = {check.name: check for check in runnable}

    asset = context.data_sources.add_pandas(f"{suite_name}_source").add_dataframe_asset(suite_name)
    batch = asset.add_batch_definition_whole_dataframe(f"{suite_name}_batch")
    # Expectations passed to the constructor are stored in one write; adding them one by
    # one re-serialises the whole suite each time (seconds for a few dozen).
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name, expectations=[check.expectation for check in runnable]))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame}, result_format="COMPLETE")

    failures: list[str] = []
    # GX returns results in its own order; sort them back into the suite's order so the
    # report reads the same every run.
    order = {check.name: position for position, check in enumerate(runnable)}
    for item in sorted(result.results, key=lambda r: order.get((r.expectation_config.meta or {}).get("check"), 0)):
        if item.success:
            continue
        check = by_name[(item.expectation_config.meta or {})["check"]]
        exception = item.exception_info or {}
        if exception.get("raised_exception"):
            failures.append(f"{suite_name}: could not evaluate {check.name}: {exception.get('exception_message')}")
            continue
        indices = item.result.get("unexpected_index_list")
        if indices:
            failures += [f"{suite_name}: {_describe_row_failure(check, frame, index)}" for index in indices]
        else:
            failures.append(f"{suite_name}: {_describe_table_failure(check, item.result)}")
    statistics = result.statistics
    return SuiteOutcome(
        suite=suite_name,
        success=bool(result.success),
        failures=failures,
        evaluated=int(statistics["evaluated_expectations"]),
        successful=int(statistics["successful_expectations"]),
        skipped=skipped,
    )
