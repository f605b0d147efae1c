"""Find the adaptive activations (APA and AGLU) of a model, e.g. to log their λ and κ."""

from __future__ import annotations

from torch import nn

from aglu.layers import AGLU, APA

__all__ = ["activation_modules"]


def activation_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every APA and AGLU module of ``model`` as ``(qualified name, module)``, in module order.

    Example:
        >>> from aglu.models import create
        >>> model = create("se_resnet32", 10, act_layer="aglu", gate_layer="apa")
        >>> names = [name for name, _ in activation_modules(model)]
        >>> len(names), names[:3]
        (46, ['act1', 'layer1.0.act1', 'layer1.0.attention.gate'])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    return [
        (name, module) for name, module in model.named_modules() if isinstance(module, APA | AGLU)
    ]
