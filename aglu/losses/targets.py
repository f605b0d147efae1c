"""Turn hard labels or soft targets into (smoothed) per-class target distributions."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["smooth_targets", "target_distribution"]


def target_distribution(targets: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    """Return the targets as an (N, C) tensor: one-hot rows for hard labels, soft rows as given.

    Args:
        targets: hard labels of shape (N,) with values in [0, C), or soft targets of shape (N, C)
            with values in [0, 1] (MixUp/CutMix mixtures, or several positives for binary losses).
        num_classes: C.
        dtype: floating dtype of the result.

    Raises:
        ValueError: wrong shape, a label outside [0, C), or a soft target outside [0, 1].
        TypeError: hard labels that are not integers.

    Example::

        >>> target_distribution(torch.tensor([2, 0]), 3, torch.float32)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    if targets.dim() == 1:
        if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
            raise TypeError(
                f"hard labels must be an integer tensor; got dtype {targets.dtype} "
                "(pass soft targets as an (N, C) float tensor)"
            )
        if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
            raise ValueError(
                f"labels must lie in [0, {num_classes}); got min {int(targets.min())}, "
                f"max {int(targets.max())}"
            )
        return torch.nn.functional.one_hot(targets.long(), num_classes).to(dtype)
    if targets.dim() == 2 and targets.shape[1] == num_classes:
        if not targets.is_floating_point():
            raise TypeError(f"soft targets must be a float tensor; got dtype {targets.dtype}")
        if targets.numel() and (targets.min() < 0 or targets.max() > 1):
            raise ValueError(
                f"soft targets must lie in [0, 1]; got min {float(targets.min())}, "
                f"max {float(targets.max())}"
            )
        return targets.to(dtype)
    raise ValueError(
        f"targets of shape {tuple(targets.shape)} fit neither hard labels (N,) nor soft "
        f"targets (N, {num_classes})"
    )


def smooth_targets(distribution: Tensor, label_smoothing: float) -> Tensor:
    r"""Mix the targets with the uniform distribution: :math:`(1 − ε)·y + ε / C`.

    Example::

        >>> smooth_targets(torch.tensor([[0.0, 1.0]]), 0.2)
        tensor([[0.1000, 0.9000]])
    """
    if label_smoothing == 0:
        return distribution
    return distribution * (1 - label_smoothing) + label_smoothing / distribution.shape[-1]
