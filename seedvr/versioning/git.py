"""The git commit a run comes from, recorded with every MLflow run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def git_commit(repo_root: str | Path = ".") -> str | None:
    """The full sha of ``HEAD`` in ``repo_root``, or ``None`` outside git or before a commit.

    ``None`` rather than an error: a run from an exported source tree is still worth logging.
    """
    git = shutil.which("git")
    if git is None:
        return None
    try:
        completed = subprocess.run(
            [git, "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=Path(repo_root),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = completed.stdout.strip()
    return sha if completed.returncode == 0 and sha else None


def git_is_dirty(repo_root: str | Path = ".") -> bool | None:
    """Whether tracked files differ from ``HEAD`` (``None`` outside git): a run then is not
    exactly reproducible from its commit alone."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        completed = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=Path(repo_root),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return bool(completed.stdout.strip())
