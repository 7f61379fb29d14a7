"""``prefect.yaml``: the deployments the project promises, pointing at flows that accept them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _deployments() -> dict[str, dict]:
    config = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    return {deployment["name"]: deployment for deployment in config["deployments"]}


def test_training_on_demand_and_batch_repair_every_15_minutes_on_the_gpu_pool() -> None:
    deployments = _deployments()

    assert set(deployments) == {"training-pipeline", "batch-repair"}
    assert {deployment["work_pool"]["name"] for deployment in deployments.values()} == {"gpu"}
    assert deployments["training-pipeline"]["parameters"] == {"params": "params.yaml"}
    assert not deployments["training-pipeline"]["schedules"]
    batch = deployments["batch-repair"]
    assert batch["schedules"] == [{"interval": 900}]
    assert batch["concurrency_limit"] == 1
    assert {"inbox", "outbox"} <= set(batch["parameters"])


@pytest.mark.parametrize(
    ("deployment", "entrypoint", "flow_name"),
    [
        ("batch-repair", "flows/repair.py:batch_repair", "batch-repair"),
        ("training-pipeline", "flows/training.py:training_pipeline", "training-pipeline"),
    ],
)
def test_each_entrypoint_loads_and_accepts_its_parameters(deployment, entrypoint, flow_name, monkeypatch) -> None:
    declared = _deployments()[deployment]
    assert declared["entrypoint"] == entrypoint

    monkeypatch.chdir(PROJECT_ROOT)  # entrypoints are relative to the project root
    flow = load_flow_from_entrypoint(entrypoint)

    assert flow.name == flow_name
    assert set(declared["parameters"]) <= set(flow.parameters.properties)
    assert set(flow.parameters.required or []) <= set(declared["parameters"])
