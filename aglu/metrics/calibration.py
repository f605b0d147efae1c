"""Expected and maximum calibration error over equal-width confidence bins."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from aglu.metrics.inputs import check_probabilities, check_targets

__all__ = [
    "CalibrationBins",
    "calibration_bins",
    "expected_calibration_error",
    "maximum_calibration_error",
]


class CalibrationBins(NamedTuple):
    """Per-bin statistics of the top-1 confidence (float64, NaN in empty bins)."""

    edges: Tensor  # (B + 1,): 0, 1/B, ..., 1
    counts: Tensor  # (B,): samples whose confidence falls in the bin
    accuracy: Tensor  # (B,): fraction of them predicted right
    confidence: Tensor  # (B,): their mean confidence

    def expected_error(self) -> float:
        """ECE: Σ_b (n_b / N)·|acc_b − conf_b| over the occupied bins; NaN when all are empty."""
        occupied = self.counts > 0
        if not occupied.any():
            return float("nan")
        gaps = (self.accuracy - self.confidence).abs()[occupied]
        return (self.counts[occupied] / self.counts.sum() * gaps).sum().item()

    def maximum_error(self) -> float:
        """MCE: max_b |acc_b − conf_b| over the occupied bins; NaN when all are empty."""
        occupied = self.counts > 0
        if not occupied.any():
            return float("nan")
        return (self.accuracy - self.confidence).abs()[occupied].max().item()


def calibration_bins(probs: Tensor, targets: Tensor, num_bins: int = 15) -> CalibrationBins:
    """Sort the samples into ``num_bins`` equal-width bins by their top-1 confidence.

    The confidence of a sample is its largest probability and its prediction the arg-max. Bin b
    holds confidences in (b/B, (b+1)/B]; a confidence of exactly 0 goes to the first bin.

    Args:
        probs: probabilities of shape (N, C) (softmax rows, or sigmoid scores per class).
        targets: labels of shape (N,) in [0, C).
        num_bins: B. Default: 15.

    Example::

        >>> probs = torch.tensor([[0.75, 0.25], [0.125, 0.875]])
        >>> bins = calibration_bins(probs, torch.tensor([0, 0]), num_bins=2)
        >>> bins.counts.tolist(), bins.accuracy.tolist(), bins.confidence.tolist()
        ([0.0, 2.0], [nan, 0.5], [nan, 0.8125])
    """
    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
        raise ValueError(f"num_bins must be a positive int; got {num_bins!r}")
    probs = check_probabilities(probs)
    targets = check_targets(targets, probs.shape[1], probs.shape[0])
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).double()
    edges = torch.linspace(0, 1, num_bins + 1, dtype=torch.float64)
    # bucketize with right=False puts x with edges[b] < x <= edges[b + 1] into bin b.
    bin_index = torch.bucketize(confidence, edges[1:-1])
    counts = torch.bincount(bin_index, minlength=num_bins).double()
    correct_sum = torch.bincount(bin_index, weights=correct, minlength=num_bins)
    confidence_sum = torch.bincount(bin_index, weights=confidence, minlength=num_bins)
    occupied = counts > 0
    accuracy = torch.where(occupied, correct_sum / counts.clamp(min=1), torch.nan)
    mean_confidence = torch.where(occupied, confidence_sum / counts.clamp(min=1), torch.nan)
    return CalibrationBins(edges, counts, accuracy, mean_confidence)


def expected_calibration_error(probs: Tensor, targets: Tensor, num_bins: int = 15) -> float:
    r"""Expected calibration error: the sample-weighted gap between accuracy and confidence.

    .. math::
        \text{ECE} = \sum_b \frac{n_b}{N}\,\big|\text{acc}_b - \text{conf}_b\big|

    over the equal-width bins of :func:`calibration_bins`. NaN for an empty input.

    Args:
        probs: probabilities of shape (N, C).
        targets: labels of shape (N,) in [0, C).
        num_bins: number of bins. Default: 15.

    Example::

        >>> probs = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
        >>> round(expected_calibration_error(probs, torch.tensor([0, 1, 1, 0]), num_bins=2), 6)
        0.25
    """
    return calibration_bins(probs, targets, num_bins).expected_error()


def maximum_calibration_error(probs: Tensor, targets: Tensor, num_bins: int = 15) -> float:
    r"""Maximum calibration error: the largest gap between accuracy and confidence in any bin.

    .. math::
        \text{MCE} = \max_{b:\, n_b > 0} \big|\text{acc}_b - \text{conf}_b\big|

    Args and bins as in :func:`expected_calibration_error`. NaN for an empty input.

    Example::

        >>> probs = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
        >>> # bins (0.5, 0.75] and (0.75, 1]: |0.5 − 0.65| = 0.15 and |0.5 − 0.85| = 0.35
        >>> round(maximum_calibration_error(probs, torch.tensor([0, 1, 1, 0]), num_bins=4), 6)
        0.35
    """
    return calibration_bins(probs, targets, num_bins).maximum_error()
