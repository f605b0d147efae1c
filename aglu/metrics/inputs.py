"""Checks shared by the metrics: predicted labels, targets and probability rows."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_probabilities", "check_targets", "predicted_labels"]


def check_targets(
    targets: Tensor, num_classes: int, num_samples: int | None = None, name: str = "targets"
) -> Tensor:
    """Return ``targets`` as int64 labels on the CPU after checking shape, dtype and range.

    ``name`` is the argument the error messages name (``targets`` or ``predictions``).

    Raises:
        TypeError: labels that are not integers.
        ValueError: not 1-D, a length other than ``num_samples``, or a label outside [0, C).
    """
    if targets.dim() != 1:
        raise ValueError(f"{name} must be 1-D labels (N,); got shape {tuple(targets.shape)}")
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(f"{name} must be integer labels; got dtype {targets.dtype}")
    if num_samples is not None and targets.numel() != num_samples:
        raise ValueError(
            f"targets hold {targets.numel()} samples but the predictions {num_samples}; "
            "pass one label per prediction"
        )
    targets = targets.detach().to("cpu", torch.int64)
    if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes}); got min {int(targets.min())}, "
            f"max {int(targets.max())}"
        )
    return targets


def predicted_labels(predictions: Tensor, num_classes: int) -> Tensor:
    """Return int64 CPU labels from labels (N,) or from scores (N, C) by arg-max.

    Raises:
        ValueError: a shape other than (N,) or (N, C), or a label outside [0, C).
    """
    if predictions.dim() == 2:
        if predictions.shape[1] != num_classes:
            raise ValueError(
                f"predictions of shape {tuple(predictions.shape)} do not have the "
                f"{num_classes} classes expected; pass scores (N, {num_classes}) or labels (N,)"
            )
        return predictions.detach().argmax(dim=1).to("cpu", torch.int64)
    if predictions.dim() == 1:
        return check_targets(predictions, num_classes, name="predictions").clone()
    raise ValueError(
        f"predictions must be labels (N,) or scores (N, C); got shape {tuple(predictions.shape)}"
    )


def check_probabilities(probs: Tensor) -> Tensor:
    """Return (N, C) probabilities as float64 CPU values after checking shape and range.

    Raises:
        ValueError: not 2-D, or a value outside [0, 1] (logits passed by mistake).
    """
    if probs.dim() != 2 or probs.shape[1] < 1:
        raise ValueError(f"probs must have shape (N, C); got {tuple(probs.shape)}")
    if not probs.is_floating_point():
        raise TypeError(f"probs must be floating point; got dtype {probs.dtype}")
    probs = probs.detach().to("cpu", torch.float64)
    if probs.numel() and (probs.min() < 0 or probs.max() > 1 or probs.isnan().any()):
        raise ValueError(
            f"probs must lie in [0, 1]; got min {float(probs.min())}, max {float(probs.max())} "
            "(apply softmax or sigmoid to logits first)"
        )
    return probs
