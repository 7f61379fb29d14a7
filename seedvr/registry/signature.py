"""The registered model's interface: one row per video to repair, one report row back.

Kept apart from :mod:`seedvr.registry.pyfunc_model` because that file is MLflow
"model code" (executed when the model loads) and must not be imported for its constants.
"""

from __future__ import annotations

from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

INPUT_COLUMNS: tuple[str, ...] = ("video_path", "mask_path", "output_path")

# (column, MLflow type) of every report row predict returns.
OUTPUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("video_path", "string"),
    ("mask_path", "string"),
    ("output_path", "string"),
    ("frames", "long"),
    ("width", "long"),
    ("height", "long"),
    ("fps", "string"),
    ("masked_fraction", "double"),
    ("seconds", "double"),
    ("frames_per_second", "double"),
)

# Inference parameters, same meaning and defaults as `seedvr repair`.
# steps None: the pipeline's own num_inference_steps.
PARAM_SPECS: tuple[tuple[str, str, object], ...] = (
    ("steps", "long", None),
    ("seed", "long", 0),
    ("chunk", "long", 32),
    ("overlap", "long", 8),
    ("device", "string", "auto"),
    ("precision", "string", "fp32"),
)
PARAM_DEFAULTS: dict[str, object] = {name: default for name, _, default in PARAM_SPECS}


def repair_signature() -> ModelSignature:
    """Input paths, output report columns and the inference params schema."""
    return ModelSignature(
        inputs=Schema([ColSpec("string", name) for name in INPUT_COLUMNS]),
        outputs=Schema([ColSpec(kind, name) for name, kind in OUTPUT_COLUMNS]),
        params=ParamSchema([ParamSpec(name, kind, default) for name, kind, default in PARAM_SPECS]),
    )
