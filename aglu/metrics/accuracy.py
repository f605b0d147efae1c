"""Top-k and per-class accuracy, counted exactly from the predictions they are given."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from aglu.metrics.inputs import check_targets, predicted_labels

__all__ = ["per_class_accuracy", "topk_accuracy"]


def topk_accuracy(
    logits: Tensor, targets: Tensor, topk: Sequence[int] = (1, 5)
) -> dict[str, float]:
    r"""Fraction of samples whose label is among the k highest scores, for each k.

    .. math::
        \text{top}k = \frac{1}{N}\,\big|\{i : y_i \in \text{the } k \text{ largest of } x_i\}\big|

    With k ≥ C every label is among the top k, so the result is 1. Ties between equal scores are
    broken by :func:`torch.topk`. An empty batch gives NaN.

    Args:
        logits: scores of shape (N, C) (logits or probabilities: only their order matters).
        targets: labels of shape (N,) in [0, C).
        topk: the k values. Default: ``(1, 5)``.

    Returns:
        ``{"top1": ..., "top5": ...}``: fractions in [0, 1].

    Example::

        >>> logits = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.1, 0.4]])
        >>> topk_accuracy(logits, torch.tensor([1, 2]), topk=(1, 2))
        {'top1': 0.5, 'top2': 1.0}
    """
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, C); got {tuple(logits.shape)}")
    num_samples, num_classes = logits.shape
    targets = check_targets(targets, num_classes, num_samples)
    ks = list(topk)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"topk must be positive integers; got {topk!r}")
    if num_samples == 0:
        return {f"top{k}": float("nan") for k in ks}
    largest = min(max(ks), num_classes)
    ranked = logits.detach().topk(largest, dim=1).indices.cpu()  # (N, largest)
    hits = ranked == targets[:, None]  # at most one True per row
    return {f"top{k}": hits[:, :k].any(dim=1).double().mean().item() for k in ks}


def per_class_accuracy(predictions: Tensor, targets: Tensor, num_classes: int) -> Tensor:
    r"""Accuracy of each class: the fraction of its test samples predicted as that class.

    .. math::
        \text{acc}_c = \frac{|\{i : y_i = c,\ \hat y_i = c\}|}{|\{i : y_i = c\}|}

    A class without test samples gets NaN (never 0).

    Args:
        predictions: predicted labels (N,) or scores (N, C), from which the arg-max is taken.
        targets: labels of shape (N,) in [0, C).
        num_classes: C.

    Shape:
        - Output: :math:`(C,)`, float64 on the CPU.

    Example::

        >>> per_class_accuracy(torch.tensor([0, 1, 1, 0]), torch.tensor([0, 1, 0, 0]), 3)
        tensor([0.6667, 1.0000,    nan], dtype=torch.float64)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int; got {num_classes!r}")
    predicted = predicted_labels(predictions, num_classes)
    targets = check_targets(targets, num_classes, predicted.numel())
    support = torch.bincount(targets, minlength=num_classes).double()
    correct = torch.bincount(targets[predicted == targets], minlength=num_classes).double()
    return torch.where(support > 0, correct / support.clamp(min=1), torch.nan)
