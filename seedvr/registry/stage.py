"""The ``register`` stage of the pipeline as one call: log, register, promote, record.

:func:`register_stage` is what ``dvc.yaml``'s ``register`` stage (``seedvr registry
register``) and the Prefect training flow run after training and evaluation. In ONE MLflow
run it logs everything that explains the model:

* params, data version and git commit (:func:`~seedvr.registry.tracking.start_run`);
* the training history from ``<model>/training_summary.json`` (``train/*``, ``val/*`` at
  their optimiser step), the training time and the perceptual backend the loss used;
* the evaluation: metrics, plots, sample strips and report
  (:mod:`seedvr.evaluate.mlflow_logging`);
* the pipeline as a pyfunc model, registered as a new version (alias ``challenger``).

When a champion exists it is evaluated on the candidate's evaluation set (same split, seed
and clips, in a nested run) so the no-regression gate compares like with like; with
``evaluate.steps`` null (the default) each model runs its own sampling steps, exactly as batch
repair runs it. ``champion`` then moves only if every gate passes; one gate refuses an
evaluation made with other steps than the model ships (``sampler`` in metrics.json). The outcome is written as JSON
(atomically) for the pipeline's next consumers: the flow's summary, ``dvc``, a person.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import mlflow
from seedvr.config import Params
from seedvr.errors import SeedVRError
from seedvr.evaluate.metrics_file import METRICS_FILE, EvaluationMetrics
from seedvr.evaluate.mlflow_logging import log_to_active_run
from seedvr.modelstore.folder import require_pipeline_folder
from seedvr.modelstore.location import configure_tracking
from seedvr.registry.models import log_pipeline_model
from seedvr.registry.promotion import ChampionEvaluation, champion_metrics_on, register_and_promote
from seedvr.registry.tracking import DATA_VERSION_TAG, GIT_COMMIT_TAG, run_url, start_run

TRAINING_SUMMARY_FILE = "training_summary.json"
PERCEPTUAL_BACKEND_PARAM = "perceptual_backend"
# Columns of a history row that place it in time rather than measure anything.
_HISTORY_POSITION_KEYS = ("epoch", "step", "max_epochs")
# MLflow rejects longer tag values on some stores.
_MAX_TAG_CHARS = 5000


def read_json_object(path: Path, what: str) -> dict:
    if not path.is_file():
        raise SeedVRError(f"{what} not found: {path}")
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SeedVRError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise SeedVRError(f"{path} must hold a JSON object")
    return content


def read_training_summary(model_dir: Path) -> dict | None:
    """``<model_dir>/training_summary.json`` (written by ``seedvr train``), ``None`` when the
    pipeline was not trained here (a downloaded or hand-made folder has no history)."""
    path = model_dir / TRAINING_SUMMARY_FILE
    return read_json_object(path, "training summary") if path.is_file() else None


def history_metrics(history: list[dict]) -> list[tuple[str, float, int]]:
    """``(name, value, step)`` for every finite figure of every epoch row of the history.

    Names are kept as training logged them (``train/total``, ``val/psnr_mask``,
    ``val_loss``...), so the MLflow charts read like the training log.
    """
    logged = []
    for row in history:
        step = int(row.get("step", row.get("epoch", 0)))
        for name, value in row.items():
            if name in _HISTORY_POSITION_KEYS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                logged.append((name, float(value), step))
    return logged


def _log_training(summary: dict | None, params: Params, timings: dict | None = None) -> str:
    """Log the training history and totals (with the wall-clock ``seconds`` of ``timings``, the
    train stage's timings file); return the perceptual backend the loss used."""
    if summary is None:
        # No record of the training: say which backend these params would use, and that
        # the history is missing, instead of inventing one.
        from seedvr.losses import build_perceptual_backend

        mlflow.set_tag("train.history", "absent (no training_summary.json)")
        return build_perceptual_backend(params.loss.vgg16_weights).name
    client = mlflow.MlflowClient()
    run_id = mlflow.active_run().info.run_id
    for name, value, step in history_metrics(summary.get("history") or []):
        client.log_metric(run_id, name, value, step=step)
    recorded = {**summary, **(timings or {})}
    totals = {f"train/{key}": float(recorded[key]) for key in ("epochs", "steps", "seconds") if key in recorded}
    if totals:
        mlflow.log_metrics(totals)
    return str(summary.get(PERCEPTUAL_BACKEND_PARAM) or "unknown")


def _check_evaluated_model(metrics: EvaluationMetrics, model_dir: Path, eval_dir: Path) -> None:
    """The evaluation must be of this model: its recorded ``sampler.model_steps`` (the steps the
    evaluated model ships) must be the model folder's own."""
    from seedvr.evaluate.runner import model_sampling_steps

    if metrics.sampler is None:
        return  # an evaluation that does not record it: the sampler gate fails on it
    recorded = metrics.sampler.model_steps
    shipped = model_sampling_steps(model_dir)
    if recorded != shipped:
        raise SeedVRError(
            f"{eval_dir / METRICS_FILE} evaluated a model with {recorded} sampling steps but {model_dir} ships "
            f"{shipped}: evaluate this model folder"
        )


def _check_evaluated_detector(metrics: EvaluationMetrics, detector_dir: str | Path | None, eval_dir: Path) -> None:
    """A detector is registered only with its scores (the detection gate reads them), and scores
    only with the detector they measured: otherwise the version would carry an ungated detector,
    or a gate passed by a detector it does not carry."""
    scored = metrics.detection is not None
    if detector_dir is not None and not scored:
        raise SeedVRError(
            f"{eval_dir / METRICS_FILE} has no detection block: evaluate with --detector {detector_dir} before registering it"
        )
    if detector_dir is None and scored:
        raise SeedVRError(
            f"{eval_dir / METRICS_FILE} scored the detector {metrics.detection.detector}: register it with --detector"
        )


def _evaluate_champion(params: Params, dataset_dir: Path, work_dir: Path) -> ChampionEvaluation | None:
    """The current champion's metrics on the candidate's evaluation set, ``None`` without one.

    ``evaluate.steps`` (null by default: the champion's own sampling steps, what it ships) is
    passed as it is, so candidate and champion are measured with the same setting."""
    from seedvr.evaluate import evaluate_dataset

    settings = params.evaluate
    return champion_metrics_on(
        params.register_.model_name,
        dataset_dir,
        settings.split,
        evaluate_dataset,
        work_dir / "champion-eval",
        steps=settings.steps,
        seed=settings.seed,
        max_clips=settings.max_clips,
        strips=settings.strips,
        vgg16_weights=params.loss.vgg16_weights,
    )


def _write_record(record: dict, out_path: Path) -> None:
    from seedvr.io import atomic_output

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out_path) as staging:
        Path(staging).write_text(json.dumps(record, indent=2) + "\n")


def register_stage(
    params: Params,
    model_dir: str | Path,
    eval_dir: str | Path,
    dataset_dir: str | Path,
    repo_root: str | Path = ".",
    out_path: str | Path | None = None,
    train_timings: str | Path | None = None,
    detector_dir: str | Path | None = None,
) -> dict:
    """Log the trained model and its evaluation in one MLflow run, register and promote it.

    Args:
        params: the whole ``params.yaml`` (logged; ``register`` holds the gates and names,
            ``evaluate`` the settings the champion is re-evaluated with).
        model_dir: the trained pipeline folder (``seedvr train`` output).
        eval_dir: the candidate's evaluation folder (``seedvr evaluate`` output).
        dataset_dir: the damaged dataset the evaluation used (for the champion's evaluation).
        repo_root: project root: default tracking store, data version and git commit.
        out_path: where to write the outcome as JSON (atomically); nothing written if ``None``.
        train_timings: the timings file of ``seedvr train`` (``--timings-file``), whose wall-clock
            seconds are logged as ``train/seconds``; skipped when ``None`` or absent.
        detector_dir: the damage detector evaluated with the model (``train_detector`` stage
            output); logged beside the pipeline so the version carries it, and gated on the
            evaluation's ``detection`` block, which must then be there.

    Returns:
        ``{run_id, run_url, experiment_id, model_name, version, aliases, promoted, reasons,
        data_version, git_commit, champion, previous_champion}``.

    Raises:
        SeedVRError: a missing or malformed model folder or evaluation, an evaluation of
            another model (its recorded ``sampler.model_steps`` is not the folder's), or a
            registry error; ``out_path`` is not written then.
    """
    model_dir, eval_dir, dataset_dir = require_pipeline_folder(model_dir), Path(eval_dir), Path(dataset_dir)
    metrics = EvaluationMetrics.from_file(eval_dir / METRICS_FILE)
    summary = read_training_summary(model_dir)
    timings_path = Path(train_timings) if train_timings else None
    timings = read_json_object(timings_path, "training timings") if timings_path and timings_path.is_file() else None
    if not dataset_dir.exists():
        raise SeedVRError(f"dataset folder not found: {dataset_dir}")
    _check_evaluated_model(metrics, model_dir, eval_dir)
    _check_evaluated_detector(metrics, detector_dir, eval_dir)
    settings = params.register_

    configure_tracking(repo_root)
    with start_run(params, experiment=settings.experiment, run_name="register", repo_root=repo_root) as run:
        run_id = run.info.run_id
        # The champion's evaluation opens a nested run without naming an experiment: make
        # this run's experiment the active one so it lands beside its parent, not in Default.
        mlflow.set_experiment(experiment_id=run.info.experiment_id)
        backend = _log_training(summary, params, timings)
        mlflow.log_param(PERCEPTUAL_BACKEND_PARAM, backend)
        mlflow.set_tag("train.perceptual_backend", backend)
        log_to_active_run(metrics, eval_dir)
        log_pipeline_model(model_dir, detector_dir=detector_dir)
        with tempfile.TemporaryDirectory(prefix="seedvr-champion-eval-") as work:
            champion = _evaluate_champion(params, dataset_dir, Path(work))
        result = register_and_promote(run_id, metrics, settings, champion)
        mlflow.set_tag("promotion.reasons", " | ".join(result.decision.reasons)[:_MAX_TAG_CHARS])
    tags = mlflow.MlflowClient().get_run(run_id).data.tags

    record = {
        "run_id": run_id,
        "run_url": run_url(run_id),
        "experiment_id": run.info.experiment_id,
        "model_name": result.model_name,
        "version": result.version,
        "aliases": list(result.aliases),
        "promoted": result.decision.promote,
        "reasons": list(result.decision.reasons),
        "data_version": tags.get(DATA_VERSION_TAG),
        "git_commit": tags.get(GIT_COMMIT_TAG),
        "champion": result.champion,
        "previous_champion": result.previous_champion,
    }
    if out_path is not None:
        _write_record(record, Path(out_path))
    return record
