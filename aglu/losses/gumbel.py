"""The Gumbel link for one-vs-all classification: scores exp(−exp(−x)) and their binary loss.

The Gumbel CDF G(x) = exp(−exp(−x)) is the λ → 0 limit of APA with κ = 1 and is used as the class
score of long-tailed detectors (Alexandridis et al., "Long-tailed instance segmentation using
Gumbel optimized loss", ECCV 2022). Its logarithms are

    log G(x)       = −exp(−x)
    log(1 − G(x))  = log(−expm1(−e^(−x)))

and the second one needs care at both ends: for large x, e^(−x) underflows and 1 − G(x) rounds to
0 although log(1 − G(x)) ≈ −x; for very negative x, e^(−x) overflows. :func:`gumbel_log_sf`
switches between three forms so that the value and its gradient keep full precision everywhere.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from aglu.losses.base import ClassificationLoss

__all__ = ["GumbelBinaryCrossEntropyLoss", "gumbel_cdf", "gumbel_log_cdf", "gumbel_log_sf"]

# Above this x, t = e^(−x) < 4.6e-5 and log(1 − e^(−t)) = log t − t/2 + t²/24 − O(t⁴) is exact.
_SERIES_FROM = 10.0
# Below this x, t > log 2 and log1p(−e^(−t)) is the accurate form (Mächler's log1mexp split).
_LOG1P_BELOW = -math.log(math.log(2.0))
# Below this x, e^(−e^(−x)) is 0 in float64 and the survival log is 0 with a zero gradient.
_ZERO_BELOW = -50.0


def _upcast(x: Tensor) -> Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def gumbel_cdf(logits: Tensor) -> Tensor:
    r"""Gumbel scores :math:`G(x) = \exp(-\exp(-x))`, in (0, 1) and increasing in x.

    Example::

        >>> gumbel_cdf(torch.tensor([0.0]))  # exp(−1)
        tensor([0.3679])
    """
    return torch.exp(gumbel_log_cdf(logits))


def gumbel_log_cdf(logits: Tensor) -> Tensor:
    r""":math:`\log G(x) = -\exp(-x)` (half-precision inputs computed in float32).

    .. note::
        For x below about −88.7 the value is beyond float32's range and comes out −inf (in
        float64 below about −709.8).
    """
    return -torch.exp(-_upcast(logits))


def gumbel_log_sf(logits: Tensor) -> Tensor:
    r""":math:`\log(1 - G(x)) = \log(1 - \exp(-e^{-x}))`, accurate and finite for every finite x.

    With :math:`t = e^{-x}`: the series :math:`-x - t/2 + t^2/24` for x > 10,
    :math:`\log(-\operatorname{expm1}(-t))` for t ≤ log 2, :math:`\operatorname{log1p}(-e^{-t})`
    for t > log 2, and 0 (gradient 0) where :math:`e^{-t}` is below float64's range.
    Half-precision inputs are computed and returned in float32.

    Example::

        >>> gumbel_log_sf(torch.tensor([200.0, 0.0, -200.0]))  # ≈ −200, log(1 − e⁻¹), ≈ 0
        tensor([-200.0000,   -0.4587,   -0.0000])
    """
    x = _upcast(logits)
    is_series = x > _SERIES_FROM
    is_log1p = x <= _LOG1P_BELOW
    # Each branch sees only inputs in its own range, so that no masked branch makes inf or NaN
    # (a NaN in a branch that torch.where discards still poisons the gradient).
    t_series = torch.exp(-torch.where(is_series, x, torch.full_like(x, _SERIES_FROM + 1)))
    series = -x - t_series / 2 + t_series.square() / 24
    x_middle = x.clamp(_LOG1P_BELOW, _SERIES_FROM)
    middle = torch.log(-torch.expm1(-torch.exp(-x_middle)))
    x_low = x.clamp(_ZERO_BELOW, _LOG1P_BELOW)
    low = torch.log1p(-torch.exp(-torch.exp(-x_low)))
    return torch.where(is_series, series, torch.where(is_log1p, low, middle))


class GumbelBinaryCrossEntropyLoss(ClassificationLoss):
    r"""One-vs-all binary cross-entropy on Gumbel scores :math:`G(x) = \exp(-\exp(-x))`.

    .. math::
        \ell_i = -\sum_c \big[q_{ic} \log G(x_{ic}) + (1 - q_{ic}) \log(1 - G(x_{ic}))\big]
               = \sum_c \big[q_{ic}\, e^{-x_{ic}} - (1 - q_{ic}) \log(1 - G(x_{ic}))\big]

    computed with :func:`gumbel_log_cdf` and :func:`gumbel_log_sf`. Use :func:`gumbel_cdf` for
    the scores at inference. Arguments, smoothing and re-weighting as in
    :class:`~aglu.losses.base.ClassificationLoss`; summed over classes, mean over samples.

    .. note::
        A positive with a logit below about −88.7 has a loss beyond float32's range (e^88.7); the
        loss is then inf, as it truly is in float32. Initialise the classifier bias near 0 or
        above (the Gumbel prior) to stay far from it.

    Shape:
        - logits: :math:`(N, C)`; targets: :math:`(N,)` integer labels or :math:`(N, C)` floats.
        - Output: scalar, or :math:`(N,)` with ``reduction="none"``.

    Example::

        >>> loss = GumbelBinaryCrossEntropyLoss()
        >>> loss(torch.zeros(1, 2), torch.tensor([0]))  # e⁰ − log(1 − e⁻¹)
        tensor(1.4587)
    """

    def per_sample_loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        positive = targets * gumbel_log_cdf(logits)
        negative = (1 - targets) * gumbel_log_sf(logits)
        return -(positive + negative).sum(dim=1)
