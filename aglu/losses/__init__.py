"""Training losses for long-tailed classification and the IIF logit adjustment for inference."""

from aglu.losses.base import ClassificationLoss
from aglu.losses.classification import BinaryCrossEntropyLoss, CrossEntropyLoss
from aglu.losses.factory import LOSSES, build_loss
from aglu.losses.gumbel import (
    GumbelBinaryCrossEntropyLoss,
    gumbel_cdf,
    gumbel_log_cdf,
    gumbel_log_sf,
)
from aglu.losses.iif import IIF_VARIANTS, adjust_logits, iif_offsets
from aglu.losses.weights import inverse_frequency_weights

__all__ = [
    "IIF_VARIANTS",
    "LOSSES",
    "BinaryCrossEntropyLoss",
    "ClassificationLoss",
    "CrossEntropyLoss",
    "GumbelBinaryCrossEntropyLoss",
    "adjust_logits",
    "build_loss",
    "gumbel_cdf",
    "gumbel_log_cdf",
    "gumbel_log_sf",
    "iif_offsets",
    "inverse_frequency_weights",
]
