"""params.yaml and the schema's defaults are one set of values: a test, so they cannot drift.

Code that builds ``Params()`` without a file (a CLI run outside the repository, a benchmark,
a test) must behave exactly as the pipeline configured by params.yaml does.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from seedvr.config import REPAIR_DEFAULTS, DetectorParams, Params, detection_scales, load_params

PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"


def _differences(written: dict, defaults: dict, where: str = "") -> list[str]:
    """Every key whose value in params.yaml differs from the schema's default, or is missing."""
    found = []
    for key, default in defaults.items():
        name = f"{where}{key}"
        if key not in written:
            found.append(f"{name}: missing from params.yaml (schema default {default!r})")
        elif isinstance(default, dict):
            found.extend(_differences(written[key], default, f"{name}."))
        elif written[key] != default:
            found.append(f"{name}: params.yaml {written[key]!r} != schema default {default!r}")
    return found


def test_params_yaml_equals_the_schema_defaults_field_by_field():
    written = yaml.safe_load(PARAMS_FILE.read_text())
    defaults = Params().model_dump(mode="json", by_alias=True)
    assert _differences(written, defaults) == []
    # And nothing in the file that the schema does not know (load_params refuses it too).
    assert set(written) == set(defaults)


def test_params_yaml_loads_to_the_defaults():
    assert load_params(PARAMS_FILE) == Params()


# -- the repair settings: one value each, whatever function takes them --------------------------

CODE_ROOTS = ("seedvr", "flows")


def _literal_defaults(tree: ast.AST):
    """(name, literal value, line) of every parameter or dataclass field with a literal default,
    including ``typer.Option(<literal>, ...)`` defaults of command-line options."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = node.args.posonlyargs + node.args.args
            pairs = list(zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults))
            pairs += [(arg, default) for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults) if default]
            for arg, default in pairs:
                if isinstance(default, ast.Call) and getattr(default.func, "attr", None) == "Option" and default.args:
                    default = default.args[0]
                if isinstance(default, ast.Constant):
                    yield arg.arg, default.value, default.lineno
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)
                    and isinstance(statement.value, ast.Constant)
                ):
                    yield statement.target.id, statement.value.value, statement.lineno


def test_no_function_repeats_a_repair_default_that_differs_from_params_yaml():
    """A parameter named like a ``repair`` setting that still carries a literal default (code
    not yet reading :data:`REPAIR_DEFAULTS`) must at least carry the same value."""
    project = PARAMS_FILE.parent
    settings = REPAIR_DEFAULTS.model_dump()
    drifted = []
    for root in CODE_ROOTS:
        for path in sorted((project / root).rglob("*.py")):
            if path == project / "seedvr" / "config.py":
                continue
            for name, value, line in _literal_defaults(ast.parse(path.read_text(), str(path))):
                # None means "the default" (resolved from REPAIR_DEFAULTS where it is used).
                if name in settings and value is not None and value != settings[name]:
                    drifted.append(
                        f"{path.relative_to(project)}:{line}: {name}={value!r}, params.yaml repair.{name}={settings[name]!r}"
                    )
    assert drifted == []


def test_the_served_model_signature_defaults_to_the_repair_settings():
    from seedvr.registry.signature import PARAM_DEFAULTS

    for name in ("chunk", "overlap"):
        assert PARAM_DEFAULTS[name] == getattr(REPAIR_DEFAULTS, name)


def test_the_command_line_defaults_are_the_repair_settings():
    from seedvr.cli.repair import repair

    options = inspect.signature(repair).parameters
    for name in ("chunk", "overlap", "crf", "adapt_frames"):
        assert options[name].default.default == getattr(REPAIR_DEFAULTS, name)


def test_detection_scales_must_be_distinct_shares_of_the_frame():
    assert DetectorParams(scales=[0.5, 1]).scales == (0.5, 1.0)
    assert detection_scales("1,0.4") == (1.0, 0.4)
    for bad in ([], [0.0], [1.0, 1.5], [0.4, 0.4]):
        with pytest.raises(ValidationError, match="scales"):
            DetectorParams(scales=bad)


def test_grow_thresholds_may_not_exceed_the_decision_threshold():
    assert DetectorParams(threshold=0.5, grow_threshold=0.5, auto_grow_threshold=0.1).grow_threshold == 0.5
    for field in ("grow_threshold", "auto_grow_threshold"):
        with pytest.raises(ValidationError, match=field):
            DetectorParams(threshold=0.5, **{field: 0.6})


def test_the_cue_counts_a_detector_may_read_are_the_cue_modules():
    from typing import get_args

    from seedvr.config import CueChannels
    from seedvr.ops.damage_cues import CUE_COUNTS

    assert get_args(CueChannels) == CUE_COUNTS
