"""A saved pipeline folder is checked before diffusers reads any of it.

diffusers trusts a folder more than a repair tool can: it imports whatever module and class
``model_index.json`` names, ignores config settings it does not know, and when a config does
not match its weights (a ``depth`` edited by hand) it warns and initialises the missing layers
at random, or stops with a long traceback when shapes differ. Here, before that:

* ``model_index.json`` must name the pipeline's own classes, component for component. The
  names are only compared with the classes this code defines; nothing a file names is ever
  imported.
* each component's config must name its class and only settings its constructor takes;
* each model built from its config (on the meta device: shapes only, no memory) must have
  exactly the safetensors weights of its folder: no key missing, none extra, every shape
  equal.

Anything else is a :class:`~seedvr.modelstore.folder.ModelLoadError`: one line naming the
folder, the component and what is wrong.
"""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path
from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFETENSORS_WEIGHTS_NAME
from safetensors import SafetensorError, safe_open

from seedvr.modelstore.folder import MODEL_INDEX, ModelLoadError, require_pipeline_folder
from seedvr.modelstore.registered import first_line

_NAMES_SHOWN = 3  # weight names quoted in a mismatch message; the rest are counted


def component_classes(pipeline_class: type) -> dict[str, type[ConfigMixin]]:
    """``{component: class}`` as the pipeline's constructor declares them."""
    hints = typing.get_type_hints(pipeline_class.__init__)
    return {name: hints[name] for name in inspect.signature(pipeline_class.__init__).parameters if name != "self"}


def verify_pipeline_folder(path: str | Path, pipeline_class: type, label: str | None = None) -> Path:
    """``path`` as a :class:`Path` once it holds exactly a ``pipeline_class`` (see the module doc).

    ``label`` names the folder in errors the way the user gave it; default: the path.

    Raises:
        ModelLoadError: what makes the folder something else, in one line.
    """
    folder = require_pipeline_folder(path, label)
    name = label or str(folder)
    components = component_classes(pipeline_class)
    _check_model_index(_read_json_object(folder / MODEL_INDEX, name), pipeline_class, components, name)
    for component, component_class in components.items():
        where = f"{name}: {component}"
        config = _read_config(folder / component, component_class, where)
        if issubclass(component_class, ModelMixin):
            _check_weights(folder / component, component_class, config, where)
    return folder


def verify_model_folder(path: str | Path, model_class: type[ModelMixin], label: str | None = None) -> Path:
    """``path`` once it holds exactly one ``model_class`` saved alone (``save_pretrained`` of a
    model, not a pipeline): its config names the class and matches its safetensors weights.

    The same checks as each component of :func:`verify_pipeline_folder`, for a model shipped on
    its own (the damage detector).

    Raises:
        ModelLoadError: what makes the folder something else, in one line.
    """
    folder = Path(path)
    where = label or str(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"{where}: no such model folder")
    _check_weights(folder, model_class, _read_config(folder, model_class, where), where)
    return folder


def _read_json_object(path: Path, where: str) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"{where}: {path.name} is missing") from None
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{where}: {path.name} is not readable JSON ({error})") from None
    if not isinstance(content, dict):
        raise ModelLoadError(f"{where}: {path.name} must hold a JSON object")
    return content


def _qualified(component_class: type) -> str:
    return f"{component_class.__module__}.{component_class.__name__}"


def _check_model_index(index: dict[str, Any], pipeline_class: type, components: dict[str, type], where: str) -> None:
    if index.get("_class_name") != pipeline_class.__name__:
        raise ModelLoadError(f"{where}: {MODEL_INDEX} describes a {index.get('_class_name')!r}, not a {pipeline_class.__name__}")
    listed = {key: value for key, value in index.items() if not key.startswith("_")}
    if set(listed) != set(components):
        missing, unknown = sorted(set(components) - set(listed)), sorted(set(listed) - set(components))
        raise ModelLoadError(
            f"{where}: {MODEL_INDEX} components differ from a {pipeline_class.__name__}'s "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})"
        )
    for component, component_class in components.items():
        expected = [component_class.__module__, component_class.__name__]
        if listed[component] != expected:
            named = ".".join(map(str, listed[component])) if isinstance(listed[component], list) else repr(listed[component])
            raise ModelLoadError(
                f"{where}: {MODEL_INDEX} names {named} for {component}; only SeedVR's own "
                f"{_qualified(component_class)} is loaded (a foreign class is never imported)"
            )


def _read_config(component_dir: Path, component_class: type[ConfigMixin], where: str) -> dict[str, Any]:
    """The component's config, once it names ``component_class`` and only settings it takes."""
    config = _read_json_object(component_dir / component_class.config_name, where)
    if config.get("_class_name") != component_class.__name__:
        raise ModelLoadError(
            f"{where}: {component_class.config_name} is for {config.get('_class_name')!r}, not {component_class.__name__}"
        )
    accepted = set(inspect.signature(component_class.__init__).parameters) - {"self"}
    unknown = sorted(key for key in config if not key.startswith("_") and key not in accepted)
    if unknown:
        raise ModelLoadError(
            f"{where}: {component_class.config_name} has settings {component_class.__name__} does not take: {', '.join(unknown)}"
        )
    return config


def _weight_files(component_dir: Path, where: str) -> list[Path]:
    """The component's safetensors files: one, or the shards its index lists."""
    single = component_dir / SAFETENSORS_WEIGHTS_NAME
    if single.is_file():
        return [single]
    if not (component_dir / SAFE_WEIGHTS_INDEX_NAME).is_file():
        raise ModelLoadError(f"{where}: no safetensors weights ({SAFETENSORS_WEIGHTS_NAME})")
    weight_map = _read_json_object(component_dir / SAFE_WEIGHTS_INDEX_NAME, where).get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise ModelLoadError(f"{where}: {SAFE_WEIGHTS_INDEX_NAME} has no weight_map")
    shards = sorted(set(map(str, weight_map.values())))
    if any(Path(shard).name != shard for shard in shards):  # a shard must sit in the component's own folder
        raise ModelLoadError(f"{where}: {SAFE_WEIGHTS_INDEX_NAME} names shards outside its folder")
    return [component_dir / shard for shard in shards]


def _stored_shapes(files: list[Path], where: str) -> dict[str, tuple[int, ...]]:
    """``{weight name: shape}`` read from the safetensors headers (no tensor data is read)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        try:
            with safe_open(str(file), framework="pt") as weights:
                for key in weights.keys():  # noqa: SIM118 - a safetensors handle is not a dict
                    shapes[key] = tuple(weights.get_slice(key).get_shape())
        except (OSError, SafetensorError) as error:
            raise ModelLoadError(f"{where}: {file.name} is not a readable safetensors file ({error})") from None
    return shapes


def _expected_shapes(component_class: type[ModelMixin], config: dict[str, Any], where: str) -> dict[str, tuple[int, ...]]:
    """``{weight name: shape}`` of the model the config describes, built on the meta device."""
    try:
        with torch.device("meta"):
            model = component_class.from_config(config)
    # A config is data that the constructor runs on: whatever stops it from building a model
    # (a string for a depth, a width that does not divide into heads...) is the config's fault.
    except Exception as error:  # noqa: BLE001
        built = f"{component_class.config_name} does not build a {component_class.__name__}"
        raise ModelLoadError(f"{where}: {built} ({first_line(error)})") from None
    return {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}


def _check_weights(component_dir: Path, component_class: type[ModelMixin], config: dict[str, Any], where: str) -> None:
    expected = _expected_shapes(component_class, config, where)
    stored = _stored_shapes(_weight_files(component_dir, where), where)
    problems = []
    if missing := sorted(set(expected) - set(stored)):
        problems.append(f"{_weights(missing)} missing ({_some(missing)})")
    if unexpected := sorted(set(stored) - set(expected)):
        problems.append(f"{_weights(unexpected)} unexpected ({_some(unexpected)})")
    if resized := sorted(key for key in set(expected) & set(stored) if expected[key] != stored[key]):
        shown = ", ".join(f"{key} {list(stored[key])} instead of {list(expected[key])}" for key in resized[:_NAMES_SHOWN])
        problems.append(f"{_weights(resized)} of the wrong shape ({shown}{', ...' if len(resized) > _NAMES_SHOWN else ''})")
    if problems:
        raise ModelLoadError(f"{where}: {component_class.config_name} does not match its weights: {'; '.join(problems)}")


def _weights(names: list[str]) -> str:
    return f"{len(names)} weight" if len(names) == 1 else f"{len(names)} weights"


def _some(names: list[str]) -> str:
    return ", ".join(names[:_NAMES_SHOWN]) + (", ..." if len(names) > _NAMES_SHOWN else "")
