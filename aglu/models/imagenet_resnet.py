"""ImageNet-size bottleneck ResNets and ResNeXts (torchvision's v1.5 layout), plain, SE or CBAM."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from torch import Tensor, nn

from aglu.layers import create_activation
from aglu.models.attention import GateLayer, attention_factory
from aglu.models.heads import create_head
from aglu.models.weight_init import init_resnet_weights

__all__ = ["Bottleneck", "ResNet"]

AttentionFactory = Callable[[int], nn.Module]


class Bottleneck(nn.Module):
    """1×1 → 3×3 (strided, grouped) → 1×1 with attention on the residual branch.

    Module names follow torchvision's ``Bottleneck`` (``conv1``…``bn3``, ``downsample``), so a plain
    ReLU model holds exactly torchvision's state dict. The three activations are separate modules:
    ``act1`` and ``act2`` inside the branch, ``act3`` after the residual add.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        groups: int = 1,
        width_per_group: int = 64,
        act_layer: str | type[nn.Module] = "relu",
        act_kwargs: Mapping[str, Any] | None = None,
        attention_layer: AttentionFactory | None = None,
    ) -> None:
        super().__init__()
        act_kwargs = act_kwargs or {}
        width = planes * width_per_group // 64 * groups
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = create_activation(act_layer, **act_kwargs)
        self.conv2 = nn.Conv2d(width, width, 3, stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.act2 = create_activation(act_layer, **act_kwargs)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.attention = attention_layer(out_channels) if attention_layer else nn.Identity()
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.act3 = create_activation(act_layer, **act_kwargs)

    def forward(self, x: Tensor) -> Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.act2(self.bn2(self.conv2(out)))
        out = self.attention(self.bn3(self.conv3(out)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act3(out + shortcut)


class ResNet(nn.Module):
    r"""Bottleneck ResNet / ResNeXt for ImageNet-size images, with a choice of activation and gate.

    The stem is a 7×7 stride-2 convolution and a 3×3 max pool; four stages of 64/128/256/512
    planes (×4 out) follow, the later three starting with stride 2 (on the 3×3 convolution, v1.5).
    With ``act_layer="relu"``, no attention and a linear head, ``ResNet((3, 4, 6, 3))`` is
    torchvision's ResNet-50: 25,557,032 parameters and the same state-dict names.

    Args:
        num_classes: the number of classes.
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)`` for depth 50.
        in_chans: the input's channels. Default: 3.
        act_layer: the activation of the stem, of each block (two inside, one after the add).
        gate_layer: the attention gate, ``"sigmoid"`` or ``"apa"``; unused without attention.
        head: ``"linear"``, ``"cosine"`` or ``"learnable_cosine"``.
        attention: ``None``, ``"se"`` or ``"cbam"``, applied to each block's residual branch.
        reduction: the attention MLP's reduction r. Default: 16.
        groups: the 3×3 convolutions' groups (32 for ResNeXt-50 32×4d). Default: 1.
        width_per_group: channels per group at 64 planes (4 for 32×4d). Default: 64.
        act_kwargs: arguments for every APA/AGLU activation (e.g. ``kappa_init=(1.0, 1.3)``).
        gate_kwargs: arguments for every APA gate (default λ ~ U(0, 1), κ ~ U(−1, 0)).
        se_style: the SE block, ``"paper"`` (the APA paper's: LayerNorm, bias-free, dropout 0.1,
            for either gate) or ``"hu"`` (Hu et al.'s: biases, no LayerNorm, no dropout); see
            :class:`~aglu.models.SqueezeExcitation`. Only with ``attention="se"``.

    Shape:
        - Input: :math:`(N, \text{in\_chans}, H, W)`, H and W at least 32.
        - Output: :math:`(N, \text{num\_classes})`.
    """

    stage_planes = (64, 128, 256, 512)

    def __init__(
        self,
        num_classes: int,
        layers: Sequence[int] = (3, 4, 6, 3),
        in_chans: int = 3,
        act_layer: str | type[nn.Module] = "relu",
        gate_layer: GateLayer = "sigmoid",
        head: str = "linear",
        attention: str | None = None,
        reduction: int = 16,
        groups: int = 1,
        width_per_group: int = 64,
        act_kwargs: Mapping[str, Any] | None = None,
        gate_kwargs: Mapping[str, Any] | None = None,
        se_style: str = "paper",
    ) -> None:
        super().__init__()
        if len(layers) != 4 or any(not isinstance(n, int) or n < 1 for n in layers):
            raise ValueError(f"layers={layers!r} must be four positive ints, e.g. (3, 4, 6, 3)")
        attention_layer = attention_factory(attention, reduction, gate_layer, gate_kwargs, se_style)
        block = partial(
            Bottleneck,
            groups=groups,
            width_per_group=width_per_group,
            act_layer=act_layer,
            act_kwargs=act_kwargs,
            attention_layer=attention_layer,
        )

        width = self.stage_planes[0]
        self.conv1 = nn.Conv2d(in_chans, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = create_activation(act_layer, **(act_kwargs or {}))
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages = []
        for index, (planes, num_blocks) in enumerate(zip(self.stage_planes, layers, strict=True)):
            out_channels = planes * Bottleneck.expansion
            blocks = [block(width, planes, stride=1 if index == 0 else 2)]
            blocks += [block(out_channels, planes) for _ in range(num_blocks - 1)]
            stages.append(nn.Sequential(*blocks))
            width = out_channels
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = width
        self.fc = create_head(head, width, num_classes)
        init_resnet_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        """The pooled features before the head, shape ``(N, num_features)``."""
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.pool(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.forward_features(x))
