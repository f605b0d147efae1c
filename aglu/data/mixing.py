"""Batch-level MixUp and CutMix through torchvision.transforms.v2."""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import Tensor
from torchvision.transforms import v2

__all__ = ["build_mix"]

BatchMix = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def _check_alpha(name: str, alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise TypeError(f"{name}={alpha!r} is not a number; pass a Beta concentration ≥ 0")
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"{name}={alpha!r} must be finite and ≥ 0; pass 0 to turn it off")
    return float(alpha)


def build_mix(mixup_alpha: float, cutmix_alpha: float, num_classes: int) -> BatchMix | None:
    """A batch transform that mixes images and turns labels into soft targets, or ``None``.

    With both alphas positive, each batch gets MixUp or CutMix with equal odds (as timm does);
    with one positive, always that one; with both 0 there is nothing to do and ``None`` is returned.
    The mixing weight is drawn from Beta(α, α).

    Args:
        mixup_alpha: MixUp's α (0.2 in the paper's recipes); 0 disables MixUp.
        cutmix_alpha: CutMix's α (1.0 in the iNaturalist recipe); 0 disables CutMix.
        num_classes: number of classes of the soft targets.

    Shape:
        - Input: images ``(N, C, H, W)`` float, labels ``(N,)`` int64.
        - Output: images ``(N, C, H, W)``, soft targets ``(N, num_classes)`` summing to 1 per row.

    Example:
        >>> import torch
        >>> mix = build_mix(0.2, 0.0, num_classes=3)
        >>> images, targets = mix(torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]))
        >>> tuple(targets.shape), torch.allclose(targets.sum(1), torch.ones(4))
        ((4, 3), True)
        >>> build_mix(0.0, 0.0, 3) is None
        True
    """
    mixup_alpha = _check_alpha("mixup_alpha", mixup_alpha)
    cutmix_alpha = _check_alpha("cutmix_alpha", cutmix_alpha)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes={num_classes!r} must be an integer ≥ 2")
    mixes = []
    if mixup_alpha > 0:
        mixes.append(v2.MixUp(alpha=mixup_alpha, num_classes=num_classes))
    if cutmix_alpha > 0:
        mixes.append(v2.CutMix(alpha=cutmix_alpha, num_classes=num_classes))
    if not mixes:
        return None
    return mixes[0] if len(mixes) == 1 else v2.RandomChoice(mixes)
