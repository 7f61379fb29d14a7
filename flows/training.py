"""The training pipeline as a Prefect flow: the stages of ``dvc.yaml``, one task each.

    version-data -> validate-sources -> damage -> validate -> train -> train-detector -> evaluate -> register

DVC stays the single source of truth for what changed: each stage task asks
``dvc status`` whether its stage is up to date and, if not, runs ``dvc repro --single-item``
for it, so ``dvc.lock`` is updated as by ``dvc repro`` and a stage whose inputs did not change
is not rerun (its task completes at once with the message ``up to date``). The work itself
is in ``seedvr`` (the stage commands); this module adds what Prefect is for: a task per stage
in the UI, retries where a retry can help (data versioning, evaluation; never training), a
progress artifact while the model trains and a markdown summary at the end.

Training starts from the registered champion when ``train.init`` is ``auto`` (the default in
params.yaml) and one exists. Run it with ``python -m flows.training [params.yaml] [root]``,
from the Prefect UI (deployment ``training-pipeline`` in prefect.yaml) or ``seedvr serve``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from seedvr.config import Params, load_params
from seedvr.errors import SeedVRError
from seedvr.evaluate.metrics_file import METRICS_FILE, EvaluationMetrics
from seedvr.evaluate.timings import SPEED_KEY, read_timings
from seedvr.versioning.dvc_commands import dvc_add, reproduce_stage, stage_changes

DVC_STAGES = ("validate_sources", "damage", "validate", "train", "train_detector", "evaluate", "register")
SUMMARY_ARTIFACT_KEY = "training-summary"
PROGRESS_ARTIFACT_KEY = "training-progress"
# Written by the train stage's command in dvc.yaml (--progress-file), relative to the root.
TRAIN_PROGRESS_FILE = "work/train_progress.json"
REGISTRATION_FILE = "work/registration.json"
RETRY_DELAY_S = 5.0
_METRIC_COLUMNS = ("psnr_mask", "ssim_mask", "ewarp", "tof", "flicker")


# -- one DVC stage -------------------------------------------------------------------------


def _run_stage(stage: str, root: str, poll=None, before=None, run_anyway: str | None = None) -> dict | State:
    """Reproduce ``stage`` when ``dvc status`` says its inputs changed, else complete at once;
    ``run_anyway`` (why) reproduces it even then. ``before()`` runs just before the stage
    starts, ``poll()`` every few seconds while it runs."""
    logger = get_run_logger()
    changes = stage_changes(stage, root)
    if not changes and run_anyway is None:
        return Completed(message="up to date", data={"stage": stage, "ran": False})
    changes = changes or [run_anyway]
    logger.info("%s: %s", stage, json.dumps(changes))
    if before is not None:
        before()
    started = time.perf_counter()
    reproduce_stage(
        stage,
        root,
        poll,
        on_output=lambda output: logger.info("dvc repro %s:\n%s", stage, output),
        force=run_anyway is not None,
    )
    return {"stage": stage, "ran": True, "seconds": round(time.perf_counter() - started, 1), "changes": changes}


# -- tasks ------------------------------------------------------------------------------------


@task(name="version-data", retries=1, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def version_data(params_file: str, root: str) -> dict:
    """data/ as data.dvc pins it (restored, pulled or generated), tracked by DVC; returns the
    data version. A change of ``params.data`` regenerates the data and records the new version."""
    from seedvr.versioning import data_version, ensure_source_data, params_mismatch

    logger = get_run_logger()
    settings = load_params(params_file).data
    data_dir = Path(root) / settings.dir
    stale = params_mismatch(data_dir, settings) if data_dir.is_dir() else []
    if stale:
        logger.info("params.data changed (%s): regenerating %s", "; ".join(stale), data_dir)
    result = ensure_source_data(root, settings, update=bool(stale))
    for note in result.notes:
        logger.info(note)
    recorded = False
    if result.action == "generated" or not result.tracked:
        # Generated data that matches data.dvc is still missing from the DVC cache, and
        # untracked data has no data.dvc yet: `dvc add` fixes both.
        dvc_add(root, settings.dir)
        recorded = True
    outcome = {
        "stage": "version_data",
        "ran": result.action != "present" or recorded,
        "action": result.action,
        "data_version": data_version(root, settings.dir),
    }
    logger.info("data %s (%s), data version %s", data_dir, result.action, outcome["data_version"])
    if not outcome["ran"]:
        return Completed(message="up to date", data=outcome)
    return outcome


@task(name="validate-sources", cache_policy=NO_CACHE)
def validate_sources(root: str) -> dict:
    """Great Expectations on the source clips; a failed suite stops the pipeline."""
    return _run_stage("validate_sources", root)


@task(name="damage", cache_policy=NO_CACHE)
def damage(root: str) -> dict:
    """Synthetic damage and masks on every source clip (the damaged dataset)."""
    return _run_stage("damage", root)


@task(name="validate", cache_policy=NO_CACHE)
def validate(root: str) -> dict:
    """Great Expectations on the damaged dataset; a failed suite stops the pipeline."""
    return _run_stage("validate", root)


def _start_label(settings: Params, root: str) -> str:
    """Where training starts, for the log: what ``seedvr train`` resolves ``train.init`` to
    (``auto``: the champion, else the shipped base model, else scratch)."""
    from seedvr.registry import configure_tracking
    from seedvr.train.fit import resolve_init

    configure_tracking(root)
    # pretrain.out is relative to the project root, where the DVC stage runs.
    pretrain = settings.pretrain.model_copy(update={"out": str(Path(root) / settings.pretrain.out)})
    return resolve_init(settings.train.init, settings.model_copy(update={"pretrain": pretrain}))


@task(name="train", cache_policy=NO_CACHE)
def train(params_file: str, root: str) -> dict:
    """Fine-tune the model (train.init auto: the champion, else the shipped base model), with
    a progress artifact following the epochs. No retry: a failed training is not transient."""
    settings = load_params(params_file)
    progress_file = Path(root) / TRAIN_PROGRESS_FILE
    state: dict[str, Any] = {}

    def start_progress() -> None:
        get_run_logger().info("training starts from %s", _start_label(settings, root))
        progress_file.unlink(missing_ok=True)  # a previous run's progress is not this run's
        state["id"] = create_progress_artifact(
            0.0, key=PROGRESS_ARTIFACT_KEY, description=f"Training: 0/{settings.train.max_epochs} epochs"
        )
        state["seen"] = None

    def poll() -> None:
        try:
            row = json.loads(progress_file.read_text())
        except (OSError, json.JSONDecodeError):
            return  # not written yet (or being replaced): next poll
        if row == state["seen"]:
            return
        state["seen"] = row
        done, total = int(row.get("epoch", 0)) + 1, int(row.get("max_epochs") or settings.train.max_epochs)
        psnr = row.get("val/psnr_mask")
        update_progress_artifact(
            state["id"],
            progress=min(100.0, 100.0 * done / max(total, 1)),
            description=f"Training: {done}/{total} epochs"
            + (f", val psnr_mask {psnr:.2f} dB" if isinstance(psnr, (int, float)) else ""),
        )

    result = _run_stage("train", root, poll=poll, before=start_progress)
    if "id" in state:
        poll()
        update_progress_artifact(state["id"], progress=100.0)
    return result


@task(name="train-detector", cache_policy=NO_CACHE)
def train_detector(root: str) -> dict:
    """Fine-tune the shipped damage detector on the dataset's film damage (under a minute).
    No retry: like training, a failure is not transient."""
    return _run_stage("train_detector", root)


@task(name="evaluate", retries=1, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def evaluate(root: str) -> dict:
    """Every method on the evaluation split: metrics.json, tables, plots, strips, report."""
    return _run_stage("evaluate", root)


@task(name="register", cache_policy=NO_CACHE)
def register(root: str) -> dict:
    """One MLflow run, a new registered version, champion moved only if the gates pass.
    No retry: a second attempt could register the same model twice.

    The stage has no DVC output (its result lives in the registry), so in a fresh clone whose
    committed dvc.lock matches what the earlier stages rebuilt, DVC finds it up to date though
    this working copy's registry never saw the model. Its receipt (``work/registration.json``,
    written by every registration, never committed) tells: without one the stage runs anyway.
    """
    receipt = Path(root) / REGISTRATION_FILE
    missing = None if receipt.is_file() else f"no {REGISTRATION_FILE} in this working copy: the model was never registered here"
    return _run_stage("register", root, run_anyway=missing)


# -- summary ----------------------------------------------------------------------------------


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _figure(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def summary_markdown(
    metrics: EvaluationMetrics | None,
    registration: dict | None,
    stages: list[dict],
    data_version: str,
    timings: dict | None = None,
) -> str:
    """The training-summary artifact: stages, metrics per method (with the repair speed of
    the evaluation's timings.json), gates, run and model version."""
    lines = ["# Training pipeline", "", f"Data version: `{data_version}`", "", "| stage | ran |", "|---|---|"]
    lines += [f"| {stage['stage']} | {'yes' if stage['ran'] else 'no (up to date)'} |" for stage in stages]
    if metrics is not None:
        lines += ["", f"## Evaluation ({metrics.split}: {metrics.clips} clips, {metrics.frames} frames)", ""]
        speeds = (timings or {}).get("methods", {})
        lines += ["| method | " + " | ".join(_METRIC_COLUMNS + (SPEED_KEY,)) + " |", "|---" * (len(_METRIC_COLUMNS) + 2) + "|"]
        for method, figures in metrics.methods.items():
            shown = figures.figures()
            cells = [_figure(shown[key]) for key in _METRIC_COLUMNS] + [_figure(speeds.get(method, {}).get(SPEED_KEY))]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        gains = metrics.gains
        if gains is not None and gains.psnr_mask_db is not None:
            lines += ["", f"seedvr vs {gains.baseline}: {gains.psnr_mask_db:+.2f} dB psnr_mask in the damage."]
    if registration is not None:
        verdict = "gates passed: promoted to champion" if registration["promoted"] else "gates failed: champion unchanged"
        lines += [
            "",
            f"## Registry: {registration['model_name']} version {registration['version']} ({verdict})",
            "",
            f"Aliases: {', '.join(registration['aliases']) or 'none'}; champion: version {registration.get('champion')}",
            "",
        ]
        lines += [f"- {reason}" for reason in registration["reasons"]]
        lines += ["", f"MLflow run: [{registration['run_id']}]({registration['run_url']})"]
    return "\n".join(lines) + "\n"


def _outcome(state: State) -> dict:
    """A stage task's result dict (the task raised already if it failed)."""
    return state.result()


@flow(name="training-pipeline")
def training_pipeline(params: str = "params.yaml", root: str = ".") -> dict[str, Any]:
    """Run the pipeline's stages in order, each only when its inputs changed.

    Args:
        params: the parameters file; DVC's stages read ``params.yaml`` at the root, so this
            must be that file (a path relative to ``root``, or absolute).
        root: the project root (holds dvc.yaml, params.yaml, .dvc/).

    Returns:
        ``{"data_version", "stages": [{"stage", "ran", ...}], "ran": [names],
        "metrics": metrics.json (an EvaluationMetrics), "registration": registration.json}``.
    """
    root_path = Path(root).resolve()
    params_path = Path(params) if Path(params).is_absolute() else root_path / params
    if params_path.resolve() != (root_path / "params.yaml").resolve():
        raise SeedVRError(f"the DVC stages read {root_path / 'params.yaml'}; edit that file instead of passing {params}")
    settings = load_params(params_path)
    root_text = str(root_path)

    data = _outcome(version_data(str(params_path), root_text, return_state=True))
    stages = [data]
    for run_stage in (validate_sources, damage, validate):
        stages.append(_outcome(run_stage(root_text, return_state=True)))
    stages.append(_outcome(train(str(params_path), root_text, return_state=True)))
    stages.append(_outcome(train_detector(root_text, return_state=True)))
    stages.append(_outcome(evaluate(root_text, return_state=True)))
    stages.append(_outcome(register(root_text, return_state=True)))

    metrics_path = root_path / settings.evaluate.out / METRICS_FILE
    metrics = EvaluationMetrics.from_file(metrics_path) if metrics_path.is_file() else None
    timings = read_timings(root_path / settings.evaluate.out)
    registration = _read_json(root_path / REGISTRATION_FILE)
    create_markdown_artifact(
        summary_markdown(metrics, registration, stages, data["data_version"], timings),
        key=SUMMARY_ARTIFACT_KEY,
        description="Training pipeline: metrics per method, promotion gates, MLflow run.",
    )
    return {
        "data_version": data["data_version"],
        "stages": stages,
        "ran": [stage["stage"] for stage in stages if stage["ran"]],
        "metrics": metrics,
        "registration": registration,
    }


if __name__ == "__main__":
    training_pipeline(*sys.argv[1:3])
