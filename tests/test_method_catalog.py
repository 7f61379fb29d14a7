"""The method catalog is the one list of methods: every reader agrees with it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from seedvr.baselines import CLASSICAL_METHODS
from seedvr.cli import app
from seedvr.config import EvaluateParams
from seedvr.engine.methods import make_method
from seedvr.errors import SeedVRError
from seedvr.method_catalog import METHOD_NAMES, METHODS, MODEL_METHOD, check_method, method_choices


def test_every_method_without_a_model_is_a_classical_baseline() -> None:
    assert {name for name, info in METHODS.items() if not info.uses_model} == set(CLASSICAL_METHODS)
    assert [name for name, info in METHODS.items() if info.uses_model] == [MODEL_METHOD]


def test_config_defaults_and_validation_read_the_catalog() -> None:
    assert EvaluateParams().methods == METHOD_NAMES
    with pytest.raises(ValueError, match="unknown method"):
        EvaluateParams(methods=("magic",))


@pytest.mark.parametrize("name", [name for name in METHOD_NAMES if name != MODEL_METHOD])
def test_the_engine_builds_every_catalogued_baseline(name: str) -> None:
    assert make_method(name).name == name


def test_an_unknown_name_is_refused_with_the_choices() -> None:
    with pytest.raises(SeedVRError, match="choose one of seedvr, propagate, telea, ns"):
        check_method("magic")
    with pytest.raises(SeedVRError, match="unknown method 'magic'"):
        make_method("magic")


def test_the_repair_command_help_lists_the_catalog() -> None:
    result = CliRunner().invoke(app, ["repair", "--help"], env={"COLUMNS": "200"})  # one line per option

    assert result.exit_code == 0, result.output
    assert method_choices() in result.output
