"""atomic_output: files and folders appear whole or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import seedvr
from seedvr.errors import SeedVRError
from seedvr.io import PendingOutput, atomic_output
from seedvr.io.atomic import TEMP_MARKER, sweep_dead_temporaries, sweep_dead_temporaries_in, temporary_sibling


def test_file_appears_only_after_success(tmp_path):
    target = tmp_path / "report.json"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".json" and tmp.name.startswith(".")
        tmp.write_text(json.dumps({"psnr": 31.5}))
        assert not target.exists()
    assert json.loads(target.read_text()) == {"psnr": 31.5}
    assert [entry.name for entry in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("interruption", [ValueError("bad"), KeyboardInterrupt()])
def test_failure_deletes_the_temporary_and_keeps_the_old_file(tmp_path, interruption):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(type(interruption)):
        with atomic_output(target) as tmp:
            tmp.write_text("half a ta")
            raise interruption
    assert target.read_text() == "old\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["table.csv"]


def test_folders_are_written_and_replaced_whole(tmp_path):
    target = tmp_path / "dataset"
    for generation in ("first", "second"):
        with atomic_output(target) as tmp:
            tmp.mkdir()
            (tmp / f"{generation}.txt").write_text(generation)
    assert [entry.name for entry in target.iterdir()] == ["second.txt"]
    assert [entry.name for entry in tmp_path.iterdir()] == ["dataset"]


def test_failed_folder_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "dataset") as tmp:
            tmp.mkdir()
            (tmp / "part.txt").write_text("part")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_missing_parent_is_a_user_error_unless_asked_to_create_it(tmp_path):
    with pytest.raises(SeedVRError, match="does not exist"):
        with atomic_output(tmp_path / "a" / "b.json"):
            pass
    with atomic_output(tmp_path / "a" / "b.json", make_parents=True) as tmp:
        tmp.write_text("{}")
    assert (tmp_path / "a" / "b.json").read_text() == "{}"


def test_overwrite_false_refuses_an_existing_target(tmp_path):
    (tmp_path / "x.txt").write_text("keep")
    with pytest.raises(SeedVRError, match="already exists"):
        with atomic_output(tmp_path / "x.txt", overwrite=False) as tmp:
            tmp.write_text("new")
    assert (tmp_path / "x.txt").read_text() == "keep"


def test_writing_nothing_is_a_bug_not_an_empty_file(tmp_path):
    with pytest.raises(RuntimeError, match="nothing was written"):
        with atomic_output(tmp_path / "x.txt"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_pending_output_can_be_discarded(tmp_path):
    pending = PendingOutput(tmp_path / "x.bin")
    pending.temp.write_bytes(b"data")
    pending.discard()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        pending.commit()


def test_file_cannot_replace_a_folder(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(SeedVRError, match="is a folder"):
        with atomic_output(tmp_path / "out") as tmp:
            tmp.write_text("x")
    assert (tmp_path / "out").is_dir() and len(list(tmp_path.iterdir())) == 1


# -- concurrent writers and writers that died -------------------------------------------------


def test_concurrent_writers_of_one_folder_last_one_wins_and_nothing_is_orphaned(tmp_path):
    target = tmp_path / "frames"
    failures = []

    def write_generations(writer: int) -> None:
        for generation in range(25):
            try:
                with atomic_output(target) as tmp:
                    tmp.mkdir()
                    (tmp / f"{writer}-{generation}.txt").write_text("frames")
            except BaseException as error:  # any failure of a writer is what this test looks for
                failures.append(repr(error))

    writers = [threading.Thread(target=write_generations, args=(writer,)) for writer in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    assert failures == []
    assert [entry.name for entry in tmp_path.iterdir()] == ["frames"]
    assert len(list(target.iterdir())) == 1 and next(target.iterdir()).name.endswith("-24.txt")


@pytest.fixture
def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporaries_of_dead_writers_are_swept_and_live_writers_are_left_alone(tmp_path):
    target = tmp_path / "clip.mkv"
    # Another live process writing the same output: its temporary must survive our sweep.
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from seedvr.io.atomic import temporary_sibling;"
            "temporary_sibling(Path(sys.argv[1])).write_bytes(b'partial'); print(flush=True); time.sleep(60)",
            str(target),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(seedvr.__file__).parents[1])},  # this very seedvr
    )
    try:
        writer.stdout.readline()  # the temporary is written
        [live] = [entry for entry in tmp_path.iterdir() if TEMP_MARKER in entry.name]
        PendingOutput(target).discard()
        assert live.exists()
    finally:
        writer.kill()
        writer.wait()
    assert sweep_dead_temporaries(target) == [live] and not live.exists()


def test_a_folder_parked_by_a_writer_killed_mid_swap_is_put_back(tmp_path, monkeypatch, dead_pid):
    target = tmp_path / "dataset"
    with atomic_output(target) as tmp:
        tmp.mkdir()
        (tmp / "old.txt").write_text("old")
    # A writer (now dead) parked the old output and was killed before moving its own in.
    monkeypatch.setattr(os, "getpid", lambda: dead_pid)
    killed = PendingOutput(target)
    killed.temp.mkdir()
    killed._park_target()
    monkeypatch.undo()
    assert not target.exists()

    PendingOutput(target).discard()  # the next writer of the same output sweeps
    assert [entry.name for entry in target.iterdir()] == ["old.txt"]
    assert [entry.name for entry in tmp_path.iterdir()] == ["dataset"]


def test_a_folder_sweep_takes_dead_writers_of_every_output_and_old_foreign_ones(tmp_path, monkeypatch, dead_pid):
    monkeypatch.setattr(os, "getpid", lambda: dead_pid)
    dead = [temporary_sibling(tmp_path / name) for name in ("a.mkv", "frames", "b" * 200 + ".mkv")]
    monkeypatch.undo()
    live = temporary_sibling(tmp_path / "c.mkv")  # this process: alive
    foreign_old, foreign_new = (tmp_path / f".d{TEMP_MARKER}0badf00d-1-{token}.mkv" for token in ("a" * 12, "b" * 12))
    unrelated = tmp_path / ".ledger.jsonl"
    for path in (*dead, live, foreign_old, foreign_new, unrelated):
        path.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(foreign_old, (old, old))

    assert sweep_dead_temporaries_in(tmp_path, foreign_after_s=3600) == sorted([*dead, foreign_old])
    assert sorted(entry.name for entry in tmp_path.iterdir()) == sorted(p.name for p in (live, foreign_new, unrelated))
    # Without an age for them, another machine's temporaries are never touched.
    os.utime(foreign_new, (old, old))
    assert sweep_dead_temporaries_in(tmp_path) == [] and foreign_new.exists()
