"""The per-user cache folder and the manifests that prove a cached copy unchanged."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from seedvr.modelstore.cache import MANIFEST_FILE, matches_manifest, model_cache_root, user_cache_root, write_manifest


def test_models_are_cached_per_user_never_in_the_shared_temp_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SEEDVR_MODEL_CACHE", raising=False)
    monkeypatch.delenv("SEEDVR_CACHE", raising=False)
    assert model_cache_root() == Path.home() / ".cache" / "seedvr" / "models" == user_cache_root() / "models"
    assert Path(tempfile.gettempdir()) not in model_cache_root().parents
    monkeypatch.setenv("SEEDVR_CACHE", str(tmp_path / "cache"))
    assert model_cache_root() == tmp_path / "cache" / "models"
    monkeypatch.setenv("SEEDVR_MODEL_CACHE", str(tmp_path / "just-models"))
    assert model_cache_root() == tmp_path / "just-models"


@pytest.fixture
def cached_copy(tmp_path) -> Path:
    folder = tmp_path / "copy"
    (folder / "denoiser").mkdir(parents=True)
    (folder / "model_index.json").write_text("{}")
    (folder / "denoiser" / "weights.safetensors").write_bytes(bytes(range(256)))
    write_manifest(folder)
    return folder


def test_a_manifest_records_every_file_and_matches_until_one_changes(cached_copy):
    recorded = json.loads((cached_copy / MANIFEST_FILE).read_text())["sha256"]
    assert sorted(recorded) == ["denoiser/weights.safetensors", "model_index.json"]
    assert [path.name for path in cached_copy.iterdir() if path.name.startswith(MANIFEST_FILE)] == [MANIFEST_FILE]
    assert matches_manifest(cached_copy)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda folder: (folder / "denoiser" / "weights.safetensors").write_bytes(bytes(reversed(range(256)))),
        lambda folder: (folder / "denoiser" / "weights.safetensors").write_bytes(bytes(range(255))),
        lambda folder: (folder / "denoiser" / "extra.bin").write_bytes(b"pickle"),
        lambda folder: (folder / "model_index.json").unlink(),
        lambda folder: (folder / MANIFEST_FILE).unlink(),
        lambda folder: (folder / MANIFEST_FILE).write_text("{not json"),
    ],
    ids=["edited", "truncated", "added", "deleted", "no-manifest", "bad-manifest"],
)
def test_any_change_breaks_the_match(cached_copy, tamper):
    tamper(cached_copy)
    assert not matches_manifest(cached_copy)


def test_a_missing_folder_does_not_match(tmp_path):
    assert not matches_manifest(tmp_path / "absent")
