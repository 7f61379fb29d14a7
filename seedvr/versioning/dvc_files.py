"""Reading ``.dvc`` files: which content hash a tracked path is pinned to.

The md5 that ``data.dvc`` records for ``data/`` is the *data version*: MLflow runs log it
next to the git commit, so a run can be traced back to the exact bytes it trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from seedvr.errors import SeedVRError


@dataclass(frozen=True)
class TrackedOutput:
    """One ``outs`` entry of a ``.dvc`` file."""

    path: str
    md5: str
    size: int | None
    nfiles: int | None


def dvc_file_for(data_dir: str | Path) -> Path:
    """The ``.dvc`` file DVC writes for a tracked path: ``data`` -> ``data.dvc`` beside it."""
    data_dir = Path(data_dir)
    return data_dir.with_name(data_dir.name + ".dvc")


def read_tracked_output(dvc_file: str | Path) -> TrackedOutput:
    """The single output recorded in ``dvc_file``; a missing or malformed file is a user error."""
    dvc_file = Path(dvc_file)
    if not dvc_file.is_file():
        raise SeedVRError(f"{dvc_file} not found: track the data with `seedvr data ensure --update`")
    try:
        content = yaml.safe_load(dvc_file.read_text()) or {}
    except yaml.YAMLError as error:
        raise SeedVRError(f"{dvc_file} is not valid YAML: {error}") from None
    outs = content.get("outs") if isinstance(content, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        raise SeedVRError(f"{dvc_file} must record exactly one output under 'outs'")
    out = outs[0]
    md5 = out.get("md5")
    if not isinstance(md5, str) or not md5:
        raise SeedVRError(f"{dvc_file} records no md5 for its output")
    return TrackedOutput(
        path=str(out.get("path", "")),
        md5=md5,
        size=out.get("size"),
        nfiles=out.get("nfiles"),
    )


def data_version(repo_root: str | Path = ".", data_dir: str = "data") -> str:
    """The data version of a repository: the md5 that ``<data_dir>.dvc`` records.

    Read from the ``.dvc`` file (what git pins), not recomputed from the folder, so it names
    the version a commit promises even where the data has not been pulled.
    """
    return read_tracked_output(dvc_file_for(Path(repo_root) / data_dir)).md5
