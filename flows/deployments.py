"""The project's deployments, declared once in ``prefect.yaml`` and read from there.

``prefect deploy --all`` reads ``prefect.yaml`` for a server with the ``gpu`` work pool;
``seedvr serve`` (:mod:`flows.cli`) serves the same declarations from its own process. Both
take the name, flow, description, tags, default parameters, schedule and concurrency limit
from the file, so a deployment changed there changes in both.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from seedvr.errors import SeedVRError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
BATCH_DEPLOYMENT = "batch-repair"
TRAINING_DEPLOYMENT = "training-pipeline"


def declared_deployments(path: Path = PREFECT_YAML) -> dict[str, dict[str, Any]]:
    """Every deployment of ``prefect.yaml``, by name."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SeedVRError(f"cannot read the deployments in {path}: {error}") from None
    return {deployment["name"]: deployment for deployment in config.get("deployments") or []}


def declared_interval(declaration: dict[str, Any]) -> int | None:
    """The seconds between scheduled runs, ``None`` for an on-demand deployment."""
    intervals = [schedule["interval"] for schedule in declaration.get("schedules") or [] if "interval" in schedule]
    return int(intervals[0]) if intervals else None


def entrypoint_flow(entrypoint: str):
    """The flow object an entrypoint such as ``flows/repair.py:batch_repair`` names.

    Imported as a module of this package (not loaded from the file) so the served flow is the
    very object the rest of the process imports, runner settings included.
    """
    path, _, name = entrypoint.partition(":")
    module = ".".join(Path(path).with_suffix("").parts)
    return getattr(importlib.import_module(module), name)


def to_runner_deployment(name: str, parameters: dict[str, Any] | None = None, interval: int | None = None):
    """The declared deployment ``name``, ready for ``prefect.serve``.

    ``parameters`` override the declared ones (absolute paths, command-line choices); an
    ``interval`` of ``None`` keeps the declared schedule and ``0`` serves on demand only.
    Parameters the flow does not take are dropped.
    """
    declarations = declared_deployments()
    if name not in declarations:
        raise SeedVRError(f"no deployment {name!r} in {PREFECT_YAML}; declared: {', '.join(declarations)}")
    declaration = declarations[name]
    flow = entrypoint_flow(declaration["entrypoint"])
    offered = {**(declaration.get("parameters") or {}), **(parameters or {})}
    accepted = flow.parameters.properties
    schedule = declared_interval(declaration) if interval is None else interval
    return flow.to_deployment(
        name,
        description=declaration.get("description"),
        tags=declaration.get("tags"),
        parameters={key: value for key, value in offered.items() if key in accepted},
        interval=schedule or None,
        concurrency_limit=declaration.get("concurrency_limit"),
    )
