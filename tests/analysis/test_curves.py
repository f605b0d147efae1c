"""APA/AGLU curves and derivatives against the closed forms, and the special cases."""

import math

import pytest
import torch

from aglu.analysis.curves import activation_curves, special_case_curves

Z = torch.linspace(-6, 6, 97, dtype=torch.float64)


def closed_form(z, lambda_, kappa):
    """APA, AGLU and their derivatives written out from the formulas (float64)."""
    exp_kz = torch.exp(kappa * z)
    u = lambda_ * torch.exp(-kappa * z)
    p = (1 + u) ** (-1 / lambda_)
    g = p / (exp_kz + lambda_)
    dp = {
        "value": p,
        "d_dz": kappa * g,
        "d_dkappa": z * g,
        "d_dlambda": p * (torch.log1p(u) / lambda_**2 - 1 / (lambda_ * (exp_kz + lambda_))),
    }
    aglu = {
        "value": z * p,
        "d_dz": p + z * dp["d_dz"],
        "d_dkappa": z * dp["d_dkappa"],
        "d_dlambda": z * dp["d_dlambda"],
    }
    return {"apa": dp, "aglu": aglu}


@pytest.mark.parametrize(("lambda_", "kappa"), [(0.3, 1.0), (1.0, 1.0), (2.5, -0.7), (0.8, 2.0)])
def test_curves_match_closed_form(lambda_, kappa):
    curves = activation_curves(Z, lambda_, kappa)
    expected = closed_form(Z, lambda_, kappa)
    for name in ("apa", "aglu"):
        for key, reference in expected[name].items():
            assert curves[name][key].dtype == torch.float64
            torch.testing.assert_close(curves[name][key], reference, rtol=1e-9, atol=1e-12)


def test_lambda_zero_is_gumbel_and_lambda_one_is_sigmoid():
    gumbel = activation_curves(Z, 0.0, 1.5)["apa"]["value"]
    torch.testing.assert_close(gumbel, torch.exp(-torch.exp(-1.5 * Z)), rtol=1e-12, atol=1e-14)
    silu = activation_curves(Z, 1.0, 1.0)["aglu"]
    torch.testing.assert_close(silu["value"], torch.nn.functional.silu(Z))
    sigmoid = torch.sigmoid(Z)
    torch.testing.assert_close(silu["d_dz"], sigmoid * (1 + Z * (1 - sigmoid)))


def test_special_cases_and_their_slopes():
    cases = special_case_curves(Z)
    sigmoid = torch.sigmoid(Z)
    torch.testing.assert_close(cases["sigmoid"]["d_dz"], sigmoid * (1 - sigmoid))
    gumbel = torch.exp(-torch.exp(-Z))
    torch.testing.assert_close(cases["gumbel"]["d_dz"], gumbel * torch.exp(-Z))
    torch.testing.assert_close(cases["relu"]["d_dz"], (Z > 0).double())
    assert cases["gumbel"]["value"][48].item() == pytest.approx(math.exp(-1))  # z = 0


@pytest.mark.parametrize(("lambda_", "kappa"), [(-0.5, 1.0), (float("nan"), 1.0), (1.0, math.inf)])
def test_bad_shape_parameters_are_rejected(lambda_, kappa):
    with pytest.raises(ValueError, match=r"lambda=|kappa="):
        activation_curves(Z, lambda_, kappa)
