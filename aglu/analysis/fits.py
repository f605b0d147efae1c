"""Fit Normal, Logistic and Gumbel distributions to a sample and rank them by log-likelihood.

The paper's argument (Alexandridis et al., ECCV 2024) is that the gate should match the
distribution of what flows into it: a sigmoid is the Logistic CDF, the λ → 0 limit of APA is the
Gumbel CDF. This module measures which of the three a layer's input resembles.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["FAMILIES", "DistributionFit", "FamilyFit", "fit_distributions", "subsample"]

logger = logging.getLogger(__name__)

# family name -> scipy.stats distribution name; each has a location and a scale.
FAMILIES: dict[str, str] = {"normal": "norm", "logistic": "logistic", "gumbel": "gumbel_r"}

DEFAULT_MAX_VALUES = 10_000


@dataclass
class FamilyFit:
    """One fitted family: its parameters, the mean log-likelihood per value and the KS statistic."""

    loc: float
    scale: float
    log_likelihood: float
    ks_statistic: float


@dataclass
class DistributionFit:
    """The fits of every family to one sample, with the sample's moments.

    Attributes:
        count: how many finite values the sample held before subsampling.
        fitted_count: how many of them the fits used.
        degenerate: True when the sample cannot be fitted (constant, or fewer than two values);
            ``reason`` then says why, and ``fits`` is empty.
        best: the family with the highest log-likelihood (all have two parameters, so this is
            also the best by AIC), or None when degenerate.
    """

    count: int
    fitted_count: int
    mean: float
    std: float
    min: float
    max: float
    skewness: float
    degenerate: bool = False
    reason: str | None = None
    best: str | None = None
    fits: dict[str, FamilyFit] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict (non-finite floats become None)."""
        return _json_ready(asdict(self))


def _json_ready(value):
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def subsample(values: np.ndarray, max_values: int, seed: int = 0) -> np.ndarray:
    """At most ``max_values`` of ``values``, drawn without replacement by a seeded generator."""
    if max_values < 1:
        raise ValueError(f"max_values={max_values} must be a positive int")
    if values.size <= max_values:
        return values
    generator = np.random.default_rng(seed)
    return values[generator.choice(values.size, size=max_values, replace=False)]


def _moments(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        nan = float("nan")
        return {"mean": nan, "std": nan, "min": nan, "max": nan, "skewness": nan}
    mean, std = float(values.mean()), float(values.std())
    skewness = float(((values - mean) ** 3).mean() / std**3) if std > 0 else float("nan")
    return {
        "mean": mean,
        "std": std,
        "min": float(values.min()),
        "max": float(values.max()),
        "skewness": skewness,
    }


def _fit_family(distribution, values: np.ndarray) -> FamilyFit | None:
    """Maximum-likelihood fit of one location-scale family; None when SciPy cannot fit it."""
    from scipy import stats

    try:
        loc, scale = distribution.fit(values)
    except (RuntimeError, ValueError, FloatingPointError) as error:
        logger.warning("%s fit failed: %s", distribution.name, error)
        return None
    if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0):
        return None
    log_likelihood = float(distribution.logpdf(values, loc, scale).mean())
    ks_statistic = float(stats.kstest(values, distribution.cdf, args=(loc, scale)).statistic)
    return FamilyFit(float(loc), float(scale), log_likelihood, ks_statistic)


def fit_distributions(
    values, *, max_values: int = DEFAULT_MAX_VALUES, seed: int = 0
) -> DistributionFit:
    """Fit Normal, Logistic and Gumbel (right-skewed) distributions to ``values``.

    Non-finite values are dropped; a larger sample is cut to ``max_values`` by a seeded draw so
    that a fit costs the same for every layer. Each family is fitted by maximum likelihood
    (``scipy.stats``); the result holds, per family, the location and scale, the mean
    log-likelihood per value and the Kolmogorov–Smirnov statistic against the fitted CDF.

    Args:
        values: a tensor or array of any shape (flattened).
        max_values: the most values the fits use.
        seed: seed of the subsampling draw.

    Returns:
        A :class:`DistributionFit`; a constant sample is marked ``degenerate`` instead of fitted.

    Example:
        >>> import numpy as np
        >>> sample = np.random.default_rng(0).gumbel(2.0, 0.5, size=5000)
        >>> result = fit_distributions(sample)
        >>> result.best, round(result.fits["gumbel"].loc, 1), round(result.fits["gumbel"].scale, 1)
        ('gumbel', 2.0, 0.5)
        >>> fit_distributions(np.zeros(10)).reason
        'constant input (every value is 0)'
    """
    from scipy import stats

    array = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values)
    array = array.astype(np.float64, copy=False).ravel()
    finite = array[np.isfinite(array)]
    result = DistributionFit(count=int(finite.size), fitted_count=0, **_moments(finite))
    if finite.size < 2:
        result.degenerate = True
        result.reason = f"{finite.size} finite value(s) of {array.size}; need at least 2"
        return result
    if result.min == result.max:
        result.degenerate = True
        result.reason = f"constant input (every value is {result.min:g})"
        return result

    sample = subsample(finite, max_values, seed)
    result.fitted_count = int(sample.size)
    for family, scipy_name in FAMILIES.items():
        fitted = _fit_family(getattr(stats, scipy_name), sample)
        if fitted is not None:
            result.fits[family] = fitted
    if not result.fits:
        result.degenerate = True
        result.reason = "no family could be fitted"
        return result
    result.best = max(result.fits, key=lambda name: result.fits[name].log_likelihood)
    return result
