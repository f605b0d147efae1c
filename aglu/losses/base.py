"""The frame the classification losses share: targets, label smoothing, deferred re-weighting."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from aglu.losses.targets import smooth_targets, target_distribution
from aglu.losses.weights import inverse_frequency_weights

__all__ = ["ClassificationLoss"]

_REDUCTIONS = ("mean", "sum", "none")


class ClassificationLoss(nn.Module):
    r"""Base of the losses here: subclasses give the per-sample loss of smoothed target rows.

    The forward pass turns hard labels (N,) or soft targets (N, C) into target rows y, smooths
    them to :math:`q = (1 − ε)·y + ε/C`, asks the subclass for the per-sample loss
    :math:`\ell_i(x_i, q_i)`, multiplies it by the sample's class weight
    :math:`\sum_c y_{ic} w_c` while re-weighting is on (the label's weight for hard labels, the
    mixture of weights for MixUp/CutMix targets), and reduces over the batch.

    Deferred re-weighting (DRW): with ``class_counts`` and ``drw_start_epoch`` given, the weights
    :func:`~aglu.losses.weights.inverse_frequency_weights` apply from that epoch on; call
    :meth:`set_epoch` at the start of every epoch. With ``drw_start_epoch=None`` no weights apply.

    Args:
        label_smoothing: ε in [0, 1). Default: 0.
        class_counts: training images per class; required when ``drw_start_epoch`` is set.
        drw_start_epoch: first epoch (0-based) with re-weighting, or ``None`` for never.
        reduction: ``"mean"`` over the batch (default), ``"sum"`` or ``"none"``.
    """

    def __init__(
        self,
        label_smoothing: float = 0.0,
        class_counts: Sequence[int] | Tensor | None = None,
        drw_start_epoch: int | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing}")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}")
        if drw_start_epoch is not None:
            if class_counts is None:
                raise ValueError(
                    f"drw_start_epoch={drw_start_epoch} needs class_counts (the training images "
                    "per class); pass class_counts or drop drw_start_epoch"
                )
            if isinstance(drw_start_epoch, bool) or not isinstance(drw_start_epoch, int):
                raise TypeError(f"drw_start_epoch must be an int; got {drw_start_epoch!r}")
            if drw_start_epoch < 0:
                raise ValueError(f"drw_start_epoch must be >= 0; got {drw_start_epoch}")
        self.label_smoothing = float(label_smoothing)
        self.drw_start_epoch = drw_start_epoch
        self.reduction = reduction
        self.epoch = 0
        weights = None
        if drw_start_epoch is not None and class_counts is not None:
            # Kept in float64 and cast to the logits' dtype at use.
            weights = inverse_frequency_weights(class_counts, dtype=torch.float64)
        self.register_buffer("class_weights", weights, persistent=False)

    def set_epoch(self, epoch: int) -> None:
        """Tell the loss which epoch starts (0-based); deferred re-weighting depends on it."""
        self.epoch = int(epoch)

    @property
    def reweighting(self) -> bool:
        """Whether class weights apply at the current epoch."""
        return self.drw_start_epoch is not None and self.epoch >= self.drw_start_epoch

    def per_sample_loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Loss of each sample, shape (N,), from float logits (N, C) and target rows (N, C)."""
        raise NotImplementedError

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        if logits.dim() != 2:
            raise ValueError(f"logits must have shape (N, C); got {tuple(logits.shape)}")
        if targets.shape[0] != logits.shape[0]:
            raise ValueError(
                f"targets of shape {tuple(targets.shape)} do not match logits of shape "
                f"{tuple(logits.shape)} in the batch dimension"
            )
        num_classes = logits.shape[1]
        if self.class_weights is not None and self.class_weights.numel() != num_classes:
            raise ValueError(
                f"class_counts has {self.class_weights.numel()} classes but logits have "
                f"{num_classes}; pass the counts of the model's classes"
            )
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()  # the loss is summed over classes: keep it in float32
        distribution = target_distribution(targets, num_classes, logits.dtype)
        loss = self.per_sample_loss(logits, smooth_targets(distribution, self.label_smoothing))
        if self.reweighting:
            loss = loss * (distribution @ self.class_weights.to(logits.dtype))
        if self.reduction == "mean":
            return loss.mean()
        return loss.sum() if self.reduction == "sum" else loss

    def extra_repr(self) -> str:
        return (
            f"label_smoothing={self.label_smoothing}, drw_start_epoch={self.drw_start_epoch}, "
            f"reduction={self.reduction!r}"
        )
