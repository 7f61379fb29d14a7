"""The registered ``seedvr-repair`` model, as MLflow "models from code".

MLflow stores this file (not a pickle) with the model and executes it when the model loads;
the pipeline weights travel as the ``pipeline`` artifact (a ``save_pretrained`` folder). The
``seedvr`` package itself must be installed where the model is loaded (it is not on PyPI, so
it is not in the model's pip requirements).

Input: a DataFrame with string columns ``video_path``, ``mask_path``, ``output_path``.
Params: ``steps``, ``seed``, ``chunk``, ``overlap``, ``device``, ``precision``.
Output: one report row per video (frames, size, fps, masked fraction, seconds, speed).
"""

from __future__ import annotations

import os

import pandas as pd

import mlflow
from seedvr.engine.methods import resolve_device, resolve_dtype
from seedvr.pipeline.loading import load_pipeline
from seedvr.registry.serving import merged_params, place_pipeline, repair_table

DEVICE_ENV = "SEEDVR_DEVICE"  # where load_context puts the pipeline (default auto)


class SeedVRRepairModel(mlflow.pyfunc.PythonModel):
    """Streaming video repair with the SeedVR pipeline shipped as the ``pipeline`` artifact."""

    def load_context(self, context) -> None:
        """Load the pipeline once; every ``predict`` call reuses it."""
        device = resolve_device(os.environ.get(DEVICE_ENV, "auto"))
        self.pipeline = load_pipeline(context.artifacts["pipeline"], device, resolve_dtype("fp32", device))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Repair every row's video inside its mask into its output path; one report row each."""
        settings = merged_params(params)
        self.pipeline = place_pipeline(self.pipeline, str(settings["device"]), str(settings["precision"]))
        return repair_table(self.pipeline, model_input, settings)


mlflow.models.set_model(SeedVRRepairModel())
