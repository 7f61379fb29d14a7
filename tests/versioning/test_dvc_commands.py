"""One stage of a dvc.yaml, asked about and reproduced through the DVC command line."""

from __future__ import annotations

import sys

import pytest
import yaml

from seedvr.errors import SeedVRError
from seedvr.versioning.dvc_commands import STAGE_NUMERICS, reproduce_stage, stage_changes


def _write_stages(repo, stages: dict) -> None:
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))


def test_a_changed_stage_is_reproduced_with_polls_and_its_output_then_up_to_date(dvc_repo):
    # Sleeps past the first poll, so the stage is seen running however fast DVC starts.
    script = "import pathlib, time; time.sleep(0.5); pathlib.Path('out.txt').write_text('done'); print('stage says hello')"
    _write_stages(dvc_repo, {"hello": {"cmd": f'"{sys.executable}" -c "{script}"', "outs": ["out.txt"]}})
    polls, outputs = [], []

    assert stage_changes("hello", dvc_repo)  # never run: DVC reports it changed
    reproduce_stage("hello", dvc_repo, poll=lambda: polls.append(1), on_output=outputs.append)

    assert (dvc_repo / "out.txt").read_text() == "done"
    assert polls and len(outputs) == 1 and "stage says hello" in outputs[0]
    assert stage_changes("hello", dvc_repo) == []


def test_a_stage_runs_on_the_pinned_cpu_numerics_whatever_the_callers_environment(dvc_repo, monkeypatch):
    # dvc.lock holds trained weights' hashes: the stage's kernels and threads may not follow the host.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    script = "import os; print('numerics', os.environ['ONEDNN_MAX_CPU_ISA'], os.environ['OMP_NUM_THREADS'])"
    _write_stages(dvc_repo, {"numerics": {"cmd": f'"{sys.executable}" -c "{script}"'}})
    outputs = []
    reproduce_stage("numerics", dvc_repo, on_output=outputs.append)
    assert f"numerics {STAGE_NUMERICS['ONEDNN_MAX_CPU_ISA']} {STAGE_NUMERICS['OMP_NUM_THREADS']}" in outputs[0]


def test_a_failed_stage_is_one_error_ending_with_its_output(dvc_repo):
    _write_stages(dvc_repo, {"broken": {"cmd": f'"{sys.executable}" -c "raise SystemExit(\'no luck here\')"'}})
    with pytest.raises(SeedVRError, match=r"stage broken failed \(dvc exit status \d+\):\n(.|\n)*no luck here"):
        reproduce_stage("broken", dvc_repo)


def test_an_unknown_stage_is_one_error(dvc_repo):
    _write_stages(dvc_repo, {})
    with pytest.raises(SeedVRError, match="`dvc status --json dvc.yaml:missing` failed"):
        stage_changes("missing", dvc_repo)
