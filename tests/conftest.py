"""Session-wide test settings: offline, no telemetry, nothing written outside tmp folders."""

from __future__ import annotations

import os
import tempfile

# Set before any of the stack is imported by a test module.
_OFFLINE_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "DVC_NO_ANALYTICS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
}
for _key, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)

# Prefect keeps results in ~/.prefect/storage across runs; a per-session folder keeps tests
# independent of each other and of the developer's own runs.
_PREFECT_HOME = tempfile.mkdtemp(prefix="seedvr-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", os.path.join(_PREFECT_HOME, "storage"))


# -- shared fixtures: small clips, a tiny untrained pipeline, a tiny damaged dataset ----------

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from media_samples import make_film_clip, make_panning_clip  # noqa: E402  (tests/ is on sys.path via this conftest)


@pytest.fixture(scope="session")
def panning_clip() -> tuple[np.ndarray, np.ndarray]:
    return make_panning_clip()


@pytest.fixture(scope="session")
def film_clip() -> tuple[np.ndarray, np.ndarray]:
    """``(damaged, mask)``: 8 frames of 64x64 with scratches, blotches and dust (the detector's kinds)."""
    _, damaged, mask = make_film_clip()
    return damaged, mask


@pytest.fixture(scope="session")
def clean_film_clip() -> np.ndarray:
    """The same clip as :func:`film_clip` before any damage."""
    return make_film_clip()[0]


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory) -> str:
    """An untrained tiny pipeline saved with ``save_pretrained`` (safetensors)."""
    from seedvr.pipeline.pipeline import SeedVRPipeline

    folder = tmp_path_factory.mktemp("tiny-pipeline") / "pipeline"
    SeedVRPipeline.from_preset("tiny", seed=0).save_pretrained(str(folder))
    return str(folder)


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> str:
    """Six procedural source clips (6 frames, 48x32) damaged once per kind, with a manifest."""
    from seedvr.data import build_damaged_dataset, generate_source_clips

    root = tmp_path_factory.mktemp("tiny-dataset")
    generate_source_clips(root / "sources", clips=6, frames=6, width=48, height=32, seed=0)
    build_damaged_dataset(root / "sources", root / "damaged", seed=1)
    return str(root / "damaged")


@pytest.fixture
def flow_measurements(monkeypatch) -> list[str]:
    """The name of the estimator of every frame-pair flow measured while the test runs, in order."""
    import seedvr.ops.flow as flow

    measured: list[str] = []
    for name, measure in dict(flow.FLOW_ESTIMATORS).items():
        monkeypatch.setitem(
            flow.FLOW_ESTIMATORS, name, lambda *pair, name=name, measure=measure: measured.append(name) or measure(*pair)
        )
    return measured
