"""Classical repair methods the learned model is compared against (and falls back to)."""

from seedvr.baselines.classical import CLASSICAL_METHODS, classical_method, inpaint_frames

__all__ = ["CLASSICAL_METHODS", "classical_method", "inpaint_frames"]
