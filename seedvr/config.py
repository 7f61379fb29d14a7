"""One typed schema for ``params.yaml``.

Every stage (DVC stage, Prefect task, CLI command) reads its own section from
:class:`Params`, so a typo or an absurd value is rejected once, up front, with a readable
message instead of failing halfway through a stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from seedvr.errors import SeedVRError

DAMAGE_KINDS: tuple[str, ...] = ("scratch", "blotch", "dust", "stroke", "object", "logo")


class Section(BaseModel):
    """Base for every section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceDataParams(Section):
    """Procedural source clips (``seedvr synth``), tracked by DVC in ``data/``."""

    dir: str = "data"
    clips: int = Field(8, ge=1, le=10_000)
    frames: int = Field(16, ge=1, le=100_000)
    width: int = Field(96, ge=8, le=8192)
    height: int = Field(64, ge=8, le=8192)
    fps: str = "24"
    seed: int = 0


class DamageParams(Section):
    """Synthetic damage applied to the source clips (``seedvr damage``)."""

    out: str = "work/damaged"
    kinds: tuple[str, ...] = DAMAGE_KINDS
    mask_ratio: tuple[float, float] = (0.01, 0.25)
    val_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    seed: int = 1

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(kinds) - set(DAMAGE_KINDS))
        if unknown or not kinds:
            raise ValueError(f"unknown damage kind(s) {unknown}; choose from {list(DAMAGE_KINDS)}")
        return kinds

    @field_validator("mask_ratio")
    @classmethod
    def _ordered_ratio(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        low, high = bounds
        if not 0.0 < low <= high < 1.0:
            raise ValueError(f"mask_ratio must satisfy 0 < low <= high < 1, got {low}:{high}")
        return bounds

    @model_validator(mode="after")
    def _room_for_training(self) -> "DamageParams":
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError("val_fraction + test_fraction must leave clips for training")
        return self


class ValidateParams(Section):
    """Bounds the Great Expectations suites check the damaged dataset against."""

    min_frames: int = Field(2, ge=1)
    mask_ratio: tuple[float, float] = (0.001, 0.5)


class Params(Section):
    """The whole of ``params.yaml``."""

    data: SourceDataParams = SourceDataParams()
    damage: DamageParams = DamageParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and check ``params.yaml``; a missing file or a bad value is a :class:`SeedVRError`."""
    path = Path(path)
    if not path.is_file():
        raise SeedVRError(f"params file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SeedVRError(f"{path} is not valid YAML: {error}") from None
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SeedVRError(f"{path}: {where}: {first['msg']}") from None
