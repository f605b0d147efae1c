"""Distribution fits: recover known parameters, pick the right family, report degenerate input."""

import json
import math

import numpy as np
import pytest
import torch

from aglu.analysis.fits import fit_distributions, subsample

SIZE = 20_000

# family -> (numpy sampler, loc, scale)
CASES = {
    "normal": ("normal", 1.5, 2.0),
    "logistic": ("logistic", -0.5, 0.7),
    "gumbel": ("gumbel", 2.0, 1.3),
}


@pytest.mark.parametrize("family", list(CASES))
def test_fit_recovers_parameters_and_family(family):
    sampler, loc, scale = CASES[family]
    sample = getattr(np.random.default_rng(7), sampler)(loc, scale, size=SIZE)

    result = fit_distributions(sample, max_values=SIZE)

    assert result.best == family
    assert not result.degenerate and result.count == result.fitted_count == SIZE
    fitted = result.fits[family]
    # Maximum-likelihood standard errors are below scale/sqrt(n) for all three families.
    tolerance = 5 * scale / math.sqrt(SIZE)
    assert fitted.loc == pytest.approx(loc, abs=tolerance)
    assert fitted.scale == pytest.approx(scale, abs=tolerance)
    assert fitted.ks_statistic < 0.015
    assert all(
        other.ks_statistic > fitted.ks_statistic
        for other in result.fits.values()
        if other is not fitted
    )


def test_normal_fit_matches_closed_form():
    sample = np.random.default_rng(3).normal(0.3, 1.7, size=5000)
    mean, std = sample.mean(), sample.std()

    fit = fit_distributions(sample).fits["normal"]

    assert fit.loc == pytest.approx(mean, rel=1e-9)
    assert fit.scale == pytest.approx(std, rel=1e-6)
    # At the MLE the mean log-likelihood is −½·log(2πσ²) − ½.
    assert fit.log_likelihood == pytest.approx(
        -0.5 * math.log(2 * math.pi * std**2) - 0.5, rel=1e-6
    )
    # KS statistic by hand: the largest gap between the empirical and the fitted CDF.
    ordered = np.sort(sample)
    cdf = np.array([0.5 * (1 + math.erf((x - mean) / (std * math.sqrt(2)))) for x in ordered])
    steps = np.arange(1, ordered.size + 1) / ordered.size
    expected = max((steps - cdf).max(), (cdf - (steps - 1 / ordered.size)).max())
    assert fit.ks_statistic == pytest.approx(expected, rel=1e-4)


def test_gumbel_skewness_and_moments():
    sample = np.random.default_rng(0).gumbel(0.0, 1.0, size=SIZE)
    result = fit_distributions(torch.from_numpy(sample))  # tensors work too
    # The Gumbel distribution's skewness is 12·√6·ζ(3)/π³ ≈ 1.1395.
    assert result.skewness == pytest.approx(1.1395, abs=0.1)
    assert result.mean == pytest.approx(0.5772, abs=0.03)  # Euler–Mascheroni constant
    assert result.fitted_count == 10_000 and result.count == SIZE


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (np.full(50, 2.5), "constant input (every value is 2.5)"),
        (np.zeros(0), "0 finite value(s) of 0; need at least 2"),
        (np.array([1.0, np.nan, np.inf]), "1 finite value(s) of 3; need at least 2"),
    ],
)
def test_degenerate_input_is_reported(values, reason):
    result = fit_distributions(values)
    assert result.degenerate and result.reason == reason
    assert result.best is None and result.fits == {}
    json.dumps(result.to_dict(), allow_nan=False)  # NaN moments become null


def test_non_finite_values_are_dropped():
    sample = np.random.default_rng(1).normal(size=1000)
    with_nan = np.concatenate([sample, [np.nan, np.inf, -np.inf]])
    assert fit_distributions(with_nan).fits["normal"].loc == pytest.approx(sample.mean())
    assert fit_distributions(with_nan).count == 1000


def test_subsample_is_seeded_and_bounded():
    values = np.arange(1000.0)
    first, again = subsample(values, 100, seed=4), subsample(values, 100, seed=4)
    assert first.size == 100 and np.unique(first).size == 100
    assert np.array_equal(first, again)
    assert not np.array_equal(first, subsample(values, 100, seed=5))
    assert subsample(values, 5000) is values
    with pytest.raises(ValueError, match="max_values=0"):
        subsample(values, 0)
