"""Log -> register -> promote, aliases, and getting a registered pipeline back.

Module-scoped: version 1 (gates pass) and version 2 (gates fail) are registered once and the
tests read the resulting registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from registry_helpers import metrics_of

import mlflow
from seedvr.config import Params, RegisterParams
from seedvr.errors import SeedVRError
from seedvr.modelstore.registered import (
    CHALLENGER,
    CHAMPION,
    current_champion,
    download_registered_pipeline,
    resolve_model_version,
)
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.registry.models import list_versions, log_pipeline_model, register_model
from seedvr.registry.promotion import DECISION_ARTIFACT, ChampionEvaluation, register_and_promote
from seedvr.registry.tracking import start_run

GATES = RegisterParams()
NAME = GATES.model_name
BASELINES = {"propagate": (23.0, 0.020), "telea": (22.3, 0.030)}
GOOD = metrics_of((24.1, 0.018), BASELINES)
BAD = metrics_of((22.0, 0.025), BASELINES)  # below propagate, on every kind, and less stable


def _logged_run(pipeline_dir, name: str) -> str:
    with start_run(Params(), experiment=GATES.experiment, run_name=name, data_version="data-md5", git_commit="c0ffee") as run:
        info = log_pipeline_model(pipeline_dir)
        assert info.signature.params is not None
    return run.info.run_id


@pytest.fixture(scope="module")
def registry(mlflow_store, pipeline_dir):
    """Version 1 promoted, version 2 rejected; returns both registration results."""
    first_run = _logged_run(pipeline_dir, "first")
    first = register_and_promote(first_run, GOOD, GATES)
    second_run = _logged_run(pipeline_dir, "second")
    champion = ChampionEvaluation(metrics_of((24.1, 0.018), {}), version=first.version)
    second = register_and_promote(second_run, BAD, GATES, champion)
    return {"first": first, "second": second, "runs": (first_run, second_run)}


def test_first_version_becomes_champion_and_challenger(registry):
    first = registry["first"]
    assert first.version == 1
    assert first.decision.promote
    assert first.aliases == [CHALLENGER, CHAMPION]
    assert first.previous_champion is None and first.champion == 1


def test_rejected_version_is_challenger_only_and_champion_stays(registry):
    second = registry["second"]
    assert second.version == 2
    assert not second.decision.promote
    assert second.aliases == [CHALLENGER]
    assert current_champion(NAME) == 1
    assert int(resolve_model_version(f"models:/{NAME}@{CHALLENGER}").version) == 2
    # propagate, per kind, temporal fail; the sampler was the shipped one; the champion gate fails.
    assert [reason.split(":")[0] for reason in second.decision.reasons] == ["fail", "fail", "fail", "pass", "fail"]


def test_decision_is_logged_on_run_and_version(registry):
    client = mlflow.MlflowClient()
    first_run, second_run = registry["runs"]
    for run_id, expected, promoted in ((first_run, "promoted", 1.0), (second_run, "rejected", 0.0)):
        run = client.get_run(run_id)
        assert run.data.tags["promotion.decision"] == expected
        assert run.data.metrics["promotion/promoted"] == promoted
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=DECISION_ARTIFACT)
        with open(local) as handle:
            record = json.load(handle)
        assert record["promote"] is (expected == "promoted")
        assert record["reasons"] == (registry["first"] if promoted else registry["second"]).decision.reasons
    version = client.get_model_version(NAME, "2")
    assert version.tags["promotion.decision"] == "rejected"
    assert version.run_id == second_run
    assert "gain -1.000 dB" in version.tags["promotion.reasons"]


def test_list_versions_shows_aliases_newest_first(registry):
    versions = list_versions(NAME)
    assert [(v.version, v.aliases, v.decision) for v in versions] == [
        (2, (CHALLENGER,), "rejected"),
        (1, (CHAMPION,), "promoted"),
    ]


def test_champion_pipeline_repairs_exactly_like_the_original(registry, pipeline_dir, tiny_pair):
    folder = download_registered_pipeline(f"models:/{NAME}@{CHAMPION}")
    assert (folder / "model_index.json").is_file()
    assert download_registered_pipeline(f"models:/{NAME}/1") == folder  # cached per version
    frames, masks = tiny_pair
    outputs = []
    for source in (pipeline_dir, folder):
        pipeline = SeedVRPipeline.from_pretrained(str(source), use_safetensors=True)
        generator = torch.Generator("cpu").manual_seed(0)
        outputs.append(pipeline(frames, masks, num_inference_steps=1, generator=generator).frames)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(outputs[0][~masks], frames[~masks])


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"models:/{NAME}@staging", "has no alias 'staging' \\(aliases: challenger, champion\\)"),
        (f"models:/{NAME}/9", "has no version 9"),
        ("models:/no-such-model@champion", "no registered model named 'no-such-model'"),
        ("runs:/abc/model", "not a registered model URI"),
    ],
)
def test_unknown_models_are_one_line_errors(registry, uri, message):
    with pytest.raises(SeedVRError, match=message):
        download_registered_pipeline(uri)


def test_champion_metrics_are_required_once_a_champion_exists(registry, pipeline_dir):
    run_id = _logged_run(pipeline_dir, "third")
    with pytest.raises(SeedVRError, match="has a champion \\(version 1\\)"):
        register_and_promote(run_id, GOOD, GATES)
    stale = ChampionEvaluation(GOOD, version=2)
    with pytest.raises(SeedVRError, match="champion is now version 1"):
        register_and_promote(run_id, GOOD, GATES, stale)
    # Refused before registering: the registry is unchanged.
    assert [v.version for v in list_versions(NAME)] == [2, 1]


def test_registering_a_run_without_model_fails_clearly(mlflow_store):
    with start_run(Params(), experiment="no-model") as run:
        pass
    with pytest.raises(SeedVRError, match="cannot register run"):
        register_model(run.info.run_id, "other-model")


# The registered model served in a fresh process: only the store URI is shared.
_PREDICT_SCRIPT = """
import json, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
table = pd.DataFrame([{"video_path": sys.argv[2], "mask_path": sys.argv[3], "output_path": sys.argv[4]}])
print("RESULT " + json.dumps(model.predict(table, params={"steps": 1, "seed": 0}).to_dict(orient="records")))
"""


def test_registered_model_predicts_in_a_fresh_process(registry, mlflow_store, pipeline_dir, tiny_clip, tiny_pair, tmp_path):
    from seedvr.io import read_video

    video, mask = tiny_clip
    output = tmp_path / "repaired.mkv"
    environment = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store, "SEEDVR_DEVICE": "cpu"}
    completed = subprocess.run(
        [sys.executable, "-c", _PREDICT_SCRIPT, f"models:/{NAME}@{CHAMPION}", str(video), str(mask), str(output)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result_line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    (row,) = json.loads(result_line.removeprefix("RESULT "))
    assert row["output_path"] == str(output) and row["frames"] == 4
    assert (row["width"], row["height"]) == (32, 32)
    frames, masks = tiny_pair
    pipeline = SeedVRPipeline.from_pretrained(str(pipeline_dir), use_safetensors=True)
    expected = pipeline(frames, masks, num_inference_steps=1, generator=torch.Generator("cpu").manual_seed(0)).frames
    # FFV1 is lossless: the served repair is byte for byte the pipeline's own.
    np.testing.assert_array_equal(read_video(output), expected)


def test_serving_checks_its_input_table(pipeline_dir):
    import pandas as pd

    from seedvr.registry.serving import repair_table

    pipeline = SeedVRPipeline.from_pretrained(str(pipeline_dir), use_safetensors=True)
    with pytest.raises(SeedVRError, match="missing column\\(s\\) mask_path"):
        repair_table(pipeline, pd.DataFrame([{"video_path": "a.mkv", "output_path": "b.mkv"}]))
    with pytest.raises(SeedVRError, match="unknown inference param 'strength'"):
        repair_table(pipeline, pd.DataFrame(columns=["video_path", "mask_path", "output_path"]), {"strength": 1})
    empty = repair_table(pipeline, pd.DataFrame(columns=["video_path", "mask_path", "output_path"]))
    assert empty.empty and "frames_per_second" in empty.columns
