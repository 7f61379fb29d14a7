"""Running the DVC command line from the library.

DVC's Python internals change between releases; its command line is the stable contract,
so the few operations we need (add, checkout, pull, list remotes) run ``python -m dvc`` in a child
process with the same interpreter, whatever the ``PATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from seedvr.errors import SeedVRError

# Pulling a large folder from a slow remote can take a while; an hour bounds a hung transfer.
_DVC_TIMEOUT_S = 3600


def is_dvc_repo(repo_root: str | Path) -> bool:
    """Whether ``repo_root`` holds a DVC project (a ``.dvc`` folder)."""
    return (Path(repo_root) / ".dvc").is_dir()


def run_dvc(args: list[str], repo_root: str | Path) -> str:
    """Run ``dvc <args>`` in ``repo_root`` and return its stdout; a failure is a SeedVRError."""
    repo_root = Path(repo_root)
    if not is_dvc_repo(repo_root):
        raise SeedVRError(f"{repo_root} is not a DVC repository (no .dvc folder): run `dvc init` there")
    environment = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "dvc", *args],
            cwd=repo_root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=_DVC_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SeedVRError(f"`dvc {' '.join(args)}` did not finish within {_DVC_TIMEOUT_S} s") from None
    if completed.returncode != 0:
        # DVC prints its own one-line reason ("ERROR: ...") on stderr; pass the last one on.
        reasons = [line for line in completed.stderr.splitlines() if line.strip()]
        reason = reasons[-1].strip() if reasons else f"exit status {completed.returncode}"
        raise SeedVRError(f"`dvc {' '.join(args)}` failed: {reason}")
    return completed.stdout


def configured_remotes(repo_root: str | Path) -> list[str]:
    """Names of the DVC remotes configured for ``repo_root`` (project and local config)."""
    output = run_dvc(["remote", "list"], repo_root)
    return [line.split()[0] for line in output.splitlines() if line.strip()]


def dvc_add(repo_root: str | Path, target: str) -> None:
    """Record ``target``'s current content in ``<target>.dvc`` and the DVC cache."""
    run_dvc(["add", "--quiet", target], repo_root)
