"""Our DVC hash equals DVC's own, and the .dvc / git readers report what is recorded."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from seedvr.errors import SeedVRError
from seedvr.versioning import data_version, directory_md5, git_commit, read_tracked_output


def test_directory_md5_matches_dvc_add(dvc_repo, dvc):
    data = dvc_repo / "data"
    (data / "nested" / "deeper").mkdir(parents=True)
    (data / "a.txt").write_text("hello\n")
    (data / "nested" / "b.bin").write_bytes(bytes(range(256)) * 3)
    (data / "nested" / "deeper" / "c.txt").write_bytes(b"windows\r\nline endings\r\n")
    (data / "empty.dat").write_bytes(b"")
    ours = directory_md5(data)
    dvc(dvc_repo, "add", "--quiet", "data")
    recorded = read_tracked_output(dvc_repo / "data.dvc")
    assert recorded.md5 == ours
    assert recorded.nfiles == 4
    assert data_version(dvc_repo) == ours
    # Any change of content changes the version.
    (data / "a.txt").write_text("hello!\n")
    assert directory_md5(data) != ours


def test_data_version_errors_are_readable(tmp_path):
    with pytest.raises(SeedVRError, match="data.dvc not found"):
        data_version(tmp_path)
    (tmp_path / "data.dvc").write_text(yaml.safe_dump({"outs": [{"path": "data"}]}))
    with pytest.raises(SeedVRError, match="records no md5"):
        data_version(tmp_path)
    (tmp_path / "data.dvc").write_text("outs: [unclosed")
    with pytest.raises(SeedVRError, match="not valid YAML"):
        data_version(tmp_path)


def test_git_commit_is_head_or_none(tmp_path):
    assert git_commit(tmp_path) is None  # not a repository
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert git_commit(tmp_path) is None  # no commit yet
    (tmp_path / "f.txt").write_text("x")
    subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert git_commit(tmp_path) == head and len(head) == 40
