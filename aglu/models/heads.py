"""Classifier heads: linear, cosine with a fixed scale, cosine with a learnable scale."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["HEADS", "CosineHead", "LearnableScaleCosineHead", "check_head", "create_head"]

HEADS = ("linear", "cosine", "learnable_cosine")


class _CosineClassifier(nn.Module):
    """Class directions ``weight`` (num_classes, in_features) shared by the cosine heads."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_classes = num_classes
        self.weight = nn.Parameter(torch.empty(num_classes, in_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=0.01)

    def cosine(self, features: Tensor) -> Tensor:
        """Cosine of each class direction with the features squashed to norm ‖x‖/(1+‖x‖)."""
        norm = features.norm(dim=1, keepdim=True)
        squashed = features / (1 + norm)  # (‖x‖/(1+‖x‖))·x/‖x‖, and 0 at x = 0
        return F.linear(squashed, F.normalize(self.weight, dim=1))


class CosineHead(_CosineClassifier):
    r"""Cosine classifier with a fixed scale, as in the APA paper's long-tail recipes.

    .. math::
        \mathrm{logit}_c = s \cdot \frac{\|x\|}{1 + \|x\|} \cdot
            \frac{x}{\|x\|} \cdot \frac{w_c}{\|w_c\|}

    Args:
        in_features: the feature size.
        num_classes: the number of classes.
        scale: s, fixed. Default: 16.

    Shape:
        - Input: :math:`(N, \text{in\_features})`. Output: :math:`(N, \text{num\_classes})`.

    Example:
        >>> head = CosineHead(4, 3)
        >>> bool(head(torch.randn(5, 4)).abs().max() < 16)
        True
    """

    def __init__(self, in_features: int, num_classes: int, scale: float = 16.0) -> None:
        super().__init__(in_features, num_classes)
        self.scale = float(scale)

    def forward(self, features: Tensor) -> Tensor:
        return self.scale * self.cosine(features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_classes={self.num_classes}, scale={self.scale}"


class LearnableScaleCosineHead(_CosineClassifier):
    r"""Cosine classifier with a learnt scale :math:`s = \sigma^2`, :math:`\sigma` starting at 5.

    The logits are those of :class:`CosineHead` with ``scale`` replaced by :math:`\sigma^2`
    (25 at the start); squaring keeps the scale non-negative.

    Args:
        in_features: the feature size.
        num_classes: the number of classes.
        sqrt_scale_init: the initial :math:`\sigma`. Default: 5.

    Attributes:
        sqrt_scale: :math:`\sigma`, shape ``(1,)``.
    """

    def __init__(self, in_features: int, num_classes: int, sqrt_scale_init: float = 5.0) -> None:
        super().__init__(in_features, num_classes)
        self.sqrt_scale_init = float(sqrt_scale_init)
        self.sqrt_scale = nn.Parameter(torch.full((1,), self.sqrt_scale_init))

    def forward(self, features: Tensor) -> Tensor:
        return self.sqrt_scale.square() * self.cosine(features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, num_classes={self.num_classes}, "
            f"sqrt_scale_init={self.sqrt_scale_init}"
        )


def check_head(head: str) -> None:
    """Raise ``ValueError`` unless ``head`` is one of :data:`HEADS`."""
    if not (isinstance(head, str) and head.lower() in HEADS):
        raise ValueError(f"unknown head {head!r}; use one of {list(HEADS)}")


def create_head(head: str, in_features: int, num_classes: int) -> nn.Module:
    """Build the classifier head named ``head`` (one of :data:`HEADS`).

    Example:
        >>> create_head("cosine", 64, 10)
        CosineHead(in_features=64, num_classes=10, scale=16.0)
    """
    check_head(head)
    name = head.lower()
    if name == "linear":
        return nn.Linear(in_features, num_classes)
    if name == "cosine":
        return CosineHead(in_features, num_classes)
    return LearnableScaleCosineHead(in_features, num_classes)
