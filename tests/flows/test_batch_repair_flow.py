"""The batch repair flow on a real (temporary) Prefect API: quarantine, idempotence, crashes, Dask."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from flow_samples import clip_frames, clip_hole, file_times, folder_fingerprint, hidden_leftovers
from prefect.artifacts import Artifact
from prefect.task_runners import ThreadPoolTaskRunner

from flows import repair as repair_flow
from flows.repair import RESULTS_ARTIFACT_KEY, batch_repair, make_task_runner
from seedvr.batch import ModelUnavailable, model_cache
from seedvr.engine import methods
from seedvr.errors import SeedVRError
from seedvr.io import read_video


def _statuses(summary: dict) -> dict[str, str]:
    return {row["name"]: row["status"] for row in summary["items"]}


def test_batch_repairs_good_videos_and_quarantines_the_corrupt_one(prefect_harness, make_inbox, tmp_path: Path) -> None:
    inbox = make_inbox(good=("a", "b"), corrupt=("bad",))
    outbox = tmp_path / "outbox"
    inputs_before = folder_fingerprint(inbox)

    summary = batch_repair(str(inbox), str(outbox), method="telea")

    assert _statuses(summary) == {"a": "repaired", "b": "repaired", "bad": "quarantined"}
    assert (summary["repaired"], summary["skipped"], summary["quarantined"]) == (2, 0, 1)
    assert sorted(path.name for path in outbox.iterdir()) == [
        ".ledger.jsonl",
        "a.mkv",
        "a.report.json",
        "b.mkv",
        "b.report.json",
        "quarantine",
    ]
    assert [path.name for path in (outbox / "quarantine").iterdir()] == ["bad.error.json"]
    error = json.loads((outbox / "quarantine" / "bad.error.json").read_text())
    assert error["input"] == str(inbox / "bad.mp4") and "\n" not in error["error"]
    # Outputs are the inputs outside the hole, byte for byte; inputs are untouched.
    repaired = read_video(outbox / "b.mkv")
    assert np.array_equal(repaired[:, ~clip_hole()], clip_frames(1)[:, ~clip_hole()])
    assert folder_fingerprint(inbox) == inputs_before
    table = json.loads(Artifact.get(RESULTS_ARTIFACT_KEY).data)
    assert {row["name"]: (row["status"], row["frames"]) for row in table} == {
        "a": ("repaired", 6),
        "b": ("repaired", 6),
        "bad": ("quarantined", None),
    }

    outputs_before = file_times(outbox)
    rerun = batch_repair(str(inbox), str(outbox), method="telea")

    assert set(_statuses(rerun).values()) == {"skipped"}
    assert file_times(outbox) == outputs_before
    assert folder_fingerprint(inbox) == inputs_before


def test_a_crash_mid_video_leaves_no_partial_output_and_the_next_run_finishes(
    prefect_harness, make_inbox, tmp_path: Path, monkeypatch
) -> None:
    inbox = make_inbox(good=("a",), corrupt=())
    outbox = tmp_path / "outbox"
    telea = methods.CLASSICAL_METHODS["telea"]
    calls = []

    def fails_on_second_chunk(frames, masks):
        calls.append(len(frames))
        if len(calls) % 2 == 0:  # the first chunk of every attempt has been written by now
            raise RuntimeError("simulated crash while repairing")
        return telea(frames, masks)

    monkeypatch.setattr(methods, "CLASSICAL_METHODS", {**methods.CLASSICAL_METHODS, "telea": fails_on_second_chunk})
    crashed = batch_repair(str(inbox), str(outbox), method="telea", chunk=4, overlap=1)

    assert len(calls) == 4  # first attempt + one retry, two chunks each
    assert _statuses(crashed) == {"a": "quarantined"}
    assert crashed["items"][0]["error"] == "RuntimeError: simulated crash while repairing"
    assert not (outbox / "a.mkv").exists() and not (outbox / "a.report.json").exists()
    assert hidden_leftovers(outbox) == []
    assert not (outbox / ".ledger.jsonl").exists()  # nothing was committed

    monkeypatch.undo()
    finished = batch_repair(str(inbox), str(outbox), method="telea", chunk=4, overlap=1)

    assert _statuses(finished) == {"a": "repaired"}
    assert read_video(outbox / "a.mkv").shape == clip_frames(0).shape
    assert not (outbox / "quarantine" / "a.error.json").exists()


def test_dask_runner_processes_a_batch(prefect_harness, make_inbox, tmp_path: Path) -> None:
    from prefect_dask import DaskTaskRunner

    inbox = make_inbox(good=("a", "b"), corrupt=("bad",))
    outbox = tmp_path / "outbox"
    cluster = {"n_workers": 1, "threads_per_worker": 1, "processes": False, "dashboard_address": None}

    summary = batch_repair.with_options(task_runner=DaskTaskRunner(cluster_kwargs=cluster))(
        str(inbox), str(outbox), method="telea"
    )

    assert _statuses(summary) == {"a": "repaired", "b": "repaired", "bad": "quarantined"}
    assert (outbox / "a.mkv").is_file() and (outbox / "quarantine" / "bad.error.json").is_file()


def test_task_runner_choices() -> None:
    from prefect_dask import DaskTaskRunner

    assert isinstance(make_task_runner("threads", n_workers=3), ThreadPoolTaskRunner)
    assert isinstance(make_task_runner("dask", address="tcp://127.0.0.1:8786"), DaskTaskRunner)
    with pytest.raises(SeedVRError, match="unknown task runner"):
        make_task_runner("spark")
    with pytest.raises(SeedVRError, match="at least 1"):
        make_task_runner("threads", n_workers=0)


def test_bad_settings_fail_the_flow_without_quarantining(prefect_harness, make_inbox, tmp_path: Path) -> None:
    inbox = make_inbox(good=("a",), corrupt=())
    outbox = tmp_path / "outbox"

    with pytest.raises(SeedVRError, match="unknown method"):
        batch_repair(str(inbox), str(outbox), method="magic")
    assert not (outbox / "quarantine").exists()


def test_an_unloadable_model_fails_the_flow_and_quarantines_nothing(
    prefect_harness, make_inbox, tmp_path: Path, monkeypatch
) -> None:
    inbox = make_inbox(good=("a", "b"), corrupt=("bad",))
    outbox = tmp_path / "outbox"
    model = tmp_path / "model"
    model.mkdir()
    (model / "model_index.json").write_text("{}")

    def unloadable(*args, **kwargs):
        raise SeedVRError(f"--model {model}: cannot load the pipeline (truncated weights)")

    monkeypatch.setattr(model_cache, "make_method", unloadable)
    monkeypatch.setattr(model_cache, "_loaded_method", None)
    state = batch_repair(str(inbox), str(outbox), model=str(model), device="cpu", return_state=True)

    assert state.is_failed()
    with pytest.raises(ModelUnavailable, match="cannot load the pipeline"):
        state.result()
    assert list(outbox.iterdir()) == []  # no video quarantined, recorded or repaired

    # A worker that cannot load the model (its own GPU, its own download) fails the flow too.
    def worker_without_model(*args, **kwargs):
        raise ModelUnavailable("cannot load the model on this worker (CUDA out of memory)")

    monkeypatch.setattr(repair_flow, "process_item", worker_without_model)
    state = batch_repair(str(inbox), str(outbox), method="telea", return_state=True)

    assert state.is_failed()
    assert not (outbox / "quarantine").exists() and not (outbox / ".ledger.jsonl").exists()
