"""The ResNet weight initialisation shared by the model families (He et al. 2015)."""

from __future__ import annotations

from torch import nn

__all__ = ["init_resnet_weights"]


def init_resnet_weights(model: nn.Module) -> None:
    """He-normal (fan-out) convolutions and batch norms at weight 1, bias 0.

    Activations, gates, LayerNorms and heads keep their own initialisation.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
