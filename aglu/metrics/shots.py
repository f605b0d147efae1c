"""Many-, medium- and few-shot class groups and their accuracies (the long-tail report)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from aglu.metrics.accuracy import per_class_accuracy

__all__ = ["SHOT_GROUPS", "shot_accuracy", "shot_groups"]

#: The group names, from frequent to rare.
SHOT_GROUPS: tuple[str, ...] = ("many", "medium", "few")


def shot_groups(
    train_counts: Sequence[int] | Tensor, many_threshold: int = 100, few_threshold: int = 20
) -> dict[str, Tensor]:
    """Split the classes by their number of training images.

    many: n_c > ``many_threshold``; medium: ``few_threshold`` ≤ n_c ≤ ``many_threshold``;
    few: n_c < ``few_threshold``.

    Args:
        train_counts: the number of training images of each class.
        many_threshold: the most images a medium class has. Default: 100.
        few_threshold: the fewest images a medium class has. Default: 20.

    Returns:
        ``{"many": ..., "medium": ..., "few": ...}``: sorted int64 class indices (possibly empty).

    Example::

        >>> {name: idx.tolist() for name, idx in shot_groups([500, 100, 20, 19]).items()}
        {'many': [0], 'medium': [1, 2], 'few': [3]}
    """
    counts = torch.as_tensor(train_counts)
    if counts.dim() != 1 or counts.numel() == 0:
        raise ValueError(
            f"train_counts must be a non-empty 1-D sequence; got shape {tuple(counts.shape)}"
        )
    if (counts < 0).any():
        raise ValueError(f"train_counts must be non-negative; got min {counts.min().item()}")
    if few_threshold > many_threshold:
        raise ValueError(
            f"few_threshold={few_threshold} exceeds many_threshold={many_threshold}; "
            "the medium group needs few_threshold <= many_threshold"
        )
    masks = {
        "many": counts > many_threshold,
        "medium": (counts >= few_threshold) & (counts <= many_threshold),
        "few": counts < few_threshold,
    }
    return {name: torch.nonzero(mask).flatten() for name, mask in masks.items()}


def shot_accuracy(
    predictions: Tensor,
    targets: Tensor,
    train_counts: Sequence[int] | Tensor,
    many_threshold: int = 100,
    few_threshold: int = 20,
) -> dict[str, float]:
    """Mean per-class accuracy of the many-, medium- and few-shot groups.

    Each group's score is the mean of its classes' accuracies (:func:`per_class_accuracy`);
    classes without test samples are left out of the mean. A group with no classes, or none
    with test samples, scores NaN (never 0).

    Args:
        predictions: predicted labels (N,) or scores (N, C).
        targets: labels of shape (N,) in [0, C).
        train_counts: the number of training images of each class (length C).
        many_threshold: see :func:`shot_groups`. Default: 100.
        few_threshold: see :func:`shot_groups`. Default: 20.

    Returns:
        ``{"many": ..., "medium": ..., "few": ...}``: fractions in [0, 1] or NaN.

    Example::

        >>> preds, labels = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2])
        >>> shot_accuracy(preds, labels, [150, 50, 10])  # class 1 is right once in two
        {'many': 1.0, 'medium': 0.5, 'few': 1.0}
    """
    groups = shot_groups(train_counts, many_threshold, few_threshold)
    accuracy = per_class_accuracy(predictions, targets, num_classes=len(train_counts))
    return {name: torch.nanmean(accuracy[groups[name]]).item() for name in SHOT_GROUPS}
