"""Import the APA authors' ImageNet checkpoints (SE-/CBAM-ResNet-50 with AGLU and APA).

Their state dicts use torchvision's ResNet names with their own names for the new modules:

    ours                                  the authors'
    act1 (stem)                           relu
    layerK.i.act1 / act2 / act3           layerK.i.unirect1 / unirect2 / unirect3
    layerK.i.attention.norm / fc1 / fc2   layerK.i.se.norm / excitation.0 / excitation.2
    layerK.i.attention.gate               layerK.i.se.uniact
    ....attention.channel_gate.norm       ....cbam.ChannelGate.norm
    ....attention.channel_gate.fc1 / fc2  ....cbam.ChannelGate.mlp.1 / mlp.3
    ....attention.channel_gate.gate       ....cbam.ChannelGate.uniact
    ....attention.spatial_gate.conv / bn  ....cbam.SpatialGate.spatial.conv / spatial.bn
    ....attention.spatial_gate.gate       ....cbam.SpatialGate.uniact
    <activation>.lambda_ / .kappa         <activation>.lambda_param / .kappa_param

Everything else (convolutions, batch norms, ``downsample``, the cosine head's ``fc.weight``) has the
same name in both.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "from_reference_key",
    "load_reference_checkpoint",
    "to_reference_key",
    "to_reference_state_dict",
]

logger = logging.getLogger(__name__)

# Top-level module paths (ours -> theirs).
_STEM = {("act1",): ("relu",)}
# Module paths inside a residual block ``layerK.i.`` (ours -> theirs), matched as prefixes.
_BLOCK = {
    ("act1",): ("unirect1",),
    ("act2",): ("unirect2",),
    ("act3",): ("unirect3",),
    ("attention", "norm"): ("se", "norm"),
    ("attention", "fc1"): ("se", "excitation", "0"),
    ("attention", "fc2"): ("se", "excitation", "2"),
    ("attention", "gate"): ("se", "uniact"),
    ("attention", "channel_gate", "norm"): ("cbam", "ChannelGate", "norm"),
    ("attention", "channel_gate", "fc1"): ("cbam", "ChannelGate", "mlp", "1"),
    ("attention", "channel_gate", "fc2"): ("cbam", "ChannelGate", "mlp", "3"),
    ("attention", "channel_gate", "gate"): ("cbam", "ChannelGate", "uniact"),
    ("attention", "spatial_gate", "conv"): ("cbam", "SpatialGate", "spatial", "conv"),
    ("attention", "spatial_gate", "bn"): ("cbam", "SpatialGate", "spatial", "bn"),
    ("attention", "spatial_gate", "gate"): ("cbam", "SpatialGate", "uniact"),
}
_PARAMS = {"lambda_": "lambda_param", "kappa": "kappa_param"}
_BLOCK_PREFIX = re.compile(r"layer\d+")
_MAX_LISTED = 20


def _invert(table: Mapping[Any, Any]) -> dict[Any, Any]:
    return {value: key for key, value in table.items()}


def _rename(key: str, stem: Mapping, block: Mapping, params: Mapping) -> str:
    """Rename the module path of ``key`` by prefix tables and its last part by ``params``."""
    *path, leaf = key.split(".")
    start, table = (2, block) if len(path) > 2 and _BLOCK_PREFIX.fullmatch(path[0]) else (0, stem)
    rest = tuple(path[start:])
    for length in range(len(rest), 0, -1):  # longest matching prefix wins
        if rest[:length] in table:
            rest = table[rest[:length]] + rest[length:]
            break
    return ".".join([*path[:start], *rest, params.get(leaf, leaf)])


def to_reference_key(key: str) -> str:
    """Our state-dict key in the authors' naming.

    Example:
        >>> to_reference_key("layer1.0.attention.gate.lambda_")
        'layer1.0.se.uniact.lambda_param'
    """
    return _rename(key, _STEM, _BLOCK, _PARAMS)


def from_reference_key(key: str) -> str:
    """The authors' state-dict key in our naming.

    Example:
        >>> from_reference_key("layer2.3.cbam.ChannelGate.mlp.3.weight")
        'layer2.3.attention.channel_gate.fc2.weight'
    """
    return _rename(key, _invert(_STEM), _invert(_BLOCK), _invert(_PARAMS))


def to_reference_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """``model``'s state dict under the authors' names (the inverse of the import)."""
    return {to_reference_key(key): value for key, value in model.state_dict().items()}


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:_MAX_LISTED])
    more = len(keys) - _MAX_LISTED
    return f"[{shown}{f', … ({more} more)' if more > 0 else ''}]"


def _read(path_or_dict: str | os.PathLike | Mapping[str, Any], weights_only: bool) -> dict:
    """The state dict: the ``"model"`` entry of a file or dict, or a bare state dict."""
    if isinstance(path_or_dict, str | os.PathLike):
        if not os.path.isfile(path_or_dict):
            raise FileNotFoundError(
                f"no checkpoint at {os.fspath(path_or_dict)!r}; pass the path of the authors' "
                ".pth file (a dict with a 'model' state dict)"
            )
        # The authors' files also hold the training arguments as an argparse.Namespace.
        with torch.serialization.safe_globals([argparse.Namespace]):
            checkpoint = torch.load(path_or_dict, map_location="cpu", weights_only=weights_only)
    elif isinstance(path_or_dict, Mapping):
        checkpoint = path_or_dict
    else:
        raise TypeError(f"path_or_dict must be a path or a dict, got {type(path_or_dict).__name__}")
    state_dict = checkpoint.get("model", checkpoint) if isinstance(checkpoint, Mapping) else None
    if not isinstance(state_dict, Mapping) or not all(
        isinstance(value, Tensor) for value in state_dict.values()
    ):
        raise ValueError(
            "the checkpoint is neither {'model': state_dict, ...} nor a state dict of tensors"
        )
    if state_dict and all(key.startswith("module.") for key in state_dict):
        state_dict = {key.removeprefix("module."): value for key, value in state_dict.items()}
    return dict(state_dict)


def load_reference_checkpoint(
    model: nn.Module,
    path_or_dict: str | os.PathLike | Mapping[str, Any],
    *,
    weights_only: bool = True,
) -> nn.Module:
    """Load one of the authors' checkpoints into our model, every tensor matched (strict).

    Build the model to match, e.g. ``create("se_resnet50", 1000, act_layer="aglu",
    gate_layer="apa", head="cosine")`` (or ``"cbam_resnet50"``). Keys are renamed as the module
    docstring shows; λ and κ of shape ``(1,)`` load into ``lambda_`` and ``kappa``. A DDP
    ``module.`` prefix is removed.

    Args:
        model: the model to fill, in place.
        path_or_dict: a ``.pth`` file or an already-loaded dict, either ``{"model": state_dict,
            ...}`` or the state dict itself.
        weights_only: load the file with ``torch.load(weights_only=True)`` (tensors, plain
            containers and ``argparse.Namespace`` only). Set ``False`` only for files you trust.

    Returns:
        ``model``, with the checkpoint's values.

    Raises:
        ValueError: a key missing from the checkpoint, a key the model lacks, or a shape
            mismatch; the message lists them in the authors' naming.
        FileNotFoundError: ``path_or_dict`` names no file.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    reference = _read(path_or_dict, weights_only)
    renamed = {from_reference_key(key): value for key, value in reference.items()}
    expected = model.state_dict()

    missing = [to_reference_key(key) for key in expected if key not in renamed]
    unexpected = [to_reference_key(key) for key in renamed if key not in expected]
    if missing or unexpected:
        raise ValueError(
            f"the checkpoint does not match the model: missing {_listing(missing)}, unexpected "
            f"{_listing(unexpected)}; build the model to match, e.g. create('se_resnet50', "
            "1000, act_layer='aglu', gate_layer='apa', head='cosine')"
        )
    mismatched = [
        f"{to_reference_key(key)} {tuple(value.shape)} vs {tuple(expected[key].shape)}"
        for key, value in renamed.items()
        if value.shape != expected[key].shape
    ]
    if mismatched:
        raise ValueError(
            f"the checkpoint's shapes differ from the model's (checkpoint vs model): "
            f"{_listing(mismatched)}; check num_classes and the model name"
        )
    model.load_state_dict(renamed, strict=True)
    logger.info("loaded %d reference tensors into %s", len(renamed), type(model).__name__)
    return model
