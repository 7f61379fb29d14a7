"""Running the DVC command line from the library and the flows.

DVC's Python internals change between releases; its command line is the stable contract,
so every operation we need (add, checkout, pull, list remotes, a stage's status, reproducing
one stage) runs ``python -m dvc`` in a child process with the same interpreter, whatever the
``PATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from seedvr.errors import SeedVRError

# Pulling a large folder from a slow remote can take a while; an hour bounds a hung transfer.
# A stage (training) may run for longer: reproduce_stage has no time limit.
_DVC_TIMEOUT_S = 3600
# How often reproduce_stage calls its ``poll`` while a stage runs.
STAGE_POLL_S = 2.0
# Lines of a failed stage's output quoted in the error (the whole output goes to ``on_output``).
_ERROR_TAIL_LINES = 15


def is_dvc_repo(repo_root: str | Path) -> bool:
    """Whether ``repo_root`` holds a DVC project (a ``.dvc`` folder)."""
    return (Path(repo_root) / ".dvc").is_dir()


# The CPU numerics every stage runs on. dvc.lock holds the hashes of trained weights, and the
# float sums of training follow the host: on one host (2026-12-06) capping oneDNN's convolution
# kernels at AVX2 changed both the fine-tuned detector and the repair model, and so did 1 torch
# thread against 2 (2, 3 and 4 agreed), while the cap cost no time (make run's training 494 s
# capped, 517 s not). AVX2 is what every x86-64 host of the last decade has; 2 threads are the
# cores of the machines `make run` is made for. So a pipeline run writes the committed dvc.lock
# on any such host (docs/data.md; docs/findings/blind-mode.md, "It still depended on the host",
# has what else was measured).
STAGE_NUMERICS = {"ONEDNN_MAX_CPU_ISA": "AVX2", "OMP_NUM_THREADS": "2"}


def _dvc_environment() -> dict[str, str]:
    """No analytics, the pinned :data:`STAGE_NUMERICS`, and this interpreter's scripts folder
    first on PATH: the stage commands call ``seedvr``, which a flow started as
    ``.venv/bin/python -m flows.training`` must find."""
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {
        **os.environ,
        **STAGE_NUMERICS,
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{scripts}{os.pathsep}{path}" if path else scripts,
    }


def _dvc_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def _check_repo(repo_root: Path) -> None:
    if not is_dvc_repo(repo_root):
        raise SeedVRError(f"{repo_root} is not a DVC repository (no .dvc folder): run `dvc init` there")


def run_dvc(args: list[str], repo_root: str | Path) -> str:
    """Run ``dvc <args>`` in ``repo_root`` and return its stdout; a failure is a SeedVRError."""
    repo_root = Path(repo_root)
    _check_repo(repo_root)
    try:
        completed = subprocess.run(
            _dvc_command(args),
            cwd=repo_root,
            env=_dvc_environment(),
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


def stage_changes(stage: str, repo_root: str | Path) -> list:
    """What ``dvc status`` reports for the ``dvc.yaml`` stage ``stage`` alone; empty when it is up to date."""
    args = ["status", "--json", f"dvc.yaml:{stage}"]
    output = run_dvc(args, repo_root)
    try:
        status = json.loads(output or "{}")
    except json.JSONDecodeError:
        raise SeedVRError(f"`dvc {' '.join(args)}` printed no JSON: {output[:200]!r}") from None
    return status.get(stage, [])


def reproduce_stage(
    stage: str,
    repo_root: str | Path,
    poll: Callable[[], None] | None = None,
    on_output: Callable[[str], None] | None = None,
    force: bool = False,
) -> None:
    """``dvc repro --single-item`` for the ``dvc.yaml`` stage ``stage`` (updates dvc.lock);
    ``force``: run it even when DVC finds it up to date (``--force``).

    ``poll()`` is called every :data:`STAGE_POLL_S` seconds while the stage runs (a flow
    follows the training's progress file with it); ``on_output`` receives the stage's whole
    output (stdout and stderr, blank lines dropped) once it ends, failed or not.

    Raises:
        SeedVRError: the stage failed; the message ends with the last lines of its output.
    """
    repo_root = Path(repo_root)
    _check_repo(repo_root)
    # The output goes to a file, not a pipe: a pipe nobody reads while polling would fill up
    # and block a talkative stage.
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            _dvc_command(["repro", "--single-item", *(["--force"] if force else []), f"dvc.yaml:{stage}"]),
            cwd=repo_root,
            env=_dvc_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        while process.poll() is None:
            if poll is not None:
                poll()
            time.sleep(STAGE_POLL_S)
        output.seek(0)
        lines = [line.rstrip() for line in output if line.strip()]
    if lines and on_output is not None:
        on_output("\n".join(lines))
    if process.returncode != 0:
        tail = "\n".join(lines[-_ERROR_TAIL_LINES:])
        raise SeedVRError(f"stage {stage} failed (dvc exit status {process.returncode}):\n{tail}")
