"""The scripts in benchmarks/ are not a package: tests load them by file to reuse their logic."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark_script(file_name: str) -> ModuleType:
    """``benchmarks/<file_name>`` imported as a module of its own (its ``main`` not run), with
    ``benchmarks/`` on the import path as Python puts a script's folder there (scripts share
    helpers by importing each other)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"{Path(file_name).stem}_under_test", BENCHMARKS / file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
