"""Build a training loss by name: ``ce``, ``bce`` or ``gumbel_bce``."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from aglu.losses.base import ClassificationLoss
from aglu.losses.classification import BinaryCrossEntropyLoss, CrossEntropyLoss
from aglu.losses.gumbel import GumbelBinaryCrossEntropyLoss

__all__ = ["LOSSES", "build_loss"]

#: Loss names accepted by :func:`build_loss`, mapped to their classes.
LOSSES: dict[str, type[ClassificationLoss]] = {
    "ce": CrossEntropyLoss,
    "bce": BinaryCrossEntropyLoss,
    "gumbel_bce": GumbelBinaryCrossEntropyLoss,
}


def build_loss(
    name: str,
    *,
    class_counts: Sequence[int] | Tensor | None = None,
    label_smoothing: float = 0.0,
    drw_start_epoch: int | None = None,
) -> ClassificationLoss:
    """Create a classification loss by name.

    Every loss takes logits (N, C) and hard labels (N,) or soft targets (N, C), and has
    ``set_epoch(epoch)`` (which deferred re-weighting needs; call it at each epoch's start).

    Args:
        name: ``"ce"`` (softmax cross-entropy), ``"bce"`` (one-vs-all sigmoid) or
            ``"gumbel_bce"`` (one-vs-all Gumbel).
        class_counts: training images per class; required with ``drw_start_epoch``.
        label_smoothing: ε in [0, 1). Default: 0.
        drw_start_epoch: first epoch with class weights N/(C·n_c), or ``None`` for none.

    Example::

        >>> loss = build_loss("ce", class_counts=[30, 10], drw_start_epoch=2)
        >>> loss.set_epoch(2)
        >>> loss.reweighting
        True
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name](
        label_smoothing=label_smoothing,
        class_counts=class_counts,
        drw_start_epoch=drw_start_epoch,
    )
