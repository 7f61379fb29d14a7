"""The ``damage`` stage of ``dvc.yaml``: the damaged dataset built from ``params.yaml`` alone.

A DVC stage's command should take every value from ``params.yaml``: then the ``params:``
keys DVC tracks are exactly the values the stage used, and ``dvc repro`` re-runs it when,
and only when, one of them changes. DVC can interpolate scalars into a command line but not
lists (``damage.kinds``), so the stage reads its sections itself here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seedvr.config import Params
from seedvr.data.build import build_damaged_dataset


def run_damage_stage(params: Params, repo_root: str | Path = ".", progress: Callable[[str], None] | None = None) -> Path:
    """Build the damaged dataset from ``params.data.dir`` into ``params.damage.out``.

    Every argument comes from the ``data`` and ``damage`` sections; returns the manifest path.
    """
    root = Path(repo_root)
    damage = params.damage
    return build_damaged_dataset(
        root / params.data.dir,
        root / damage.out,
        seed=damage.seed,
        kinds=damage.kinds,
        mask_ratio=damage.mask_ratio,
        val_fraction=damage.val_fraction,
        test_fraction=damage.test_fraction,
        progress=progress,
    )
