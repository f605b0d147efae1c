"""Optimiser parameter groups: weight decay on weights, none on λ, κ, norms and biases."""

from __future__ import annotations

from torch import nn

from aglu.layers import AGLU, APA

__all__ = ["NO_DECAY_MODULES", "param_groups"]

# Modules none of whose parameters are decayed: the activations' λ and κ (decay would pull their
# shape toward a fixed point, as with PReLU slopes) and the normalisation layers' affine terms.
NO_DECAY_MODULES: tuple[type[nn.Module], ...] = (
    APA,
    AGLU,
    nn.PReLU,
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.LocalResponseNorm,
    *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),  # torch >= 2.4
)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split a model's trainable parameters into a decayed and a non-decayed optimiser group.

    Not decayed: every parameter of an APA/AGLU (λ, κ), PReLU or normalisation layer, every
    ``bias``, and any other parameter with fewer than two dimensions (scales, temperatures).
    A parameter shared between modules appears once.

    Args:
        model: the model whose parameters to group.
        weight_decay: the decay of the first group (≥ 0).

    Returns:
        ``[{"params": [...], "weight_decay": weight_decay, "name": "decay"},
        {"params": [...], "weight_decay": 0.0, "name": "no_decay"}]``, without empty groups.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from aglu import AGLU, param_groups
        >>> net = nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3), AGLU())
        >>> groups = param_groups(net, weight_decay=1e-4)
        >>> [(g["name"], len(g["params"])) for g in groups]
        [('decay', 1), ('no_decay', 5)]
        >>> optimizer = torch.optim.SGD(groups, lr=0.1)
    """
    if not isinstance(weight_decay, int | float) or weight_decay < 0:
        raise ValueError(f"weight_decay={weight_decay!r} must be a float ≥ 0")
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            if not parameter.requires_grad or id(parameter) in seen:
                continue
            seen.add(id(parameter))
            exempt = isinstance(module, NO_DECAY_MODULES) or name == "bias" or parameter.ndim < 2
            (no_decay if exempt else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": float(weight_decay), "name": "decay"},
        {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"},
    ]
    return [group for group in groups if group["params"]]
