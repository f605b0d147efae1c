"""Rebuild the model to analyse: a run folder, its checkpoint, or any nn.Module by import path."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from aglu.analysis.run_files import find_checkpoint, find_run_config, read_config, read_state_dict

__all__ = ["LoadedModel", "ModelRebuildError", "import_object", "load_model"]

logger = logging.getLogger(__name__)


class ModelRebuildError(ValueError):
    """A checkpoint whose model cannot be rebuilt; the message names what is missing."""


@dataclass
class LoadedModel:
    """A model ready to analyse, with the run config it came from (empty for an import path)."""

    model: nn.Module
    config: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None


def import_object(spec: str):
    """Import ``package.module:attribute`` (e.g. ``torchvision.models:resnet18``)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{spec!r} is not an import path; write it as package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelRebuildError(f"cannot import {module_name!r} from {spec!r}: {error}") from error
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ModelRebuildError(f"{module_name!r} has no attribute {attribute!r} ({spec!r})")
        target = getattr(target, part)
    return target


def _load_weights(model: nn.Module, checkpoint: Path) -> None:
    """Load a checkpoint's weights strictly; a mismatch names the missing and unexpected keys."""
    state_dict = read_state_dict(checkpoint)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise ModelRebuildError(
            f"{checkpoint} does not fit the rebuilt {type(model).__name__}: "
            f"{len(missing)} missing key(s) {missing[:5]}, {len(unexpected)} unexpected key(s) "
            f"{unexpected[:5]}; check the model (--model / config.yaml's model section)"
        )


def _from_import_path(path: Path, spec: str, model_kwargs: dict[str, Any] | None) -> LoadedModel:
    factory = import_object(spec)
    if not callable(factory):
        raise ModelRebuildError(f"{spec!r} is not callable; point --model at a model factory")
    model = factory(**(model_kwargs or {}))
    if not isinstance(model, nn.Module):
        raise ModelRebuildError(f"{spec!r} returned {type(model).__name__}, not an nn.Module")
    checkpoint = find_checkpoint(path) if path.is_dir() else path
    _load_weights(model, checkpoint)
    return LoadedModel(model, {}, path)


def _from_run_config(path: Path) -> LoadedModel:
    """Rebuild with ``aglu.models.create(**config["model"])`` and load the run's weights."""
    config_path = find_run_config(path)
    if config_path is None:
        raise ModelRebuildError(
            f"cannot rebuild a model from {path}: no config.yaml in its run folder; "
            "pass --model package.module:factory for a model of your own"
        )
    config = read_config(config_path)
    model_section = config.get("model")
    if not isinstance(model_section, dict) or "name" not in model_section:
        raise ModelRebuildError(
            f"{config_path} has no model section with a name; it needs the keyword arguments "
            "of aglu.models.create (name, num_classes, ...)"
        )
    try:
        from aglu.models import create
    except ImportError as error:
        raise ModelRebuildError(
            f"aglu.models is not available to rebuild {path}: {error}"
        ) from error
    try:
        model = create(**model_section)
    except (TypeError, ValueError, KeyError) as error:
        raise ModelRebuildError(
            f"cannot rebuild the model of {config_path} from its model section "
            f"{model_section}: {error}"
        ) from error
    _load_weights(model, find_checkpoint(path) if path.is_dir() else path)
    return LoadedModel(model, config, path)


def _with_engine_loader(path: Path) -> LoadedModel | None:
    """Use ``aglu.train.load_model`` (the config saved in the checkpoint) when it can.

    Returns None when the engine is not installed or the checkpoint carries no config of its
    own (a hand-written run folder); the caller then rebuilds from ``config.yaml``.
    """
    try:
        from aglu.train import load_model as engine_load_model
    except ImportError:
        return None
    try:
        model, config = engine_load_model(path)
    except (ValueError, KeyError, FileNotFoundError) as error:
        logger.info("aglu.train.load_model cannot rebuild %s (%s); using config.yaml", path, error)
        return None
    if hasattr(config, "to_dict"):
        config = config.to_dict()
    return LoadedModel(model, dict(config or {}), path)


def load_model(
    path: str | Path, model: str | None = None, model_kwargs: dict[str, Any] | None = None
) -> LoadedModel:
    """Rebuild a trained model from a run folder or checkpoint, in eval mode.

    Args:
        path: a run folder (``config.yaml`` + ``checkpoints/``) or a checkpoint file (a Lightning
            checkpoint, ``{"model": state_dict}`` or a plain state dict).
        model: an import path ``package.module:factory`` that builds the model for a checkpoint
            outside a run folder; the checkpoint must then hold its state dict.
        model_kwargs: keyword arguments of that factory.

    Raises:
        FileNotFoundError: the path or the run's checkpoint does not exist.
        ModelRebuildError: what the model needs (config, module, matching weights) is missing.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r} does not exist; give a run folder or a checkpoint")
    if model is not None:
        loaded = _from_import_path(path, model, model_kwargs)
    elif find_run_config(path) is None:
        raise ModelRebuildError(
            f"cannot rebuild a model from {path}: no config.yaml in its run folder; "
            "pass --model package.module:factory for a model of your own"
        )
    else:
        loaded = _with_engine_loader(path) or _from_run_config(path)
    loaded.model.eval()
    return loaded
