"""``seedvr data ensure``: regenerate, restore or refuse, always ending on the recorded hash."""

from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.config import SourceDataParams
from seedvr.errors import SeedVRError
from seedvr.versioning import data_version, directory_md5, ensure_source_data

runner = CliRunner()


def test_fresh_clone_regenerates_the_recorded_data(dvc_repo, tiny_data_params):
    data = dvc_repo / "data"
    first = ensure_source_data(dvc_repo, tiny_data_params)
    assert first.action == "generated" and not first.tracked
    assert first.md5 == directory_md5(data)
    assert sorted(path.name for path in data.iterdir()) == ["clip_0000.mkv", "clip_0001.mkv", "sources.json"]

    recorded = ensure_source_data(dvc_repo, tiny_data_params, update=True)
    assert recorded.action == "updated" and recorded.tracked
    assert data_version(dvc_repo) == recorded.md5 == first.md5  # same params, same bytes

    # data/ deleted but still in the DVC cache: restored by `dvc checkout`.
    shutil.rmtree(data)
    assert ensure_source_data(dvc_repo, tiny_data_params).action == "checked_out"
    assert directory_md5(data) == recorded.md5

    # A fresh clone has neither data/ nor a cache: regenerated, and the hash matches data.dvc.
    shutil.rmtree(data)
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    again = ensure_source_data(dvc_repo, tiny_data_params)
    assert again.action == "generated" and again.tracked
    assert again.md5 == data_version(dvc_repo)

    assert ensure_source_data(dvc_repo, tiny_data_params).action == "present"


def test_generated_data_not_matching_data_dvc_is_refused(dvc_repo, tiny_data, tiny_data_params):
    ensure_source_data(dvc_repo, tiny_data_params, update=True)
    recorded = data_version(dvc_repo)
    shutil.rmtree(dvc_repo / "data")
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    other_seed = SourceDataParams(**{**tiny_data, "seed": tiny_data["seed"] + 1})
    with pytest.raises(SeedVRError, match=f"records {recorded}"):
        ensure_source_data(dvc_repo, other_seed)
    assert not (dvc_repo / "data").exists()  # nothing half-made left behind
    assert not [path for path in dvc_repo.iterdir() if "seedvr-tmp" in path.name]


def test_changed_params_or_edited_data_are_reported(dvc_repo, tiny_data, tiny_data_params):
    ensure_source_data(dvc_repo, tiny_data_params, update=True)
    more_frames = SourceDataParams(**{**tiny_data, "frames": 4})
    with pytest.raises(SeedVRError, match="params.data changed .*frames: data has 3, params.data says 4"):
        ensure_source_data(dvc_repo, more_frames)
    (dvc_repo / "data" / "extra.txt").write_text("not generated")
    with pytest.raises(SeedVRError, match="hashes to .* but data.dvc records"):
        ensure_source_data(dvc_repo, tiny_data_params)


def test_cli_ensure_and_version(dvc_repo, tiny_data):
    params = str(dvc_repo / "params.yaml")
    result = runner.invoke(app, ["data", "ensure", "--params", params, "--root", str(dvc_repo), "--update"])
    assert result.exit_code == 0, result.output
    version = data_version(dvc_repo)
    assert version in result.stdout and "recorded in data.dvc" in result.stdout

    result = runner.invoke(app, ["data", "version", "--root", str(dvc_repo)])
    assert result.exit_code == 0, result.output
    assert f"data_version: {version}" in result.stdout

    bad = dvc_repo / "bad.yaml"
    bad.write_text(yaml.safe_dump({"data": {**tiny_data, "clips": 0}}))
    result = runner.invoke(app, ["data", "ensure", "--params", str(bad), "--root", str(dvc_repo)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "clips" in result.stderr


def test_missing_data_is_pulled_from_a_configured_remote(dvc_repo, tiny_data_params, dvc, tmp_path):
    ensure_source_data(dvc_repo, tiny_data_params, update=True)
    recorded = data_version(dvc_repo)
    dvc(dvc_repo, "remote", "add", "--default", "shelf", str(tmp_path / "remote"))
    dvc(dvc_repo, "push", "--quiet")
    shutil.rmtree(dvc_repo / "data")
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    pulled = ensure_source_data(dvc_repo, tiny_data_params)
    assert pulled.action == "pulled" and pulled.md5 == recorded
