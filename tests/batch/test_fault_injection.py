"""Batch repair under kill -9: a few trials of ``benchmarks/fault_injection.py`` (the full run has 20)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_scripts import load_benchmark_script

from seedvr.batch import RepairSettings, run_batch


@pytest.fixture(scope="module")
def fault_injection():
    return load_benchmark_script("fault_injection.py")


def test_the_partial_output_check_sees_a_truncated_output(fault_injection, tmp_path: Path) -> None:
    names = fault_injection.build_inbox(tmp_path / "inbox", videos=2)
    outbox = tmp_path / "outbox"
    run_batch(tmp_path / "inbox", outbox, RepairSettings(method="telea"))
    reference = {name: fault_injection.read_video(outbox / f"{name}.mkv") for name in names}
    assert fault_injection.partial_outputs(outbox, reference) == []

    output = outbox / f"{names[0]}.mkv"
    output.write_bytes(output.read_bytes()[: output.stat().st_size // 2])
    (outbox / f"{names[1]}.report.json").write_text('{"frames": 8, "inp')

    assert fault_injection.partial_outputs(outbox, reference) == [f"{names[0]}.mkv", f"{names[1]}.report.json"]


def test_killed_batch_runs_lose_nothing_and_repair_each_video_once(fault_injection, tmp_path: Path) -> None:
    figures = fault_injection.run_trials(tmp_path, trials=5, videos=10, seed=0)

    assert figures["trials"] == 5 and figures["kills_mid_run"] >= 1
    counts = ("lost_inputs", "partial_outputs", "double_repairs", "wrongly_quarantined", "temporaries_after_rerun")
    failures = {key: figures[key] for key in counts}
    assert failures == dict.fromkeys(failures, 0), figures["per_trial"]
