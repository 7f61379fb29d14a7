"""The git commit a run comes from, recorded with every MLflow run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _git_output(arguments: list[str], repo_root: str | Path) -> str | None:
    """What ``git ARGUMENTS`` prints in ``repo_root``; ``None`` without git or when it fails."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        completed = subprocess.run(
            [git, *arguments], cwd=Path(repo_root), capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout if completed.returncode == 0 else None


def git_commit(repo_root: str | Path = ".") -> str | None:
    """The full sha of ``HEAD`` in ``repo_root``, or ``None`` outside git or before a commit.

    ``None`` rather than an error: a run from an exported source tree is still worth logging.
    """
    sha = (_git_output(["rev-parse", "--verify", "--quiet", "HEAD"], repo_root) or "").strip()
    return sha or None


def git_is_dirty(repo_root: str | Path = ".") -> bool | None:
    """Whether tracked files differ from ``HEAD`` (``None`` outside git): a run then is not
    exactly reproducible from its commit alone."""
    status = _git_output(["status", "--porcelain", "--untracked-files=no"], repo_root)
    return None if status is None else bool(status.strip())
