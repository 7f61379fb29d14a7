"""DVC helpers: the data version, the git commit, and deterministic source data.

- :func:`data_version` — the md5 ``data.dvc`` pins for ``data/`` (logged with every run);
- :func:`git_commit` — the ``HEAD`` sha, ``None`` outside git;
- :func:`ensure_source_data` — restore, pull or regenerate ``data/`` and check its hash;
- :func:`directory_md5` — DVC's directory hash, computed without starting DVC.
"""

from seedvr.versioning.dvc_files import TrackedOutput, data_version, dvc_file_for, read_tracked_output
from seedvr.versioning.dvc_hash import directory_md5, file_md5, path_md5
from seedvr.versioning.git import git_commit, git_is_dirty
from seedvr.versioning.source_data import EnsureResult, ensure_source_data, params_mismatch

__all__ = [
    "EnsureResult",
    "TrackedOutput",
    "data_version",
    "directory_md5",
    "dvc_file_for",
    "ensure_source_data",
    "file_md5",
    "git_commit",
    "git_is_dirty",
    "params_mismatch",
    "path_md5",
    "read_tracked_output",
]
