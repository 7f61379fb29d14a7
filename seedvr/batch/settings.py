"""How every item of a batch is repaired: the settings of a run, checked once up front."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from seedvr.config import REPAIR_DEFAULTS
from seedvr.engine.methods import resolve_device, resolve_dtype
from seedvr.engine.streaming import check_chunking
from seedvr.errors import SeedVRError
from seedvr.io import OUTPUT_FORMATS
from seedvr.method_catalog import MODEL_METHOD, check_method

BATCH_OUTPUT_EXTENSIONS: tuple[str, ...] = tuple(sorted(OUTPUT_FORMATS))


def absolute_path(path: str | os.PathLike) -> Path:
    """``path`` made absolute once, by whoever plans the run: its workers may run in other folders."""
    return Path(path).expanduser().resolve()


@dataclass(frozen=True)
class RepairSettings:
    """How every item of a batch is repaired (the arguments of :func:`repair_video`).

    ``output_extension`` picks the output format (``.mkv`` FFV1 lossless by default).
    ``device`` is the only setting that does not enter :func:`~seedvr.batch.hashing.input_hash`: moving a batch
    from CPU to GPU must not redo finished work.
    """

    method: str = MODEL_METHOD
    model: str | None = None
    steps: int | None = None
    seed: int = 0
    chunk: int = REPAIR_DEFAULTS.chunk
    overlap: int = REPAIR_DEFAULTS.overlap
    device: str = "auto"
    precision: str = "fp32"
    mask_dilate: int = 0
    max_side: int | None = None
    crf: int = REPAIR_DEFAULTS.crf
    output_extension: str = ".mkv"

    @property
    def uses_model(self) -> bool:
        return self.method == MODEL_METHOD

    def check(self) -> None:
        """Reject a bad setting once, up front.

        Without this a wrong setting would surface per video, and every video would be
        quarantined as if *it* were bad (and skipped on later runs).
        """
        check_method(self.method)
        if self.uses_model and not self.model:
            raise SeedVRError("method seedvr needs a model (a pipeline folder or models:/NAME@ALIAS)")
        if self.steps is not None and self.steps < 1:
            raise SeedVRError(f"steps must be at least 1, got {self.steps}")
        check_chunking(self.chunk, self.overlap)
        if not 0 <= self.mask_dilate <= 256:
            raise SeedVRError(f"mask_dilate must be between 0 and 256 pixels, got {self.mask_dilate}")
        if self.max_side is not None and self.max_side < 8:
            raise SeedVRError(f"max_side must be at least 8 pixels, got {self.max_side}")
        if self.output_extension not in OUTPUT_FORMATS:
            raise SeedVRError(
                f"unsupported batch output extension {self.output_extension!r}; "
                f"choose one of {', '.join(BATCH_OUTPUT_EXTENSIONS)}"
            )
        OUTPUT_FORMATS[self.output_extension].check_crf(self.crf)
        if self.uses_model:
            resolve_dtype(self.precision, resolve_device(self.device))

    def output_defining(self, model_identity: str | None) -> dict:
        """The settings that change the output bytes, as they enter :func:`~seedvr.batch.hashing.input_hash`."""
        defining = {
            "method": self.method,
            "chunk": self.chunk,
            "overlap": self.overlap,
            "mask_dilate": self.mask_dilate,
            "max_side": self.max_side,
            "output_extension": self.output_extension,
        }
        if not OUTPUT_FORMATS[self.output_extension].lossless:
            defining["crf"] = self.crf
        if self.uses_model:
            # Classical methods are deterministic and ignore these; keeping them out means a
            # model promotion does not redo a telea batch.
            defining.update(model=model_identity, steps=self.steps, seed=self.seed, precision=self.precision)
        return defining
