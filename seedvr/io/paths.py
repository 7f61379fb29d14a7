"""Parent folders an output needs, created so that a failed write can take them back."""

from __future__ import annotations

from pathlib import Path


def make_missing_parents(target: Path) -> Path | None:
    """Create the missing parent folders of ``target``; return the topmost one created.

    The caller deletes that folder if its work then fails, so an error leaves no trace,
    not even an empty folder.
    """
    missing = [parent for parent in Path(target).absolute().parents if not parent.exists()]
    if not missing:
        return None
    topmost = missing[-1]
    Path(target).absolute().parent.mkdir(parents=True)
    return topmost
