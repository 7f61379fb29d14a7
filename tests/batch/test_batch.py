"""Batch repair library (no Prefect): inbox conventions, input hashes, ledger, quarantine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from seedvr.batch import (
    BatchItem,
    Ledger,
    ModelUnavailable,
    RepairSettings,
    discover_inbox,
    model_cache,
    plan_batch,
    process_item,
    run_batch,
)
from seedvr.batch import items as batch_items
from seedvr.batch.hashing import input_hash, model_identity
from seedvr.batch.ledger import LEDGER_NAME
from seedvr.batch.model_cache import pin_model
from seedvr.errors import SeedVRError
from seedvr.io import read_video, write_mask, write_video
from seedvr.io.atomic import temporary_sibling

FRAMES, SIZE = 6, 32
TELEA = RepairSettings(method="telea")


def _frames(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (FRAMES, SIZE, SIZE, 3), dtype=np.uint8)


def _hole() -> np.ndarray:
    hole = np.zeros((SIZE, SIZE), dtype=bool)
    hole[8:16, 10:20] = True
    return hole


def _mask_image(path: Path) -> Path:
    cv2.imwrite(str(path), _hole().astype(np.uint8) * 255)
    return path


def _video(path: Path, seed: int = 0) -> Path:
    write_video(path, _frames(seed), fps=24)
    return path


def _by_name(items: list[BatchItem]) -> dict[str, BatchItem]:
    return {item.name: item for item in items}


def _outbox_snapshot(outbox: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in outbox.iterdir() if path.is_file()}


def test_discovery_finds_each_mask_convention(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _video(inbox / "image_mask.mkv")
    _mask_image(inbox / "image_mask.mask.png")
    _video(inbox / "video_mask.mp4")
    write_mask(inbox / "video_mask.mask.mkv", np.repeat(_hole()[None], FRAMES, axis=0), fps=24)
    write_video(inbox / "frames", _frames(1), fps=24)  # a frame folder is a video too
    (inbox / "frames.mask").mkdir()  # an existing folder: the writer then writes PNG frames
    write_mask(inbox / "frames.mask", np.repeat(_hole()[None], FRAMES, axis=0), fps=24)
    _video(inbox / "unmasked.mkv")
    # Not videos: notes, hidden files, a mask without its video, an empty folder.
    (inbox / "notes.txt").write_text("hello")
    _video(inbox / ".hidden.mkv")
    _mask_image(inbox / "orphan.mask.png")
    (inbox / "empty").mkdir()

    items = _by_name(discover_inbox(inbox))

    assert sorted(items) == ["frames", "image_mask", "unmasked", "video_mask"]
    assert items["image_mask"].mask == inbox / "image_mask.mask.png"
    assert items["video_mask"].mask == inbox / "video_mask.mask.mkv"
    assert items["frames"].video == inbox / "frames" and items["frames"].mask == inbox / "frames.mask"
    assert all(items[name].problem is None for name in ("frames", "image_mask", "video_mask"))
    # No mask at all: not a problem, the detector finds the damage (blind mode).
    assert items["unmasked"].mask is None and items["unmasked"].problem is None
    # Every convention also repairs (frame folders are hashed and read as such).
    statuses = {result.name: result.status for result in run_batch(inbox, tmp_path / "outbox", TELEA)}
    assert statuses == {"frames": "repaired", "image_mask": "repaired", "video_mask": "repaired", "unmasked": "repaired"}
    assert (tmp_path / "outbox" / "unmasked.mask.mkv").is_file()


def test_inbox_wide_mask_covers_videos_without_their_own(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _video(inbox / "own.mkv")
    _mask_image(inbox / "own.mask.png")
    _video(inbox / "shared.mkv")
    _mask_image(inbox / "mask.png")

    items = _by_name(discover_inbox(inbox))

    assert sorted(items) == ["own", "shared"]  # mask.png itself is not a video
    assert items["own"].mask == inbox / "own.mask.png"
    assert items["shared"].mask == inbox / "mask.png"


def test_ambiguous_inputs_are_problems_not_guesses(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _video(inbox / "twice.mkv")
    _video(inbox / "twice.mp4")
    _mask_image(inbox / "twice.mask.png")
    _video(inbox / "two_masks.mkv")
    _mask_image(inbox / "two_masks.mask.png")
    _mask_image(inbox / "two_masks.mask.jpg")

    items = _by_name(discover_inbox(inbox))

    # Both clashing inputs would write outbox/twice.mkv: each is reported under its file name.
    assert "several inputs are named twice" in items["twice.mkv"].problem
    assert "several inputs are named twice" in items["twice.mp4"].problem
    assert "several masks for two_masks.mkv" in items["two_masks"].problem


def test_missing_inbox_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(SeedVRError, match="is not a folder"):
        discover_inbox(tmp_path / "nowhere")


def test_input_hash_follows_content_and_output_settings(tmp_path: Path) -> None:
    video = _video(tmp_path / "clip.mkv")
    mask = _mask_image(tmp_path / "clip.mask.png")
    item = BatchItem("clip", video, mask)
    reference = input_hash(item, TELEA)

    assert input_hash(item, TELEA) == reference  # deterministic
    # Where it runs does not change what it produces: no redo when moving to a GPU.
    assert input_hash(item, RepairSettings(method="telea", device="cpu")) == reference
    # A classical method ignores model settings, so they must not cause a redo either.
    assert input_hash(item, RepairSettings(method="telea", steps=3, seed=9)) == reference
    assert input_hash(item, RepairSettings(method="ns")) != reference
    assert input_hash(item, RepairSettings(method="telea", chunk=16, overlap=4)) != reference
    assert input_hash(item, RepairSettings(method="telea", output_extension=".mp4")) != reference
    assert input_hash(BatchItem("renamed", video, mask), TELEA) != reference

    changed_mask = _hole().astype(np.uint8) * 255
    changed_mask[0, 0] = 255
    cv2.imwrite(str(mask), changed_mask)
    assert input_hash(item, TELEA) != reference
    _mask_image(mask)
    _video(video, seed=1)
    assert input_hash(item, TELEA) != reference


def test_model_settings_enter_the_hash_for_the_model_method(tmp_path: Path) -> None:
    video = _video(tmp_path / "clip.mkv")
    item = BatchItem("clip", video, _mask_image(tmp_path / "clip.mask.png"))
    model_settings = RepairSettings(method="seedvr", model="unused", steps=4)
    reference = input_hash(item, model_settings, model_id="model-a")

    assert input_hash(item, model_settings, model_id="model-b") != reference
    assert input_hash(item, RepairSettings(method="seedvr", model="unused", steps=8), model_id="model-a") != reference
    assert input_hash(item, RepairSettings(method="seedvr", model="unused", steps=4, seed=1), model_id="model-a") != reference


def test_model_folder_identity_is_its_content(tmp_path: Path) -> None:
    folder = tmp_path / "pipeline"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    (folder / "weights.safetensors").write_bytes(b"\x00" * 64)
    first = model_identity(str(folder))

    (folder / "weights.safetensors").write_bytes(b"\x01" * 64)

    assert model_identity(str(folder)) != first
    with pytest.raises(SeedVRError, match="not a saved SeedVR pipeline"):
        model_identity(str(tmp_path))


def test_bad_settings_are_refused_before_any_video_is_touched(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _video(inbox / "clip.mkv")
    _mask_image(inbox / "clip.mask.png")
    outbox = tmp_path / "outbox"

    for settings, message in [
        (RepairSettings(method="magic"), "unknown method"),
        (RepairSettings(method="seedvr", model=None), "needs a model"),
        (RepairSettings(method="telea", chunk=4, overlap=4), "overlap must be"),
        (RepairSettings(method="telea", output_extension=".gif"), "unsupported batch output"),
    ]:
        with pytest.raises(SeedVRError, match=message):
            run_batch(inbox, outbox, settings)
    # A settings mistake is not the videos' fault: nothing is quarantined or recorded.
    assert not (outbox / "quarantine").exists()
    assert not (outbox / LEDGER_NAME).exists()
    with pytest.raises(SeedVRError, match="must differ from the inbox"):
        run_batch(inbox, inbox, TELEA)


def test_batch_is_idempotent_and_quarantines_bad_inputs(tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    for seed, name in enumerate(["a", "b"]):
        _video(inbox / f"{name}.mkv", seed)
        _mask_image(inbox / f"{name}.mask.png")
    (inbox / "bad.mp4").write_text("this is not a video")
    _mask_image(inbox / "bad.mask.png")
    _video(inbox / "late.mkv", 5)  # its mask arrives later: first repaired blind

    first = {result.name: result for result in run_batch(inbox, outbox, TELEA)}

    assert {name: result.status for name, result in first.items()} == {
        "a": "repaired",
        "b": "repaired",
        "bad": "quarantined",
        "late": "repaired",
    }
    assert (outbox / "late.mask.mkv").is_file() and not (outbox / "a.mask.mkv").exists()
    repaired = read_video(outbox / "a.mkv")
    original = _frames(0)
    assert np.array_equal(repaired[:, ~_hole()], original[:, ~_hole()])  # lossless outside the hole
    report = json.loads((outbox / "a.report.json").read_text())
    assert report["frames"] == FRAMES and report["input_hash"] == first["a"].input_hash
    error = json.loads((outbox / "quarantine" / "bad.error.json").read_text())
    assert error["input"] == str(inbox / "bad.mp4") and "not a readable video" in error["error"]
    ledger = Ledger(outbox)
    assert ledger.status(first["a"].input_hash) == "repaired"
    assert ledger.status(first["bad"].input_hash) == "quarantined"

    before = _outbox_snapshot(outbox)
    second = {result.name: result for result in run_batch(inbox, outbox, TELEA)}

    assert {result.status for result in second.values()} == {"skipped"}
    assert second["bad"].error == first["bad"].error  # a known-bad input says why it waits
    assert _outbox_snapshot(outbox) == before
    assert len(Ledger(outbox).entries()) == 4

    # The mask arrives: the input's hash changes, so it is repaired again inside the given
    # mask, and the detected mask of the blind repair (now stale) goes away.
    _mask_image(inbox / "late.mask.png")
    third = {result.name: result for result in run_batch(inbox, outbox, TELEA)}
    assert third["late"].status == "repaired" and third["bad"].status == "skipped"
    assert not (outbox / "late.mask.mkv").exists()
    late = read_video(outbox / "late.mkv")
    assert np.array_equal(late[:, ~_hole()], _frames(5)[:, ~_hole()])
    assert (outbox / "quarantine" / "bad.error.json").exists()


def test_unexpected_errors_are_quarantined_but_retried_next_run(tmp_path: Path, monkeypatch) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    _video(inbox / "clip.mkv")
    _mask_image(inbox / "clip.mask.png")

    def broken_repair_video(*args, **kwargs):
        raise MemoryError("out of GPU memory")

    monkeypatch.setattr(batch_items, "repair_video", broken_repair_video)
    [failed] = run_batch(inbox, outbox, TELEA)
    assert failed.status == "quarantined" and failed.error == "MemoryError: out of GPU memory"
    assert json.loads(Path(failed.report).read_text())["retry"] == "on the next run"

    monkeypatch.undo()
    [retried] = run_batch(inbox, outbox, TELEA)
    assert retried.status == "repaired"
    assert not Path(failed.report).exists()


def test_ledger_ignores_a_torn_last_line(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.append({"hash": "one", "status": "repaired"})
    with open(ledger.path, "a", encoding="utf-8") as handle:
        handle.write('{"hash": "two", "sta')  # a crash in the middle of a line

    assert ledger.status("one") == "repaired" and ledger.status("two") is None
    ledger.append({"hash": "three", "status": "quarantined"})

    assert [entry["hash"] for entry in Ledger(tmp_path).entries()] == ["one", "three"]
    assert Ledger(tmp_path).status("three") == "quarantined"


def _inbox_of(tmp_path: Path, names: tuple[str, ...]) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed, name in enumerate(names):
        _video(inbox / f"{name}.mkv", seed)
        _mask_image(inbox / f"{name}.mask.png")
    return inbox


def test_the_model_is_loaded_once_for_a_whole_batch(tmp_path: Path, monkeypatch) -> None:
    from seedvr.pipeline.pipeline import SeedVRPipeline

    model = tmp_path / "model"
    SeedVRPipeline.from_preset("tiny", seed=3).save_pretrained(str(model))
    inbox = _inbox_of(tmp_path, ("a", "b"))
    loads = []
    real_make_method = model_cache.make_method

    def counting_make_method(*args, **kwargs):
        loads.append(kwargs.get("model"))
        return real_make_method(*args, **kwargs)

    monkeypatch.setattr(model_cache, "make_method", counting_make_method)
    monkeypatch.setattr(model_cache, "_loaded_method", None)
    settings = RepairSettings(method="seedvr", model=str(model), steps=1, device="cpu")

    results = run_batch(inbox, tmp_path / "outbox", settings)

    assert [result.status for result in results] == ["repaired", "repaired"]
    assert loads == [str(model)]
    repaired = read_video(tmp_path / "outbox" / "b.mkv")
    assert np.array_equal(repaired[:, ~_hole()], _frames(1)[:, ~_hole()])
    assert json.loads((tmp_path / "outbox" / "a.report.json").read_text())["method"] == "seedvr"


def test_a_registry_alias_is_pinned_and_a_promotion_redoes_the_batch(tmp_path: Path, monkeypatch) -> None:
    from types import SimpleNamespace

    from seedvr.engine.methods import RepairMethod
    from seedvr.modelstore import registered as registry

    champion = {"version": 1}
    downloads = []

    def fake_resolve(uri: str):
        name, alias, version = registry.parse_model_uri(uri)
        number = champion["version"] if alias else version
        return SimpleNamespace(name=name, version=number, source=f"runs:/run{number}/model", run_id=f"run{number}")

    def fake_download(uri: str) -> Path:
        downloads.append(uri)
        folder = tmp_path / "downloads" / uri.rsplit("/", 1)[-1]
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    monkeypatch.setattr(registry, "resolve_model_version", fake_resolve)
    monkeypatch.setattr(registry, "download_registered_pipeline", fake_download)
    # Stands in for the loaded pipeline: returns the frames (the hole keeps its pixels).
    monkeypatch.setattr(
        model_cache, "make_method", lambda *args, **kwargs: RepairMethod("seedvr", lambda frames, masks: frames.copy())
    )
    monkeypatch.setattr(model_cache, "_loaded_method", None)
    monkeypatch.setattr(model_cache, "_pinned_folders", {})
    inbox, outbox = _inbox_of(tmp_path, ("a", "b")), tmp_path / "outbox"
    settings = RepairSettings(method="seedvr", model="models:/seedvr-repair@champion", device="cpu")

    first = run_batch(inbox, outbox, settings)
    again = run_batch(inbox, outbox, settings)
    champion["version"] = 2  # a promotion
    after_promotion = run_batch(inbox, outbox, settings)

    assert [result.status for result in first] == ["repaired", "repaired"]
    assert [result.status for result in again] == ["skipped", "skipped"]
    assert [result.status for result in after_promotion] == ["repaired", "repaired"]
    # Each version was fetched once, by its pinned URI, however many videos used it.
    assert downloads == ["models:/seedvr-repair/1", "models:/seedvr-repair/2"]
    report = json.loads((outbox / "a.report.json").read_text())
    assert report["model_uri"] == "models:/seedvr-repair/2"


def test_an_unloadable_model_fails_the_run_before_any_video_is_touched(tmp_path: Path, monkeypatch) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model_index.json").write_text("{}")
    load_attempts = []

    def unloadable(*args, **kwargs):
        load_attempts.append(kwargs.get("model"))
        raise SeedVRError(f"--model {model}: cannot load the pipeline (truncated weights)")

    monkeypatch.setattr(model_cache, "make_method", unloadable)
    monkeypatch.setattr(model_cache, "_loaded_method", None)
    inbox, outbox = _inbox_of(tmp_path, ("a", "b")), tmp_path / "outbox"
    (inbox / "unmasked.mkv").write_bytes((inbox / "a.mkv").read_bytes())  # would be quarantined by a run

    with pytest.raises(ModelUnavailable, match="cannot load the pipeline"):
        run_batch(inbox, outbox, RepairSettings(method="seedvr", model=str(model), device="cpu"))

    assert len(load_attempts) == 1  # once, up front, not once per video
    # Not the videos' fault: nothing quarantined, recorded or written; the next run starts afresh.
    assert sorted(path.name for path in outbox.iterdir()) == []


def _long_named_inbox(tmp_path: Path) -> tuple[Path, str]:
    """An inbox with ``a`` and a video whose name fits the inbox but not ``NAME.report.json``."""
    inbox = _inbox_of(tmp_path, ("a",))
    long_name = "x" * 246
    _video(inbox / f"{long_name}.mkv", seed=1)
    _mask_image(inbox / f"{long_name}.mask.png")  # 255 bytes: the longest name there is
    return inbox, long_name


def test_a_name_too_long_for_the_outbox_is_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    inbox, long_name = _long_named_inbox(tmp_path)
    outbox = tmp_path / "outbox"

    first = {result.name: result for result in run_batch(inbox, outbox, TELEA)}

    assert first["a"].status == "repaired"
    assert first[long_name].status == "quarantined" and "too long" in first[long_name].error
    assert "\n" not in first[long_name].error
    report = Path(first[long_name].report)
    assert report.parent == outbox / "quarantine" and len(report.name.encode()) <= 255
    assert json.loads(report.read_text())["input"] == str(inbox / f"{long_name}.mkv")
    assert not any(path.name.startswith("x" * 100) for path in outbox.iterdir())
    # Recorded like any bad input: the next run skips it until it is renamed.
    second = {result.name: result.status for result in run_batch(inbox, outbox, TELEA)}
    assert second == {"a": "skipped", long_name: "skipped"}


def test_a_name_that_is_not_utf8_is_repaired_like_any_other(tmp_path: Path) -> None:
    inbox, outbox = _inbox_of(tmp_path, ("a",)), tmp_path / "outbox"
    name = os.fsdecode(b"caf\xe9")  # Latin-1 bytes: not UTF-8, yet a valid file name
    (inbox / "a.mkv").rename(inbox / f"{name}.mkv")
    (inbox / "a.mask.png").rename(inbox / f"{name}.mask.png")

    assert [result.status for result in run_batch(inbox, outbox, TELEA)] == ["repaired"]
    assert [result.status for result in run_batch(inbox, outbox, TELEA)] == ["skipped"]
    assert (outbox / f"{name}.mkv").is_file()


def test_a_deleted_or_changed_output_is_repaired_again(tmp_path: Path) -> None:
    inbox, outbox = _inbox_of(tmp_path, ("a", "b", "c")), tmp_path / "outbox"
    run_batch(inbox, outbox, TELEA)
    clean_b = (outbox / "b.mkv").read_bytes()
    (outbox / "a.mkv").unlink()
    (outbox / "b.mkv").write_bytes(b"not the output any more")
    # Touched but unchanged: its bytes still match the recorded hash.
    os.utime(outbox / "c.mkv", (time.time() + 60, time.time() + 60))

    rerun = {result.name: result.status for result in run_batch(inbox, outbox, TELEA)}

    assert rerun == {"a": "repaired", "b": "repaired", "c": "skipped"}
    assert (outbox / "b.mkv").read_bytes() == clean_b
    assert np.array_equal(read_video(outbox / "a.mkv")[:, ~_hole()], _frames(0)[:, ~_hole()])
    assert {result.status for result in run_batch(inbox, outbox, TELEA)} == {"skipped"}


def test_inbox_links_leading_outside_are_refused_without_reading_their_targets(tmp_path: Path, monkeypatch) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    _video(outside / "secret.mkv", seed=3)
    write_video(outside / "secret_frames", _frames(4), fps=24)
    _mask_image(outside / "secret.mask.png")
    inbox = _inbox_of(tmp_path, ("inner",))
    (inbox / "stolen.mkv").symlink_to(outside / "secret.mkv")
    _mask_image(inbox / "stolen.mask.png")
    (inbox / "stolen_folder").symlink_to(outside / "secret_frames", target_is_directory=True)
    _mask_image(inbox / "stolen_folder.mask.png")
    _video(inbox / "own_mask.mkv", seed=5)
    (inbox / "own_mask.mask.png").symlink_to(outside / "secret.mask.png")
    write_video(inbox / "mixed", _frames(6), fps=24)  # a frame folder with one frame from outside
    _mask_image(inbox / "mixed.mask.png")
    first_frame = sorted((inbox / "mixed").glob("*.png"))[0]
    first_frame.unlink()
    first_frame.symlink_to(sorted((outside / "secret_frames").glob("*.png"))[0])
    (inbox / "alias.mkv").symlink_to(inbox / "inner.mkv")  # a link inside the inbox is fine
    _mask_image(inbox / "alias.mask.png")
    _video(inbox / "looped.mkv", seed=7)
    (inbox / "looped.mask.png").symlink_to(inbox / "looped.mask.png")
    opened = []
    real_open = open

    def recording_open(file, *args, **kwargs):
        opened.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", recording_open)
    results = {result.name: result for result in run_batch(inbox, tmp_path / "outbox", TELEA)}
    monkeypatch.undo()

    assert {name: result.status for name, result in results.items()} == {
        "alias": "repaired",
        "inner": "repaired",
        "looped": "quarantined",
        "mixed": "quarantined",
        "own_mask": "quarantined",
        "stolen": "quarantined",
        "stolen_folder": "quarantined",
    }
    assert "stolen.mkv is a link to" in results["stolen"].error and "outside the inbox" in results["stolen"].error
    assert "own_mask.mask.png is a link to" in results["own_mask"].error
    assert "outside the inbox" in results["mixed"].error
    assert "looped.mask.png is a link that leads to itself" in results["looped"].error
    assert not [path for path in opened if path.is_relative_to(outside)]
    assert not (tmp_path / "outbox" / "stolen.mkv").exists()


def test_relative_folders_are_made_absolute_once_when_planning(tmp_path: Path, monkeypatch) -> None:
    _inbox_of(tmp_path, ("a",))
    (tmp_path / "model").mkdir()
    monkeypatch.chdir(tmp_path)
    plan = plan_batch("inbox", "outbox", TELEA)
    [(item, digest)] = plan.todo
    worker_folder = tmp_path / "worker"
    worker_folder.mkdir()
    monkeypatch.chdir(worker_folder)  # a worker started elsewhere

    result = process_item(item, plan.outbox, plan.quarantine_dir, plan.settings, digest)

    outbox = tmp_path / "outbox"
    assert (plan.inbox, plan.outbox, plan.quarantine_dir) == (tmp_path / "inbox", outbox, outbox / "quarantine")
    assert result.output == str(tmp_path / "outbox" / "a.mkv") and Path(result.output).is_file()
    [entry] = Ledger(tmp_path / "outbox").entries()
    assert entry["input"] == str(tmp_path / "inbox" / "a.mkv") and entry["output"] == result.output
    assert list(worker_folder.iterdir()) == []
    assert pin_model(RepairSettings(method="seedvr", model="../model")).model == str(tmp_path / "model")


def test_planning_sweeps_what_dead_writers_left_in_the_outbox(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "inbox").mkdir()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    monkeypatch.setattr(os, "getpid", lambda: int(finished.stdout))  # a writer that has exited
    left = temporary_sibling(outbox / "clip.mkv")
    monkeypatch.undo()
    left.write_bytes(b"partial")
    plan_batch(tmp_path / "inbox", outbox, TELEA)
    assert not left.exists()
