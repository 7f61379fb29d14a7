"""dvc.yaml's code deps follow the imports: every seedvr file a stage runs is a dep of it.

A file missing from a stage's deps means editing it leaves the stage's outputs stale while
``dvc status`` reports "up to date"; a listed ``seedvr/...`` dep the stage never runs only
causes needless re-runs, and is refused too so the lists stay readable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml

from seedvr.cli import app
from seedvr.versioning.code_deps import code_dep_gaps, imported_files

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STAGES = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]


def command_module(words: list[str], group: typer.Typer = app) -> str:
    """The module defining the command ``seedvr WORDS...`` runs, as the command line resolves it."""
    word, rest = words[0], words[1:]
    for subgroup in group.registered_groups:
        if subgroup.name == word:
            return command_module(rest, subgroup.typer_instance)
    for command in group.registered_commands:
        if (command.name or command.callback.__name__.replace("_", "-")) == word:
            return command.callback.__module__
    raise LookupError(f"no command {word!r}")


def test_every_stage_runs_a_seedvr_command():
    assert {name: stage["cmd"].split()[0] for name, stage in STAGES.items()} == {name: "seedvr" for name in STAGES}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_cover_the_code_it_imports(stage):
    words = [word for word in STAGES[stage]["cmd"].split()[1:] if not word.startswith("-")]
    files = imported_files(command_module(words), PROJECT_ROOT)
    assert code_dep_gaps([str(dep) for dep in STAGES[stage]["deps"]], files) == {"missing": [], "unused": []}


def test_the_walk_follows_function_local_and_lazy_imports():
    files = imported_files("seedvr.cli.train", PROJECT_ROOT)
    # seedvr train imports seedvr.train.fit inside the command; fit resolves `train.init: auto`
    # through the model store (the champion), imported at module level.
    assert {"seedvr/train/fit.py", "seedvr/modelstore/registered.py", "seedvr/config.py", "seedvr/cli/__init__.py"} <= files
    # `from seedvr.data import read_manifest`-style names come from the module the package's lazy map names.
    assert "seedvr/data/manifest.py" in files
    # Other commands are registered, not run.
    assert "seedvr/cli/repair.py" not in files
