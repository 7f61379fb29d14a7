"""A registry lookup reads an existing store or fails in one line; it never creates one."""

from __future__ import annotations

import pytest

from seedvr.errors import SeedVRError
from seedvr.modelstore.location import default_tracking_uri, lookup_store_uri, sqlite_database_path
from seedvr.modelstore.registered import current_champion
from seedvr.pipeline.loading import load_pipeline


@pytest.mark.parametrize(
    ("tracking_uri", "message"),
    [
        (None, "MLFLOW_TRACKING_URI is not set and there is no project store here"),
        ("sqlite:///nowhere/mlflow.db", "MLFLOW_TRACKING_URI points at sqlite:///nowhere/mlflow.db, which does not exist"),
    ],
)
def test_a_lookup_without_a_store_is_one_line_and_creates_nothing(tmp_path, monkeypatch, tracking_uri, message):
    monkeypatch.chdir(tmp_path)
    if tracking_uri is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    with pytest.raises(SeedVRError, match=f"^models:/seedvr-repair@champion: no model registry to look in: {message}"):
        load_pipeline("models:/seedvr-repair@champion")
    assert current_champion("seedvr-repair") is None
    assert list(tmp_path.iterdir()) == []


def test_without_a_tracking_uri_lookups_read_the_project_store_of_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    database = sqlite_database_path(default_tracking_uri(tmp_path))
    database.parent.mkdir()
    database.touch()
    assert lookup_store_uri() == default_tracking_uri(tmp_path)
