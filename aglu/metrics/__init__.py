"""Evaluation metrics for long-tailed classification: accuracy, per-shot accuracy, calibration.

Everything here counts exactly what it is given (no sampling, no padding); under distributed
evaluation gather the per-rank results first with :func:`all_gather_uneven`.
"""

from aglu.metrics.accuracy import per_class_accuracy, topk_accuracy
from aglu.metrics.calibration import (
    CalibrationBins,
    calibration_bins,
    expected_calibration_error,
    maximum_calibration_error,
)
from aglu.metrics.distributed import all_gather_uneven
from aglu.metrics.reliability import reliability_diagram
from aglu.metrics.shots import SHOT_GROUPS, shot_accuracy, shot_groups

__all__ = [
    "SHOT_GROUPS",
    "CalibrationBins",
    "all_gather_uneven",
    "calibration_bins",
    "expected_calibration_error",
    "maximum_calibration_error",
    "per_class_accuracy",
    "reliability_diagram",
    "shot_accuracy",
    "shot_groups",
    "topk_accuracy",
]
