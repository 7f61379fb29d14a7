"""The repair methods a user can choose, by name: the one list everything else reads.

Config validation (``evaluate.methods`` in params.yaml), the command line's help and checks,
batch settings, evaluation and the engine all take their names from :data:`METHODS`. The
engine builds each one (:func:`seedvr.engine.methods.make_method`): the model for
``uses_model`` methods, :data:`seedvr.baselines.CLASSICAL_METHODS` for the others. Nothing
here imports torch, so reading the list costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from seedvr.errors import SeedVRError


@dataclass(frozen=True)
class MethodInfo:
    """One repair method: its name, what it is, and whether it needs a trained model."""

    name: str
    description: str
    uses_model: bool = False


METHODS: Mapping[str, MethodInfo] = MappingProxyType(
    {
        info.name: info
        for info in (
            MethodInfo("seedvr", "the diffusion model", uses_model=True),
            MethodInfo("propagate", "optical-flow propagation fused over several flow estimates, smooth fill (model's start)"),
            MethodInfo("telea", "OpenCV Telea inpainting, frame by frame"),
            MethodInfo("ns", "OpenCV Navier-Stokes inpainting, frame by frame"),
        )
    }
)
METHOD_NAMES: tuple[str, ...] = tuple(METHODS)
MODEL_METHOD = "seedvr"  # the method whose quality training and promotion are about


def method_choices() -> str:
    """``seedvr | propagate | telea | ns``: the choices, as a command's help shows them."""
    return " | ".join(METHOD_NAMES)


def check_method(name: str) -> MethodInfo:
    """The method called ``name``.

    Raises:
        SeedVRError: no method has that name (the message lists the choices).
    """
    if name not in METHODS:
        raise SeedVRError(f"unknown method {name!r}; choose one of {', '.join(METHOD_NAMES)}")
    return METHODS[name]
