"""Score logits as the paper does: top-k, shot groups, calibration; with and without IIF."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

__all__ = ["METRIC_NAMES", "EvalResult", "evaluate_logits"]

# The keys of metrics.json; each also appears with the suffix "_iif". Accuracies and ECE in percent.
METRIC_NAMES = ("top1", "top5", "many", "medium", "few", "ece")


@dataclass
class EvalResult:
    """What one evaluation produced.

    Attributes:
        metrics: ``top1``, ``top5``, ``many``, ``medium``, ``few``, ``ece`` (percent) and the same
            keys with ``_iif`` after the IIF offset, plus ``num_samples``.
        per_class: ``accuracy`` and ``accuracy_iif`` (percent per class) and ``train_counts``.
        logits: the ``(N, C)`` raw logits, in dataset order.
        targets: the ``(N,)`` labels.
        iif_offsets: the ``(C,)`` offsets added for the ``_iif`` metrics.
        epoch: the epoch the scores belong to, when known.
    """

    metrics: dict[str, float]
    per_class: dict[str, Any]
    logits: Tensor
    targets: Tensor
    iif_offsets: Tensor
    epoch: int | None = field(default=None)


def _scores(
    logits: Tensor,
    targets: Tensor,
    train_counts: list[int],
    num_bins: int,
    many_threshold: int,
    few_threshold: int,
) -> tuple[dict[str, float], list[float]]:
    from aglu.metrics import (
        expected_calibration_error,
        per_class_accuracy,
        shot_accuracy,
        topk_accuracy,
    )

    num_classes = logits.shape[1]
    predictions = logits.argmax(dim=1)
    probs = logits.double().softmax(dim=1)
    scores = dict(topk_accuracy(logits, targets, topk=(1, min(5, num_classes))))
    if num_classes < 5:
        scores["top5"] = scores.pop(f"top{num_classes}")
    shots = shot_accuracy(
        predictions,
        targets,
        train_counts,
        many_threshold=many_threshold,
        few_threshold=few_threshold,
    )
    scores.update({group: shots[group] for group in ("many", "medium", "few")})
    scores["ece"] = expected_calibration_error(probs, targets, num_bins=num_bins)
    per_class = per_class_accuracy(predictions, targets, num_classes)
    scores = {key: 100.0 * float(value) for key, value in scores.items()}
    return scores, [100.0 * float(value) for value in per_class]


def evaluate_logits(
    logits: Tensor,
    targets: Tensor,
    train_counts: list[int],
    *,
    iif_variant: str = "rel",
    num_bins: int = 15,
    many_threshold: int = 100,
    few_threshold: int = 20,
) -> EvalResult:
    """Score ``logits`` against ``targets``, raw and after adding the IIF offsets.

    Args:
        logits: ``(N, C)`` scores of the balanced evaluation split.
        targets: ``(N,)`` labels.
        train_counts: training images per class (IIF offsets and shot groups).
        iif_variant: one of :data:`aglu.losses.IIF_VARIANTS`.
        num_bins: bins of the expected calibration error.
        many_threshold: a class with more training images is "many-shot".
        few_threshold: a class with fewer training images is "few-shot".

    Returns:
        an :class:`EvalResult`; a shot group without classes scores NaN.
    """
    from aglu.losses import iif_offsets

    offsets = iif_offsets(train_counts, iif_variant)
    thresholds = {
        "num_bins": num_bins,
        "many_threshold": many_threshold,
        "few_threshold": few_threshold,
    }
    raw, raw_per_class = _scores(logits, targets, train_counts, **thresholds)
    adjusted, adjusted_per_class = _scores(logits + offsets, targets, train_counts, **thresholds)
    metrics = {name: raw[name] for name in METRIC_NAMES}
    metrics.update({f"{name}_iif": adjusted[name] for name in METRIC_NAMES})
    metrics["num_samples"] = len(targets)
    per_class = {
        "accuracy": raw_per_class,
        "accuracy_iif": adjusted_per_class,
        "train_counts": list(train_counts),
        "iif_variant": iif_variant,
    }
    return EvalResult(metrics, per_class, logits, targets, offsets)
