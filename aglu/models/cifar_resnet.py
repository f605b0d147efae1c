"""CIFAR-size ResNets (He et al. 2016, §4.2) with option-A shortcuts, plain, SE or CBAM."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from torch import Tensor, nn
from torch.nn import functional as F

from aglu.layers import create_activation
from aglu.models.attention import GateLayer, attention_factory
from aglu.models.heads import create_head
from aglu.models.weight_init import init_resnet_weights

__all__ = ["BasicBlock", "CifarResNet", "PadShortcut"]

AttentionFactory = Callable[[int], nn.Module]


class PadShortcut(nn.Module):
    """Option-A shortcut: a strided identity whose new channels are zeros (no parameters).

    The input's channels sit in the middle of the output's: ``(out - in) // 2`` zero channels
    before them and the rest after.

    Args:
        in_channels: the input's channel count.
        out_channels: the output's channel count, at least ``in_channels``.
        stride: the spatial subsampling step.

    Example:
        >>> import torch
        >>> shortcut = PadShortcut(1, 3, stride=2)
        >>> shortcut(torch.arange(16.0).view(1, 1, 4, 4))[0, :, :, 0].tolist()
        [[0.0, 0.0], [0.0, 8.0], [0.0, 0.0]]
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"out_channels={out_channels} must be ≥ in_channels={in_channels}")
        self.stride = stride
        self.pad_before = (out_channels - in_channels) // 2
        self.pad_after = out_channels - in_channels - self.pad_before

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_before, self.pad_after))  # pads dim 1 (channels)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions, optional attention on the residual branch, activation after the add.

    Each of the two activations is its own module (``act1`` inside, ``act2`` after the add).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        act_layer: str | type[nn.Module] = "relu",
        act_kwargs: Mapping[str, Any] | None = None,
        attention_layer: AttentionFactory | None = None,
    ) -> None:
        super().__init__()
        act_kwargs = act_kwargs or {}
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.act1 = create_activation(act_layer, **act_kwargs)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.attention = attention_layer(out_channels) if attention_layer else nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = PadShortcut(in_channels, out_channels, stride)
        else:
            self.shortcut = nn.Identity()
        self.act2 = create_activation(act_layer, **act_kwargs)

    def forward(self, x: Tensor) -> Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.attention(self.bn2(self.conv2(out)))
        return self.act2(out + self.shortcut(x))


class CifarResNet(nn.Module):
    r"""ResNet for 32×32 (or 28×28) images: a 3×3 stem, three stages of 16/32/64 channels.

    ``depth = 6n + 2`` gives n basic blocks per stage (32 → 5). Plain ResNet-32 has 464,154
    parameters for 3 input channels and 10 classes (0.46 M).

    Args:
        num_classes: the number of classes.
        depth: 6n + 2. Default: 32.
        in_chans: the input's channels (1 for Fashion-MNIST). Default: 3.
        act_layer: the activation after the stem, inside each block and after each residual add;
            a name from :data:`aglu.layers.ACTIVATIONS` or a class. Default: ``"relu"``.
        gate_layer: the attention gate, ``"sigmoid"`` or ``"apa"``; unused without attention.
        head: ``"linear"``, ``"cosine"`` or ``"learnable_cosine"``.
        attention: ``None``, ``"se"`` or ``"cbam"``, applied to each block's residual branch.
        reduction: the attention MLP's reduction r. Default: 4.
        act_kwargs: arguments for every APA/AGLU activation (e.g. ``kappa_init``).
        gate_kwargs: arguments for every APA gate (default λ ~ U(0, 1), κ ~ U(−1, 0)).
        se_style: the SE block, ``"paper"`` (the APA paper's: LayerNorm, bias-free, dropout 0.1,
            for either gate) or ``"hu"`` (Hu et al.'s: biases, no LayerNorm, no dropout); see
            :class:`~aglu.models.SqueezeExcitation`. Only with ``attention="se"``.

    Shape:
        - Input: :math:`(N, \text{in\_chans}, H, W)`. Output: :math:`(N, \text{num\_classes})`.

    Example:
        >>> import torch
        >>> model = CifarResNet(10, in_chans=1, act_layer="aglu", attention="se", gate_layer="apa")
        >>> model(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    stage_channels = (16, 32, 64)

    def __init__(
        self,
        num_classes: int,
        depth: int = 32,
        in_chans: int = 3,
        act_layer: str | type[nn.Module] = "relu",
        gate_layer: GateLayer = "sigmoid",
        head: str = "linear",
        attention: str | None = None,
        reduction: int = 4,
        act_kwargs: Mapping[str, Any] | None = None,
        gate_kwargs: Mapping[str, Any] | None = None,
        se_style: str = "paper",
    ) -> None:
        super().__init__()
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth={depth!r} must be 6n + 2 with n ≥ 1, e.g. 20, 32, 56, 110")
        blocks_per_stage = (depth - 2) // 6
        attention_layer = attention_factory(attention, reduction, gate_layer, gate_kwargs, se_style)
        block = partial(
            BasicBlock, act_layer=act_layer, act_kwargs=act_kwargs, attention_layer=attention_layer
        )

        width = self.stage_channels[0]
        self.conv1 = nn.Conv2d(in_chans, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = create_activation(act_layer, **(act_kwargs or {}))
        stages = []
        for index, channels in enumerate(self.stage_channels):
            stride = 1 if index == 0 else 2
            blocks = [block(width, channels, stride)]
            blocks += [block(channels, channels) for _ in range(blocks_per_stage - 1)]
            stages.append(nn.Sequential(*blocks))
            width = channels
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = width
        self.fc = create_head(head, width, num_classes)
        init_resnet_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        """The pooled features before the head, shape ``(N, num_features)``."""
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.pool(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.forward_features(x))
