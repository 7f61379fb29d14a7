"""``seedvr registry promote`` and ``seedvr registry show`` on the test store."""

from __future__ import annotations

import json

import yaml
from registry_helpers import metrics_doc
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.config import Params
from seedvr.modelstore.location import sqlite_database_path
from seedvr.registry.models import log_pipeline_model
from seedvr.registry.tracking import start_run


def test_promote_then_show(mlflow_store, pipeline_dir, tmp_path):
    root = sqlite_database_path(mlflow_store).parent.parent  # <root>/mlflow/mlflow.db
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"register": {"model_name": "cli-model", "min_gain_over_propagate_db": 0.5}}))
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(metrics_doc((24.1, 0.018), {"propagate": (23.0, 0.02), "telea": (22.3, 0.03)})))
    with start_run(Params(), experiment="cli-test") as run:
        log_pipeline_model(pipeline_dir)
    runner = CliRunner()
    common = ["--params", str(params), "--root", str(root)]

    promoted = runner.invoke(app, ["registry", "promote", "--run-id", run.info.run_id, "--metrics", str(metrics), *common])
    assert promoted.exit_code == 0, promoted.output
    assert (
        "pass: psnr_mask 24.100 dB vs propagate 23.000 dB (the model's starting point): gain +1.100 dB >= required 0.500 dB"
        in promoted.output
    )
    assert "cli-model version 1: promoted to champion; aliases: challenger, champion" in promoted.output

    shown = runner.invoke(app, ["registry", "show", "--json", *common])
    assert shown.exit_code == 0, shown.output
    (version,) = json.loads(shown.output)
    assert version["version"] == 1 and version["aliases"] == ["challenger", "champion"]
    assert version["decision"] == "promoted" and version["run_id"] == run.info.run_id

    # A champion exists now: promoting without its metrics is a one-line user error.
    refused = runner.invoke(app, ["registry", "promote", "--run-id", run.info.run_id, "--metrics", str(metrics), *common])
    assert refused.exit_code == 2
    assert "has a champion (version 1)" in refused.output


def test_show_unknown_model_is_a_user_error(mlflow_store):
    root = sqlite_database_path(mlflow_store).parent.parent
    result = CliRunner().invoke(app, ["registry", "show", "--name", "nobody", "--root", str(root)])
    assert result.exit_code == 2
    assert "no registered model named 'nobody'" in result.output
