"""atomic_output: files and folders appear whole or not at all."""

from __future__ import annotations

import json

import pytest

from seedvr.errors import SeedVRError
from seedvr.io import PendingOutput, atomic_output


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
