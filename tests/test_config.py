"""params.yaml and the schema's defaults are one set of values: a test, so they cannot drift.

Code that builds ``Params()`` without a file (a CLI run outside the repository, a benchmark,
a test) must behave exactly as the pipeline configured by params.yaml does.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from seedvr.config import Params, load_params

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
