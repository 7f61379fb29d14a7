"""The scripts in benchmarks/ are not a package: tests load them by file to reuse their logic."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark_script(file_name: str) -> ModuleType:
    """``benchmarks/<file_name>`` imported as a module of its own (its ``main`` not run)."""
    spec = importlib.util.spec_from_file_location(f"{Path(file_name).stem}_under_test", BENCHMARKS / file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
