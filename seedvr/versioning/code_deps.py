"""The project's source files a DVC stage runs, found by following its imports.

A stage's ``deps:`` in ``dvc.yaml`` must name every file of ``seedvr`` its command can
execute, or editing that file leaves the stage's outputs stale while ``dvc status`` says
"up to date". Listed by hand, they drift from the imports; this module computes them, and
``tests/versioning/test_stage_code_deps.py`` holds ``dvc.yaml`` to it (its failure lists the
files to add and the deps to drop).

The walk is static (the source is parsed, never imported) and errs on the side of listing too
much, never too little:

* a stage's entry is the module defining the command it runs (``seedvr data damage`` ->
  ``seedvr.cli.data_version``), as the command line resolves it;
* every ``import`` counts, also those inside functions (they run when the function does);
* importing ``seedvr.a.b`` runs ``seedvr/__init__.py`` and ``seedvr/a/__init__.py`` too;
* ``from package import name`` where the package loads ``name`` lazily (a PEP 562
  ``_LAZY_EXPORTS``-style mapping of names to module strings, see :mod:`seedvr._lazy`) counts
  the module that provides ``name``, and ``importlib.import_module("seedvr....")`` with a
  literal name counts that module. ``seedvr/cli/__init__.py`` registers the other commands'
  modules by computed names, which the walk does not follow: the stage never runs them.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "seedvr"


def module_path(module: str, root: Path) -> Path | None:
    """The file that defines ``module`` under ``root`` (a module or a package's ``__init__``)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def is_package(module: str, root: Path) -> bool:
    return (root.joinpath(*module.split(".")) / "__init__.py").is_file()


@cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def lazy_exports(package: str, root: Path) -> dict[str, str]:
    """``{name: module}`` of a package ``__init__`` that loads names on first use."""
    init = module_path(package, root)
    exports: dict[str, str] = {}
    if init is None or init.name != "__init__.py":
        return exports
    for node in ast.walk(_parse(init)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and value.value.startswith(f"{PACKAGE}.")
                ):
                    exports[key.value] = value.value
    return exports


def _resolve_relative(node: ast.ImportFrom, module: str, is_init: bool) -> str | None:
    if not node.level:
        return node.module
    parts = module.split(".") if is_init else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def direct_imports(module: str, root: Path) -> set[str]:
    """The ``seedvr`` modules ``module``'s own source imports (anywhere in the file)."""
    path = module_path(module, root)
    if path is None:
        return set()
    found: set[str] = set()
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve_relative(node, module, path.name == "__init__.py")
            if source is None:
                continue
            found.add(source)
            if is_package(source, root):
                lazy = lazy_exports(source, root)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if module_path(submodule, root) is not None:
                        found.add(submodule)
                    elif alias.name in lazy:
                        found.add(lazy[alias.name])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return {name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}.")}


def _with_parent_packages(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def imported_files(entry: str, root: str | Path = ".") -> set[str]:
    """Every ``seedvr`` source file running ``entry`` may execute, as paths relative to ``root``."""
    root = Path(root)
    seen: set[str] = set()
    pending = [entry]
    while pending:
        for module in _with_parent_packages(pending.pop()):
            if module in seen or module_path(module, root) is None:
                continue
            seen.add(module)
            pending.extend(direct_imports(module, root))
    return {module_path(module, root).relative_to(root).as_posix() for module in seen}


def covered(path: str, deps: list[str]) -> bool:
    """Whether ``path`` is one of ``deps`` or inside a folder among them."""
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def code_dep_gaps(stage_deps: list[str], files: set[str]) -> dict[str, list[str]]:
    """Code files a stage runs that none of its deps covers (``missing``), and its
    ``seedvr/...`` deps that cover none of them (``unused``: they only cause re-runs)."""
    code_deps = [dep for dep in stage_deps if dep == PACKAGE or dep.startswith(f"{PACKAGE}/")]
    return {
        "missing": sorted(path for path in files if not covered(path, stage_deps)),
        "unused": sorted(dep for dep in code_deps if not any(covered(path, [dep]) for path in files)),
    }
