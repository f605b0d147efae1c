"""The model registry: build any of the paper's networks by name."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from aglu.layers import get_activation_class
from aglu.models.attention import GateLayer, check_gate
from aglu.models.cifar_resnet import CifarResNet
from aglu.models.heads import check_head
from aglu.models.imagenet_resnet import ResNet

__all__ = ["MODELS", "create", "list_models"]

MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet32": partial(CifarResNet, depth=32),
    "se_resnet32": partial(CifarResNet, depth=32, attention="se"),
    "cbam_resnet32": partial(CifarResNet, depth=32, attention="cbam"),
    "resnet50": partial(ResNet, layers=(3, 4, 6, 3)),
    "se_resnet50": partial(ResNet, layers=(3, 4, 6, 3), attention="se"),
    "se_resnet101": partial(ResNet, layers=(3, 4, 23, 3), attention="se"),
    "se_resnet152": partial(ResNet, layers=(3, 8, 36, 3), attention="se"),
    "se_resnext50_32x4d": partial(
        ResNet, layers=(3, 4, 6, 3), attention="se", groups=32, width_per_group=4
    ),
    "cbam_resnet50": partial(ResNet, layers=(3, 4, 6, 3), attention="cbam"),
}


def list_models() -> list[str]:
    """The names :func:`create` accepts, sorted.

    Example:
        >>> "se_resnet32" in list_models()
        True
    """
    return sorted(MODELS)


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive int")


def create(
    name: str,
    num_classes: int,
    *,
    in_chans: int = 3,
    act_layer: str | type[nn.Module] = "relu",
    gate_layer: GateLayer = "sigmoid",
    head: str = "linear",
    **kwargs: Any,
) -> nn.Module:
    """Build the model ``name`` with the chosen activation, attention gate and classifier head.

    Args:
        name: one of :func:`list_models` (case-insensitive).
        num_classes: the number of classes.
        in_chans: the input's channels (1 for Fashion-MNIST). Default: 3.
        act_layer: every backbone activation (stem, inside blocks, after residual adds), each its
            own module: a name from :data:`aglu.layers.ACTIVATIONS` or a class. Default: ``"relu"``.
        gate_layer: the attention gate of SE / CBAM models, ``"sigmoid"`` or ``"apa"``; any
            other than ``"sigmoid"`` on a model without attention warns (it would change nothing).
        head: ``"linear"``, ``"cosine"`` (scale 16) or ``"learnable_cosine"``.
        kwargs: further arguments of the model class (:class:`CifarResNet` or :class:`ResNet`),
            e.g. ``act_kwargs``, ``gate_kwargs``, ``reduction``, ``se_style="hu"`` (Hu et al.'s
            SE block instead of the paper's).

    Raises:
        ValueError: an unknown model, activation, gate or head name (the message lists the known
            ones), or a ``num_classes`` / ``in_chans`` that is not a positive int.

    Example:
        >>> model = create("resnet32", num_classes=10)  # plain: 0.46 M parameters
        >>> sum(p.numel() for p in model.parameters())
        464154
        >>> model = create("se_resnet32", 100, act_layer="aglu", gate_layer="apa", head="cosine")
    """
    if not isinstance(name, str) or name.lower() not in MODELS:
        raise ValueError(f"unknown model {name!r}; use one of {list_models()}")
    _check_positive_int("num_classes", num_classes)
    _check_positive_int("in_chans", in_chans)
    get_activation_class(act_layer)  # raises ValueError naming the known activations
    check_gate(gate_layer)
    check_head(head)
    builder = MODELS[name.lower()]
    if gate_layer != "sigmoid" and getattr(builder, "keywords", {}).get("attention") is None:
        warnings.warn(
            f"{name} has no attention gate, so gate_layer={gate_layer!r} changes nothing; "
            "use an se_ or cbam_ model for a gate",
            UserWarning,
            stacklevel=2,
        )
    return builder(
        num_classes=num_classes,
        in_chans=in_chans,
        act_layer=act_layer,
        gate_layer=gate_layer,
        head=head,
        **kwargs,
    )
