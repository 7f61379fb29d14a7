"""Throwaway DVC repositories for the versioning tests (never the project's own data/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TINY_DATA = {"dir": "data", "clips": 2, "frames": 3, "width": 32, "height": 24, "fps": "24", "seed": 5}


def run_dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """``dvc <args>`` in ``repo`` with the test's interpreter; fails the test on error."""
    completed = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed


@pytest.fixture(scope="session")
def empty_dvc_repo(tmp_path_factory) -> Path:
    """An empty DVC project without git (``dvc init --no-scm``), made once per session."""
    repo = tmp_path_factory.mktemp("template") / "repo"
    repo.mkdir()
    run_dvc(repo, "init", "--no-scm", "--quiet")
    return repo


@pytest.fixture()
def dvc_repo(empty_dvc_repo, tmp_path) -> Path:
    """A private copy of the empty DVC project, with a params.yaml for it."""
    repo = Path(shutil.copytree(empty_dvc_repo, tmp_path / "repo"))
    (repo / "params.yaml").write_text(yaml.safe_dump({"data": TINY_DATA}))
    return repo


@pytest.fixture()
def tiny_data() -> dict:
    """The ``params.data`` section of the throwaway repository, as a dict to vary."""
    return dict(TINY_DATA)


@pytest.fixture()
def tiny_data_params(tiny_data):
    from seedvr.config import SourceDataParams

    return SourceDataParams(**tiny_data)


@pytest.fixture()
def dvc():
    """The ``run_dvc`` helper, for tests that call DVC directly."""
    return run_dvc
