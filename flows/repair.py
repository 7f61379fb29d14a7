"""Scheduled batch repair: every video of an inbox, once, into an outbox (Prefect flow).

The work itself is :mod:`seedvr.batch`; this module adds what Prefect is for: one task
per video (visible, retried once for transient errors, run two at a time or on Dask), a
results table artifact, and deployments (``prefect.yaml``, ``seedvr serve``).

Task runner: threads by default. Dask, for many videos over many GPU workers, either by
code (``batch_repair.with_options(task_runner=make_task_runner("dask", address))`` or
:func:`batch_repair_on_dask`) or, for deployed runs that import this module fresh, by the
environment: ``SEEDVR_TASK_RUNNER=dask``, ``SEEDVR_DASK_ADDRESS=tcp://scheduler:8786``,
``SEEDVR_TASK_WORKERS=N`` (``seedvr serve --runner dask`` sets them; a process work pool can
set them as job variables).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from seedvr.batch import (
    BatchItem,
    BatchPlan,
    ItemResult,
    ModelUnavailable,
    RepairSettings,
    plan_batch,
    process_item,
    quarantine_item,
    summarize,
)
from seedvr.config import REPAIR_DEFAULTS
from seedvr.errors import SeedVRError

DEFAULT_MODEL = "models:/seedvr-repair@champion"
RESULTS_ARTIFACT_KEY = "batch-repair-results"
REPAIR_RETRIES = 1
REPAIR_RETRY_DELAY_S = 2.0
RunnerKind = Literal["threads", "dask"]

TASK_RUNNER_ENV = "SEEDVR_TASK_RUNNER"
DASK_ADDRESS_ENV = "SEEDVR_DASK_ADDRESS"
TASK_WORKERS_ENV = "SEEDVR_TASK_WORKERS"
DEFAULT_WORKERS = 2


def make_task_runner(kind: RunnerKind = "threads", address: str | None = None, n_workers: int = DEFAULT_WORKERS) -> TaskRunner:
    """The task runner for a batch: ``threads`` (in this process) or ``dask``.

    Dask with ``address`` connects to a running scheduler (``dask scheduler`` plus one
    ``dask worker --nthreads 1`` per GPU, each started with its own ``CUDA_VISIBLE_DEVICES``);
    without it a local cluster of ``n_workers`` single-threaded worker processes is started
    for the run. Each worker process downloads the model once and reuses it.

    Raises:
        SeedVRError: an unknown kind or a worker count below 1.
    """
    if n_workers < 1:
        raise SeedVRError(f"the number of task workers must be at least 1, got {n_workers}")
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=n_workers)
    if kind == "dask":
        # Imported here: dask and distributed take a while to import and most runs use threads.
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1})
    raise SeedVRError(f"unknown task runner {kind!r}; choose threads or dask")


def task_runner_from_environment() -> TaskRunner:
    """The runner named by ``SEEDVR_TASK_RUNNER`` / ``SEEDVR_DASK_ADDRESS`` / ``SEEDVR_TASK_WORKERS``.

    Deployed runs import this module in a fresh process, so the environment is the one way a
    runner chosen at ``seedvr serve`` time reaches them.
    """
    workers_text = os.environ.get(TASK_WORKERS_ENV, str(DEFAULT_WORKERS))
    try:
        workers = int(workers_text)
    except ValueError:
        raise SeedVRError(f"{TASK_WORKERS_ENV} must be a whole number, got {workers_text!r}") from None
    kind = os.environ.get(TASK_RUNNER_ENV, "threads").strip().lower() or "threads"
    return make_task_runner(kind, os.environ.get(DASK_ADDRESS_ENV) or None, workers)  # type: ignore[arg-type]


@task(name="plan-batch", cache_policy=NO_CACHE)
def plan_batch_task(inbox: str, outbox: str, settings: RepairSettings, quarantine_dir: str | None) -> BatchPlan:
    """Discover the inbox, split it into videos to repair and videos already done, load the model."""
    return plan_batch(inbox, outbox, settings, quarantine_dir)


@task(
    name="repair-video",
    task_run_name="repair-{item.name}",
    retries=REPAIR_RETRIES,
    retry_delay_seconds=REPAIR_RETRY_DELAY_S,
    # Idempotence comes from the ledger; Prefect's result cache would only hide reruns.
    cache_policy=NO_CACHE,
)
def repair_video_task(item: BatchItem, digest: str, outbox: str, quarantine_dir: str, settings: RepairSettings) -> ItemResult:
    """Repair one video; a bad input comes back as a quarantine result instead of failing.

    Anything other than a :class:`SeedVRError` raises, so Prefect retries it once; if the
    retry fails too, the flow quarantines the video with the error's first line. A model
    that cannot load in this worker (:class:`ModelUnavailable`) fails the flow instead.
    """
    return process_item(item, outbox, quarantine_dir, settings, digest)


def _collect(plan: BatchPlan, futures: list) -> list[ItemResult]:
    logger = get_run_logger()
    results = [*plan.skipped, *plan.unreadable]
    for (item, _digest), future in zip(plan.todo, futures):
        future.wait()
        if future.state.is_completed():
            result = future.result()
        else:
            error = future.result(raise_on_failure=False)
            if isinstance(error, ModelUnavailable):
                raise error  # the model's fault, not the video's: the flow run fails
            # Retries are spent: an unexpected error. Its report is not recorded in the
            # ledger, so the next scheduled run tries this video again.
            if not isinstance(error, BaseException):
                error = RuntimeError(f"task ended {future.state.name}")
            result = quarantine_item(item, plan.quarantine_dir, error)
        logger.info("%s: %s%s", result.name, result.status, f" ({result.error})" if result.error else "")
        results.append(result)
    return sorted(results, key=lambda result: result.name)


def _publish(results: list[ItemResult], summary: dict) -> None:
    description = (
        f"Batch repair: {summary['repaired']} repaired, {summary['skipped']} skipped, {summary['quarantined']} quarantined."
    )
    create_table_artifact(table=[result.to_row() for result in results], key=RESULTS_ARTIFACT_KEY, description=description)


@flow(name="batch-repair", task_runner=task_runner_from_environment())
def batch_repair(
    inbox: str,
    outbox: str,
    model: str = DEFAULT_MODEL,
    method: str = "seedvr",
    device: str = "auto",
    steps: int | None = None,
    chunk: int = REPAIR_DEFAULTS.chunk,
    overlap: int = REPAIR_DEFAULTS.overlap,
    seed: int = 0,
    precision: str = "fp32",
    output_extension: str = ".mkv",
    quarantine: str | None = None,
) -> dict[str, Any]:
    """Repair every new video of ``inbox`` into ``outbox``; bad ones go to quarantine.

    Videos already repaired with the same settings and model (by content hash, see
    ``outbox/.ledger.jsonl``) are skipped while their outputs are intact, so the flow can run
    on a schedule. ``quarantine`` defaults to ``OUTBOX/quarantine``; relative folders are
    taken from this process's current folder, whichever worker repairs. Returns the counts
    per status and one row per video. A model that cannot load fails the run, and no video
    is quarantined for it.
    """
    settings = RepairSettings(
        method=method,
        model=model,
        steps=steps,
        seed=seed,
        chunk=chunk,
        overlap=overlap,
        device=device,
        precision=precision,
        output_extension=output_extension,
    )
    plan = plan_batch_task(inbox, outbox, settings, quarantine or None)
    get_run_logger().info("%d video(s) to repair, %d already done or known bad", len(plan.todo), len(plan.skipped))
    futures = (
        repair_video_task.map(
            [item for item, _ in plan.todo],
            [digest for _, digest in plan.todo],
            unmapped(str(plan.outbox)),
            unmapped(str(plan.quarantine_dir)),
            unmapped(plan.settings),
        )
        if plan.todo
        else []
    )
    results = _collect(plan, list(futures))
    summary = {
        **summarize(results),
        "inbox": str(plan.inbox),
        "outbox": str(plan.outbox),
        "quarantine": str(plan.quarantine_dir),
    }
    _publish(results, summary)
    return summary


def batch_repair_on_dask(
    inbox: str, outbox: str, address: str | None = None, n_workers: int = DEFAULT_WORKERS, **parameters: Any
) -> dict[str, Any]:
    """Run :func:`batch_repair` with its videos spread over a Dask cluster (see :func:`make_task_runner`)."""
    runner = make_task_runner("dask", address=address, n_workers=n_workers)
    return batch_repair.with_options(task_runner=runner)(inbox=inbox, outbox=outbox, **parameters)
