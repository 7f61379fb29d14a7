"""Imports point one way: down the layers of docs/architecture.md, never to Prefect or flows/.

Every ``import`` statement of every module counts, including those inside functions: a
function-local import still makes a dependency, and one pointing up would hide a cycle.
Reading the source with ``ast`` (nothing is imported) keeps this test instant.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LIBRARY = PROJECT_ROOT / "seedvr"

# Lowest first; the same list, with what each layer holds, is in docs/architecture.md. A
# module may import its own layer and any layer below it. Names are the top-level modules and
# packages of seedvr/ ("" is seedvr/__init__.py, whose lazy exports are strings, not imports).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("", "_lazy", "errors"),
    ("video_contract",),
    ("method_catalog",),
    ("config",),
    ("modelstore",),
    ("io",),
    ("data",),
    ("versioning",),
    ("ops",),
    ("models",),
    ("losses",),
    ("metrics",),
    ("baselines",),
    ("pipeline",),
    ("train",),
    ("engine",),
    ("batch",),
    ("evaluate",),
    ("registry",),
    ("cli",),
)
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}

# Upward imports left in files outside this change's reach, each with the reason it stays.
# (None today; add "importer module -> imported module" pairs here, never silently.)
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()

FORBIDDEN_IN_LIBRARY = ("prefect", "flows")


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(LIBRARY.rglob("*.py")):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def _imported(module: str, path: Path) -> list[tuple[str, int]]:
    """Every module ``module`` imports, absolute, with its line (relative imports resolved)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append((target, node.lineno))
            # `from seedvr import batch` imports the module seedvr.batch, not the root.
            if target == "seedvr":
                names.extend((f"seedvr.{alias.name}", node.lineno) for alias in node.names)
    return names


def _layer_name(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


MODULES = _modules()


def test_every_library_module_has_a_layer() -> None:
    unplaced = sorted({_layer_name(module) for module, _ in MODULES} - set(LAYER_OF))
    assert not unplaced, f"add {unplaced} to LAYERS here and in docs/architecture.md"


def test_the_library_never_imports_prefect_or_flows() -> None:
    offending = [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target}"
        for module, path in MODULES
        for target, line in _imported(module, path)
        if target.split(".")[0] in FORBIDDEN_IN_LIBRARY
    ]
    assert not offending, "\n".join(offending)


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, path in MODULES:
        own = LAYER_OF[_layer_name(module)]
        for target, line in _imported(module, path):
            if not target.startswith("seedvr.") or (module, target) in KNOWN_EXCEPTIONS:
                continue
            if LAYER_OF.get(_layer_name(target), -1) > own:
                upward.append(f"{path.relative_to(PROJECT_ROOT)}:{line} ({_layer_name(module) or 'seedvr'}) imports {target}")
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)


def test_known_exceptions_are_still_needed() -> None:
    imports = {(module, target) for module, path in MODULES for target, _ in _imported(module, path)}
    assert KNOWN_EXCEPTIONS <= imports, f"remove stale exceptions: {sorted(KNOWN_EXCEPTIONS - imports)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    from seedvr.registry.models import x\n", "seedvr.registry.models"),
        ("from seedvr import batch\n", "seedvr.batch"),
        ("import prefect.flows\n", "prefect.flows"),
    ],
)
def test_function_local_and_package_imports_are_seen(tmp_path: Path, source: str, expected: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)

    assert expected in [target for target, _ in _imported("seedvr.engine.probe", path)]
