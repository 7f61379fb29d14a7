"""The ``seedvr`` command line (typer + rich). Thin: parse, call the library, print.

Each module in ``COMMAND_MODULES`` registers its commands on :data:`app` when imported. Like
the rest of the library it never imports Prefect or ``flows``: ``seedvr serve`` is added on
top by :mod:`flows.cli`, whose ``app`` (this one, plus ``serve``) the console script runs.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="seedvr",
    help="SeedVR Repair: diffusion-based repair of damaged video regions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

COMMAND_MODULES: tuple[str, ...] = (
    "train",
    "pretrain",
    "model",
    "repair",
    "detect",
    "detect_finetune",
    "data",
    "validate",
    "data_version",
    "evaluate",
    "registry",
)

for _module in COMMAND_MODULES:
    importlib.import_module(f"seedvr.cli.{_module}")
