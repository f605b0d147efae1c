"""Softmax cross-entropy and one-vs-all binary cross-entropy with soft targets and re-weighting."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from aglu.losses.base import ClassificationLoss

__all__ = ["BinaryCrossEntropyLoss", "CrossEntropyLoss"]


class CrossEntropyLoss(ClassificationLoss):
    r"""Softmax cross-entropy against hard labels or soft targets, with label smoothing and DRW.

    .. math::
        \ell_i = -\sum_c q_{ic} \log \operatorname{softmax}(x_i)_c

    with :math:`q` the smoothed target rows (see :class:`~aglu.losses.base.ClassificationLoss`
    for the arguments, the smoothing and the weights). Without re-weighting it equals
    :func:`torch.nn.functional.cross_entropy` with the same ``label_smoothing``.

    Shape:
        - logits: :math:`(N, C)`; targets: :math:`(N,)` integer labels or :math:`(N, C)` floats.
        - Output: scalar, or :math:`(N,)` with ``reduction="none"``.

    Example::

        >>> import torch
        >>> loss = CrossEntropyLoss()
        >>> logits = torch.tensor([[0.0, 0.0]])
        >>> loss(logits, torch.tensor([1]))  # log 2
        tensor(0.6931)
        >>> loss(logits, torch.tensor([[0.3, 0.7]]))  # soft targets: still log 2
        tensor(0.6931)
    """

    def per_sample_loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1)


class BinaryCrossEntropyLoss(ClassificationLoss):
    r"""One-vs-all binary cross-entropy on sigmoid scores, summed over classes, mean over samples.

    .. math::
        \ell_i = -\sum_c \big[q_{ic} \log \sigma(x_{ic}) + (1 - q_{ic}) \log \sigma(-x_{ic})\big]

    Label smoothing moves every target toward ε/C, as for the softmax loss (a positive becomes
    1 − ε + ε/C, a negative ε/C). Arguments as in :class:`~aglu.losses.base.ClassificationLoss`.

    .. note::
        The sum over classes (not the mean over N·C elements that
        :class:`torch.nn.BCEWithLogitsLoss` takes) keeps the gradient per sample independent of
        the number of classes.

    Shape:
        - logits: :math:`(N, C)`; targets: :math:`(N,)` integer labels or :math:`(N, C)` floats.
        - Output: scalar, or :math:`(N,)` with ``reduction="none"``.

    Example::

        >>> import torch
        >>> BinaryCrossEntropyLoss()(torch.zeros(1, 3), torch.tensor([0]))  # 3·log 2
        tensor(2.0794)
    """

    def per_sample_loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(dim=1)
