"""A downloaded registered model is used only while it matches its manifest."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException

import mlflow
from seedvr.config import Params
from seedvr.modelstore.cache import MANIFEST_FILE
from seedvr.modelstore.folder import ModelLoadError
from seedvr.modelstore.registered import download_registered_pipeline
from seedvr.registry.models import log_pipeline_model, register_model
from seedvr.registry.tracking import start_run

MODEL_NAME = "cache-test"
WEIGHTS = "denoiser/diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def registered_uri(mlflow_store, pipeline_dir) -> str:
    """``models:/cache-test/N``: the tiny pipeline, registered once for this module."""
    with start_run(Params(), experiment=MODEL_NAME, run_name="cache") as run:
        log_pipeline_model(pipeline_dir)
    return f"models:/{MODEL_NAME}/{register_model(run.info.run_id, MODEL_NAME)}"


def edit_weights(cached_version: Path, folder: Path) -> None:
    weights = folder / WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-8] + bytes(8))  # same size, different weights


def replace_by_a_file(cached_version: Path, folder: Path) -> None:
    shutil.rmtree(cached_version)
    cached_version.write_text("planted")


@pytest.mark.parametrize("tamper", [edit_weights, replace_by_a_file])
def test_a_tampered_cached_copy_is_discarded_and_downloaded_again(registered_uri, pipeline_dir, tmp_path, caplog, tamper):
    folder = download_registered_pipeline(registered_uri, tmp_path)
    cached_version = tmp_path / folder.relative_to(tmp_path).parts[0]
    assert (cached_version / MANIFEST_FILE).is_file()
    tamper(cached_version, folder)
    with caplog.at_level(logging.WARNING, logger="seedvr.modelstore.registered"):
        assert download_registered_pipeline(registered_uri, tmp_path) == folder
    assert (folder / WEIGHTS).read_bytes() == (pipeline_dir / WEIGHTS).read_bytes()
    assert "does not match its manifest; downloading it again" in caplog.text
    assert list(tmp_path.iterdir()) == [cached_version]  # no partial or discarded copy left behind


def test_a_tampered_copy_that_cannot_be_downloaded_again_is_one_line(registered_uri, tmp_path, monkeypatch):
    folder = download_registered_pipeline(registered_uri, tmp_path)
    (folder / "model_index.json").write_text("{}")

    def unreachable(**_):
        raise MlflowException("artifact store unreachable\nwith a long server trace")

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", unreachable)
    expected = r"^models:/cache-test/\d+: cannot download version \d+: artifact store unreachable$"
    with pytest.raises(ModelLoadError, match=expected):
        download_registered_pipeline(registered_uri, tmp_path)
    assert not (folder / "model_index.json").exists()  # the altered copy is gone, not kept for next time
