"""``seedvr repair``: the paths it is given, the folders it writes in, and how it stops.

No output may land on an input, a mask or another output; every folder is checked before any
work; SIGTERM cleans up like Ctrl-C, and what a killed run left is swept by the next one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import seedvr
from seedvr.cli import app
from seedvr.io import read_video, write_video
from seedvr.io.atomic import TEMP_MARKER

runner = CliRunner()
# The seedvr under test, for the command lines run in a child process.
CHILD_ENV = {**os.environ, "PYTHONPATH": str(Path(seedvr.__file__).parents[1])}
# `seedvr repair` in a child process whose telea repair signals it has started, then stalls:
# the run is caught mid-way, its temporary output on disk, whatever the machine's speed.
STALLED_REPAIR = """
import sys, time
from pathlib import Path
import seedvr.engine.methods as methods

def stalled(frames, masks):
    Path(sys.argv[1]).touch()
    time.sleep(120)
    return frames

methods.CLASSICAL_METHODS = {**methods.CLASSICAL_METHODS, "telea": stalled}
from seedvr.cli import app
app(["repair", *sys.argv[2:]], prog_name="seedvr")
"""


def invoke(*args):
    return runner.invoke(app, ["repair", *map(str, args)])


def assert_one_error_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    return lines[0]


def temporaries(folder: Path) -> list[Path]:
    return [entry for entry in folder.iterdir() if TEMP_MARKER in entry.name]


@pytest.fixture
def inputs(damaged_files, tmp_path) -> tuple[Path, Path]:
    """Copies of the damaged clip and its mask: a failing test must not spoil the shared ones."""
    video, mask = damaged_files
    return Path(shutil.copy(video, tmp_path / "clip.mkv")), Path(shutil.copy(mask, tmp_path / "clip.mask.mkv"))


# -- no output lands on an input, a mask or another output -------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "report_on_input",
        "report_on_output",
        "output_on_mask",
        "report_hard_link_to_input",
        "output_in_input_frames",
        "report_in_output_frames",
    ],
)
def test_no_output_may_land_on_an_input_a_mask_or_another_output(inputs, tmp_path, case):
    video, mask = inputs
    output, report = tmp_path / "out.mkv", None
    if case == "report_on_input":
        report = video
    elif case == "report_on_output":
        report = output
    elif case == "output_on_mask":
        output = mask
    elif case == "report_hard_link_to_input":
        report = tmp_path / "alias.mkv"
        os.link(video, report)
    elif case == "output_in_input_frames":
        video = tmp_path / "frames"
        write_video(video, read_video(inputs[0]), 25)
        output = video / "out.mkv"
    elif case == "report_in_output_frames":
        output, report = tmp_path / "out_frames", tmp_path / "out_frames" / "report.json"
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    result = invoke(video, "--mask", mask, "-o", output, "--method", "telea", *(["--report", report] if report else []))
    assert result.exit_code == 2
    assert "an output must not overwrite" in assert_one_error_line(result.output)
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


# -- read-only folders checked before any work (a missing one: test_repair.py) -----------------


def _without_root_privileges(command: list[str]) -> list[str]:
    """``command`` subject to file permissions even when the tests run as root (containers)."""
    if os.geteuid() != 0:
        return command
    drop = [shutil.which("setpriv") or "setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if subprocess.run([*drop, "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root and cannot drop the permission override (setpriv)")
    return [*drop, *command]


@pytest.mark.parametrize("case", ["frames_in_read_only_folder", "report_in_read_only_folder"])
def test_read_only_folders_are_one_line_before_any_work(inputs, tmp_path, case):
    video, mask = inputs
    locked = tmp_path / "locked"
    locked.mkdir()
    output, report = tmp_path / "out.mkv", None
    if case == "frames_in_read_only_folder":
        output = locked / "frames"
    else:
        report = locked / "report.json"
    command = [sys.executable, "-c", "from seedvr.cli import app; app(prog_name='seedvr')", "repair", video, "--mask", mask]
    command += ["-o", output, "--method", "telea", *(["--report", report] if report else [])]
    locked.chmod(0o555)
    try:
        result = subprocess.run(_without_root_privileges(list(map(str, command))), capture_output=True, text=True, env=CHILD_ENV)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert "is not writable" in assert_one_error_line(result.stderr)
    assert not output.exists() and list(locked.iterdir()) == []


# -- SIGTERM cleans up; a killed run's leftovers are swept by the next run ---------------------


def _start_stalled_repair(video: Path, mask: Path, output: Path, started: Path) -> subprocess.Popen:
    command = [sys.executable, "-c", STALLED_REPAIR, str(started), str(video), "--mask", str(mask), "-o", str(output)]
    process = subprocess.Popen([*command, "--method", "telea"], stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    deadline = time.monotonic() + 120
    while not started.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the repair did not start"
        time.sleep(0.05)
    assert temporaries(output.parent), "the run is mid-way: its output is still a temporary"
    return process


def test_sigterm_cleans_up_like_ctrl_c(inputs, tmp_path):
    video, mask = inputs
    output = tmp_path / "out" / "frames"
    output.parent.mkdir()
    process = _start_stalled_repair(video, mask, output, tmp_path / "started")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert assert_one_error_line(stderr) == "error: terminated"
    assert list(output.parent.iterdir()) == []


def test_the_next_run_sweeps_what_a_killed_run_left(inputs, tmp_path):
    video, mask = inputs
    output = tmp_path / "out" / "repaired.mkv"
    output.parent.mkdir()
    process = _start_stalled_repair(video, mask, output, tmp_path / "started")
    process.kill()  # kill -9: no chance to clean up
    process.communicate(timeout=60)
    assert temporaries(output.parent)

    result = invoke(video, "--mask", mask, "-o", output, "--method", "telea")
    assert result.exit_code == 0, result.output
    assert [entry.name for entry in output.parent.iterdir()] == ["repaired.mkv"]
