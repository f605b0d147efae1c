"""Long-tail class profiles and the common seeded subset selection (CIFAR-LT, Cao et al. 2019)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["PROFILES", "check_imbalance_factor", "long_tail_counts", "long_tail_indices"]

PROFILES = ("exp", "step")


def check_imbalance_factor(imbalance_factor: float) -> float:
    """Return ``imbalance_factor`` as a float after checking it lies in (0, 1]."""
    if isinstance(imbalance_factor, bool) or not isinstance(imbalance_factor, int | float):
        raise TypeError(
            f"imbalance_factor={imbalance_factor!r} is not a number; pass 1/ρ (0.01 for ρ = 100)"
        )
    if not 0.0 < imbalance_factor <= 1.0:  # also rejects NaN
        raise ValueError(
            f"imbalance_factor={imbalance_factor!r} is outside (0, 1]; pass 1/ρ (0.01 for ρ = 100)"
        )
    return float(imbalance_factor)


def long_tail_counts(
    num_classes: int, max_count: int, imbalance_factor: float, profile: str = "exp"
) -> list[int]:
    r"""Per-class image counts of a long-tailed split, head class first.

    The exponential profile keeps

    .. math::
        n_c = \lfloor n_{\max} \cdot \text{imb}^{c / (C - 1)} \rfloor, \quad c = 0, \dots, C - 1,

    with imb = 1/ρ; the step profile keeps :math:`n_{\max}` for the first
    :math:`\lfloor C/2 \rfloor` classes and :math:`\lfloor n_{\max} \cdot \text{imb} \rfloor` for
    the rest. The arithmetic follows the common CIFAR-LT code, so the published totals come out
    exactly.

    Args:
        num_classes: number of classes C.
        max_count: images kept for the head class, :math:`n_{\max}`.
        imbalance_factor: imb = 1/ρ in (0, 1]; 1 keeps every class at ``max_count``.
        profile: ``"exp"`` or ``"step"``.

    Example:
        >>> long_tail_counts(10, 500, 0.01)
        [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]
        >>> sum(long_tail_counts(10, 5000, 0.01)), sum(long_tail_counts(100, 500, 0.01))
        (12406, 10847)
        >>> long_tail_counts(4, 100, 0.1, profile="step")
        [100, 100, 10, 10]
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes={num_classes!r} must be a positive integer")
    if isinstance(max_count, bool) or not isinstance(max_count, int) or max_count < 1:
        raise ValueError(f"max_count={max_count!r} must be a positive integer (head-class images)")
    imbalance_factor = check_imbalance_factor(imbalance_factor)
    if profile == "exp":
        exponents = (
            [c / (num_classes - 1.0) for c in range(num_classes)] if num_classes > 1 else [0]
        )
        counts = [int(max_count * imbalance_factor**e) for e in exponents]
    elif profile == "step":
        num_head = num_classes // 2
        tail = int(max_count * imbalance_factor)
        counts = [max_count] * num_head + [tail] * (num_classes - num_head)
    else:
        raise ValueError(f"profile={profile!r} is unknown; pass one of {', '.join(PROFILES)}")
    if counts[-1] < 1:  # the last class is the smallest in both profiles
        raise ValueError(
            f"max_count={max_count} × imbalance_factor={imbalance_factor} leaves class "
            f"{counts.index(0)} without training images; raise max_count or imbalance_factor"
        )
    return counts


def long_tail_indices(targets: Sequence[int], counts: Sequence[int], seed: int = 0) -> np.ndarray:
    """Indices of the long-tailed subset, chosen the way the common CIFAR-LT split chooses them.

    For each class in label order, the indices of that class (in dataset order) are shuffled by one
    NumPy ``RandomState(seed)`` shared across classes, and the first ``counts[c]`` are kept; the
    result lists class 0's picks, then class 1's, and so on. With ``seed=0`` this equals the split
    of ``np.random.seed(0)`` followed by ``np.random.shuffle`` per class, without touching NumPy's
    global state.

    Args:
        targets: the label of every image of the full split, in ``[0, len(counts))``.
        counts: images to keep per class (e.g. from :func:`long_tail_counts`).
        seed: seed of the NumPy legacy generator.

    Example:
        >>> picks = long_tail_indices([0, 1, 0, 1, 0, 1], [3, 1])
        >>> sorted(picks[:3].tolist()), len(picks)
        ([0, 2, 4], 4)
    """
    labels = np.asarray(targets, dtype=np.int64)
    if labels.ndim != 1:
        raise ValueError(f"targets must be one label per image; got shape {labels.shape}")
    num_classes = len(counts)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"targets hold labels outside [0, {num_classes}); pass one count per class"
        )
    generator = np.random.RandomState(seed)
    picks = []
    for label, count in enumerate(counts):
        class_indices = np.flatnonzero(labels == label)
        if count > class_indices.size:
            raise ValueError(
                f"class {label} has {class_indices.size} images but {count} were asked for; "
                "lower max_count"
            )
        generator.shuffle(class_indices)
        picks.append(class_indices[:count])
    return np.concatenate(picks) if picks else np.empty(0, dtype=np.int64)
