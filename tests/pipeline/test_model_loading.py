"""A model folder loads only when it is exactly what it claims: one line for anything else.

Each test copies a saved tiny pipeline, damages one thing the way a user (or an attacker)
could, and expects a :class:`ModelLoadError` naming the component, never a half-random model,
a traceback or an imported module.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from seedvr.modelstore.folder import MODEL_INDEX, ModelLoadError
from seedvr.pipeline.loading import load_pipeline
from seedvr.pipeline.pipeline import SeedVRPipeline

WEIGHTS = "diffusion_pytorch_model.safetensors"


@pytest.fixture
def model_copy(tiny_pipeline_dir, tmp_path) -> Path:
    """A private copy of the session's tiny pipeline, free to damage."""
    return Path(shutil.copytree(tiny_pipeline_dir, tmp_path / "model"))


def edit_json(path: Path, **changes) -> None:
    content = json.loads(path.read_text())
    content.update(changes)
    path.write_text(json.dumps(content))


def config_value(folder: Path, component: str, key: str):
    return json.loads((folder / component / "config.json").read_text())[key]


@pytest.mark.parametrize(("change", "problem"), [(+1, "weights missing"), (-1, "weights unexpected")])
def test_a_config_edited_apart_from_its_weights_is_refused(model_copy, change, problem):
    # diffusers loads this with a warning: one more block initialised at random, or one ignored.
    depth = config_value(model_copy, "denoiser", "depth")
    edit_json(model_copy / "denoiser" / "config.json", depth=depth + change)
    with pytest.raises(ModelLoadError, match=f"^--model m: denoiser: config.json does not match its weights: 12 {problem} "):
        load_pipeline(model_copy, label="--model m")


def test_weights_of_the_wrong_shape_are_one_line(model_copy):
    # diffusers stops with a multi-line RuntimeError from torch's load_state_dict here.
    weights_file = model_copy / "temporal_encoder" / WEIGHTS
    weights = load_file(weights_file)
    name = sorted(key for key, tensor in weights.items() if tensor.ndim >= 2)[0]
    weights[name] = torch.zeros(weights[name].shape[0] + 1, *weights[name].shape[1:])
    save_file(weights, weights_file)
    with pytest.raises(ModelLoadError) as caught:
        SeedVRPipeline.from_pretrained(model_copy)
    message = str(caught.value)
    assert "\n" not in message
    assert f"temporal_encoder: config.json does not match its weights: 1 weight of the wrong shape ({name} " in message


def test_a_foreign_class_in_model_index_is_refused_and_never_imported(model_copy, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    module = tmp_path / "planted" / "seedvr_planted_module.py"
    module.parent.mkdir()
    module.write_text(f"open({str(marker)!r}, 'w').close()\nclass Net:\n    pass\n")
    monkeypatch.syspath_prepend(str(module.parent))
    for library, class_name in (("seedvr_planted_module", "Net"), ("diffusers", "UNet2DModel")):
        edit_json(model_copy / MODEL_INDEX, denoiser=[library, class_name])
        with pytest.raises(ModelLoadError, match=f"names {library}.{class_name} for denoiser; only SeedVR's own"):
            load_pipeline(model_copy)
    assert not marker.exists() and "seedvr_planted_module" not in sys.modules


def test_a_component_missing_from_model_index_is_refused(model_copy):
    index = json.loads((model_copy / MODEL_INDEX).read_text())
    del index["texture_net"]
    (model_copy / MODEL_INDEX).write_text(json.dumps(index))
    expected = "components differ from a SeedVRPipeline's \\(missing: texture_net; unknown: none\\)"
    with pytest.raises(ModelLoadError, match=expected):
        load_pipeline(model_copy)


def test_a_config_setting_the_model_does_not_take_is_refused(model_copy):
    # diffusers would drop a misspelt setting with a warning and build the default.
    edit_json(model_copy / "detail_net" / "config.json", num_blokcs=3)
    expected = "detail_net: config.json has settings DetailRestorationNetwork does not take: num_blokcs$"
    with pytest.raises(ModelLoadError, match=expected):
        load_pipeline(model_copy)


def test_a_config_value_that_builds_nothing_is_one_line(model_copy):
    edit_json(model_copy / "denoiser" / "config.json", depth="four")
    with pytest.raises(ModelLoadError, match="denoiser: config.json does not build a SeedVRDenoiser"):
        load_pipeline(model_copy)


def test_truncated_weights_are_one_line(model_copy):
    weights_file = model_copy / "texture_net" / WEIGHTS
    weights_file.write_bytes(weights_file.read_bytes()[:-100])
    with pytest.raises(ModelLoadError, match=f"texture_net: {WEIGHTS} is not a readable safetensors file"):
        load_pipeline(model_copy)


def test_an_untouched_copy_loads_with_its_saved_weights(model_copy, tiny_pipeline_dir):
    loaded = load_pipeline(model_copy)
    original = load_file(Path(tiny_pipeline_dir) / "denoiser" / WEIGHTS)
    for name, tensor in loaded.denoiser.state_dict().items():
        torch.testing.assert_close(tensor, original[name], rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_requested_precision_is_applied_without_a_warning(tiny_pipeline_dir, recwarn, dtype):
    # diffusers logs its warnings to its own logger (which does not propagate), not through
    # Python's warnings: listen to it directly.
    logged: list[logging.LogRecord] = []
    listener = logging.Handler(logging.WARNING)
    listener.emit = logged.append
    library_logger = logging.getLogger("diffusers")
    library_logger.addHandler(listener)
    try:
        pipeline = load_pipeline(tiny_pipeline_dir, "cpu", dtype)
    finally:
        library_logger.removeHandler(listener)
    for component in pipeline.components.values():
        if isinstance(component, torch.nn.Module):
            assert {parameter.dtype for parameter in component.parameters()} == {dtype}
    assert not [warning for warning in recwarn if "dtype" in str(warning.message)]
    assert not [record.getMessage() for record in logged]
