"""Channel attention with a learnable gate: squeeze-and-excitation and CBAM (APA paper, §4).

With ``gate_layer="apa"`` these are the paper's gate blocks: the squeezed vector is LayerNorm-ed,
the excitation MLP ends in dropout 0.1, and an APA (λ ~ U(0, 1), κ ~ U(−1, 0)) replaces the
sigmoid. With ``gate_layer="sigmoid"`` the block keeps the same structure and only the gate
changes, so that comparing the two measures the gate alone. ``SqueezeExcitation(style="hu")``
is Hu et al.'s original block instead (biases, no LayerNorm, no dropout).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from aglu.layers import APA, create_activation

__all__ = [
    "APA_GATE_INIT",
    "ATTENTIONS",
    "CBAM",
    "GATES",
    "SE_STYLES",
    "ChannelGate",
    "SpatialGate",
    "SqueezeExcitation",
    "attention_factory",
    "check_gate",
    "check_se_style",
    "create_gate",
]

GATES = ("apa", "sigmoid")
# "paper": the APA paper's SE block (LayerNorm, bias-free linears, dropout 0.1);
# "hu": Hu et al.'s (biases, no LayerNorm, no dropout).
SE_STYLES = ("paper", "hu")
# The paper's ResNet code starts its attention gates decreasing in z: κ ~ U(−1, 0).
APA_GATE_INIT: dict[str, Any] = {"lambda_init": (0.0, 1.0), "kappa_init": (-1.0, 0.0)}

GateLayer = str | type[nn.Module]


def check_gate(gate_layer: GateLayer) -> None:
    """Raise ``ValueError`` unless ``gate_layer`` is a known gate name or an ``nn.Module`` class."""
    if isinstance(gate_layer, type) and issubclass(gate_layer, nn.Module):
        return
    if not (isinstance(gate_layer, str) and gate_layer.lower() in GATES):
        raise ValueError(
            f"unknown gate_layer {gate_layer!r}; use one of {list(GATES)} or an nn.Module class"
        )


def create_gate(gate_layer: GateLayer = "sigmoid", **gate_kwargs: Any) -> nn.Module:
    """Build a fresh gate module; an APA gate defaults to :data:`APA_GATE_INIT`.

    Args:
        gate_layer: ``"apa"``, ``"sigmoid"`` or an ``nn.Module`` class.
        gate_kwargs: overrides of APA's arguments (e.g. ``kappa_init=(0.0, 1.0)``); ignored by
            gates without parameters.

    Example:
        >>> create_gate("apa").kappa_init
        (-1.0, 0.0)
    """
    check_gate(gate_layer)
    layer = gate_layer.lower() if isinstance(gate_layer, str) else gate_layer
    if layer == "apa" or layer is APA:
        return APA(**{**APA_GATE_INIT, **gate_kwargs})
    return create_activation(layer, **gate_kwargs)


def check_se_style(style: str) -> None:
    """Raise ``ValueError`` unless ``style`` is one of :data:`SE_STYLES`."""
    if not (isinstance(style, str) and style in SE_STYLES):
        raise ValueError(f"unknown SE style {style!r}; use one of {list(SE_STYLES)}")


def _hidden_channels(channels: int, reduction: int) -> int:
    if not isinstance(reduction, int) or reduction < 1:
        raise ValueError(f"reduction={reduction!r} must be a positive int, e.g. 16 or 4")
    return max(1, channels // reduction)


class SqueezeExcitation(nn.Module):
    r"""Squeeze-and-excitation with a learnable gate (Hu et al. 2018; APA paper's variant).

    .. math::
        s = \mathrm{gate}(\mathrm{Dropout}(W_2\,\mathrm{ReLU}(W_1\,
            \mathrm{LN}(\mathrm{mean}_{hw} x)))),\qquad y = x \cdot s

    With ``style="hu"``: :math:`s = \mathrm{gate}(W_2\,\mathrm{ReLU}(W_1 \mathrm{mean}_{hw} x
    + b_1) + b_2)`.

    Args:
        channels: C, the number of input channels.
        reduction: r; the hidden layer has ``C // r`` units. Default: 16.
        gate_layer: ``"apa"`` (the paper's), ``"sigmoid"`` or an ``nn.Module`` class.
        gate_kwargs: overrides of the APA gate's init (default :data:`APA_GATE_INIT`).
        dropout: dropout probability after the excitation MLP. Default: ``None``, 0.1 for the
            paper's block and 0 for Hu et al.'s.
        style: ``"paper"`` (LayerNorm, bias-free linears, dropout) or ``"hu"`` (Hu et al.'s:
            linears with biases, no LayerNorm, no dropout). Default: ``"paper"``.

    Shape:
        - Input: :math:`(N, C, H, W)`. Output: the same.

    .. note::
        By default both gates share the paper's structure (LayerNorm, bias-free linears, dropout),
        so a sigmoid-vs-APA comparison changes nothing but the gate; a sigmoid SE model is then
        not Hu et al.'s. ``style="hu"`` with the sigmoid gate is Hu et al.'s block (with
        ``norm`` and ``dropout`` left as parameter-free no-ops).

    Example:
        >>> se = SqueezeExcitation(32, reduction=4, gate_layer="apa")
        >>> se(torch.randn(2, 32, 5, 5)).shape
        torch.Size([2, 32, 5, 5])
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        gate_layer: GateLayer = "sigmoid",
        gate_kwargs: Mapping[str, Any] | None = None,
        dropout: float | None = None,
        style: str = "paper",
    ) -> None:
        super().__init__()
        check_se_style(style)
        hidden = _hidden_channels(channels, reduction)
        paper = style == "paper"
        if dropout is None:
            dropout = 0.1 if paper else 0.0
        self.style = style
        self.norm = nn.LayerNorm(channels) if paper else nn.Identity()
        self.fc1 = nn.Linear(channels, hidden, bias=not paper)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, channels, bias=not paper)
        self.dropout = nn.Dropout(dropout)
        self.gate = create_gate(gate_layer, **(gate_kwargs or {}))

    def forward(self, x: Tensor) -> Tensor:
        squeezed = self.norm(x.mean(dim=(2, 3)))  # (N, C)
        excitation = self.dropout(self.fc2(self.act(self.fc1(squeezed))))
        return x * self.gate(excitation)[:, :, None, None]

    def extra_repr(self) -> str:
        return f"style={self.style!r}"


class ChannelGate(nn.Module):
    r"""CBAM's channel gate: LayerNorm-ed average- and max-pooled vectors through a shared MLP.

    .. math::
        s = \mathrm{gate}(\mathrm{MLP}(\mathrm{LN}(\mathrm{mean}_{hw} x))
            + \mathrm{MLP}(\mathrm{LN}(\max_{hw} x))),\qquad y = x \cdot s

    where MLP is Linear(C→C/r) → ReLU → Linear(C/r→C) → Dropout, with biases as in CBAM.

    Args:
        channels, reduction, gate_layer, gate_kwargs, dropout: as in :class:`SqueezeExcitation`.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        gate_layer: GateLayer = "sigmoid",
        gate_kwargs: Mapping[str, Any] | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        hidden = _hidden_channels(channels, reduction)
        self.norm = nn.LayerNorm(channels)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, channels)
        self.dropout = nn.Dropout(dropout)
        self.gate = create_gate(gate_layer, **(gate_kwargs or {}))

    def _mlp(self, pooled: Tensor) -> Tensor:
        return self.dropout(self.fc2(self.act(self.fc1(self.norm(pooled)))))

    def forward(self, x: Tensor) -> Tensor:
        logits = self._mlp(x.mean(dim=(2, 3))) + self._mlp(x.amax(dim=(2, 3)))  # (N, C)
        return x * self.gate(logits)[:, :, None, None]


class SpatialGate(nn.Module):
    r"""CBAM's spatial gate: channel max and mean → 7×7 conv → BatchNorm → gate.

    .. math::
        s = \mathrm{gate}(\mathrm{BN}(\mathrm{conv}_{7\times7}([\max_c x, \mathrm{mean}_c x])))
        ,\qquad y = x \cdot s

    Args:
        gate_layer, gate_kwargs: as in :class:`SqueezeExcitation`.
        kernel_size: the convolution's size. Default: 7.
    """

    def __init__(
        self,
        gate_layer: GateLayer = "sigmoid",
        gate_kwargs: Mapping[str, Any] | None = None,
        kernel_size: int = 7,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.gate = create_gate(gate_layer, **(gate_kwargs or {}))

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * self.gate(self.bn(self.conv(pooled)))  # (N, 1, H, W) broadcast over C


class CBAM(nn.Module):
    """Convolutional block attention (Woo et al. 2018): a channel gate, then a spatial gate.

    Args:
        channels, reduction, gate_layer, gate_kwargs, dropout: as in :class:`SqueezeExcitation`;
            both gates get the same ``gate_layer``.

    Shape:
        - Input: :math:`(N, C, H, W)`. Output: the same.

    Example:
        >>> cbam = CBAM(32, reduction=4, gate_layer="apa")
        >>> cbam(torch.randn(2, 32, 5, 5)).shape
        torch.Size([2, 32, 5, 5])
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        gate_layer: GateLayer = "sigmoid",
        gate_kwargs: Mapping[str, Any] | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.channel_gate = ChannelGate(channels, reduction, gate_layer, gate_kwargs, dropout)
        self.spatial_gate = SpatialGate(gate_layer, gate_kwargs)

    def forward(self, x: Tensor) -> Tensor:
        return self.spatial_gate(self.channel_gate(x))


ATTENTIONS: dict[str, type[nn.Module]] = {"se": SqueezeExcitation, "cbam": CBAM}


def attention_factory(
    attention: str | None,
    reduction: int,
    gate_layer: GateLayer,
    gate_kwargs: Mapping[str, Any] | None,
    se_style: str = "paper",
) -> Callable[[int], nn.Module] | None:
    """A ``channels -> block`` builder for the named attention (``None``: no attention).

    ``se_style`` is :class:`SqueezeExcitation`'s ``style``; other attentions accept only its
    default, ``"paper"``.
    """
    check_se_style(se_style)
    if attention is not None and attention not in ATTENTIONS:
        raise ValueError(f"unknown attention {attention!r}; use None or one of {list(ATTENTIONS)}")
    if se_style != "paper" and attention != "se":
        raise ValueError(
            f"se_style={se_style!r} applies to attention='se' only (got attention={attention!r}); "
            "leave se_style at 'paper' or use attention='se'"
        )
    if attention is None:
        return None
    style = {"style": se_style} if attention == "se" else {}
    return partial(
        ATTENTIONS[attention],
        reduction=reduction,
        gate_layer=gate_layer,
        gate_kwargs=gate_kwargs,
        **style,
    )
