"""Hand-written metrics.json documents for the gate tests (inputs, not results)."""

from __future__ import annotations


def metrics_doc(
    seedvr: tuple[float, float | None],
    baselines: dict[str, tuple[float, float | None]],
    split: str = "test",
    clips: int = 2,
    frames: int = 16,
) -> dict:
    """A metrics.json-shaped input: ``(psnr_mask, ewarp)`` per method."""
    methods = {name: {"psnr_mask": psnr, "ewarp": ewarp} for name, (psnr, ewarp) in {"seedvr": seedvr, **baselines}.items()}
    return {"split": split, "clips": clips, "frames": frames, "methods": methods}
