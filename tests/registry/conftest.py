"""A throwaway MLflow store, a tiny saved pipeline and a tiny clip for the registry tests.

Nothing is written to the repository's own ``mlflow/`` folder: the store lives in a session
temp folder and ``MLFLOW_TRACKING_URI`` / ``MLFLOW_REGISTRY_URI`` are restored afterwards.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import mlflow
from seedvr.modelstore.location import configure_tracking

FPS = Fraction(24)


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """Tracking and registry URI of a private SQLite store for the whole session."""
    root = tmp_path_factory.mktemp("mlflow-root")
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            patch.delenv(variable, raising=False)
        patch.setenv("SEEDVR_MODEL_CACHE", str(tmp_path_factory.mktemp("model-cache")))
        uri = configure_tracking(root)
        assert uri.startswith("sqlite:///") and str(root) in uri
        yield uri
    mlflow.set_tracking_uri(previous)
    mlflow.set_registry_uri(previous)


@pytest.fixture(scope="session")
def pipeline_dir(tmp_path_factory) -> Path:
    """An untrained tiny pipeline saved with ``save_pretrained``."""
    from seedvr.pipeline.pipeline import SeedVRPipeline

    folder = tmp_path_factory.mktemp("pipeline") / "tiny"
    SeedVRPipeline.from_preset("tiny", seed=3).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_pair() -> tuple[np.ndarray, np.ndarray]:
    """4 frames of 32x32 textured video moving one pixel a frame, and a square hole."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, size=(32, 40, 3), dtype=np.uint8)
    frames = np.stack([base[:, t : t + 32] for t in range(4)])
    masks = np.zeros((4, 32, 32), dtype=bool)
    masks[:, 10:20, 12:22] = True
    return frames, masks


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory, tiny_pair) -> tuple[Path, Path]:
    """The tiny pair written losslessly (FFV1 .mkv) as a video and a mask file."""
    from seedvr.io import write_mask, write_video

    folder = tmp_path_factory.mktemp("clip")
    frames, masks = tiny_pair
    return write_video(folder / "clip.mkv", frames, FPS), write_mask(folder / "clip.mask.mkv", masks, FPS)
