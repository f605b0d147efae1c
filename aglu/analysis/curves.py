"""APA and AGLU curves with their z, λ and κ derivatives (autograd, float64); the special cases."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from aglu import functional

__all__ = ["activation_curves", "check_shape_parameters", "special_case_curves"]

CurveSet = dict[str, Tensor]


def check_shape_parameters(lambda_: float, kappa: float) -> None:
    """Reject a λ or κ that APA is not defined for."""
    if not math.isfinite(lambda_) or lambda_ < 0:
        raise ValueError(f"lambda={lambda_} is not allowed; λ must be a finite number ≥ 0")
    if not math.isfinite(kappa):
        raise ValueError(f"kappa={kappa} is not allowed; κ must be a finite number")


def activation_curves(z: Tensor, lambda_: float, kappa: float) -> dict[str, CurveSet]:
    r"""APA and AGLU at every point of ``z`` with their three derivatives, in float64.

    The derivatives come from autograd through :mod:`aglu.functional` (its hand-written
    backward), with λ and κ spread over one entry per point so that each point gets its own
    :math:`\partial/\partial\lambda` and :math:`\partial/\partial\kappa`.

    Args:
        z: the points, any shape.
        lambda_: λ ≥ 0 (0 is the Gumbel limit).
        kappa: κ, any finite real.

    Returns:
        ``{"apa": curves, "aglu": curves}``; each ``curves`` maps ``value``, ``d_dz``,
        ``d_dlambda``, ``d_dkappa`` to float64 tensors of ``z``'s shape.

    Example:
        >>> import torch
        >>> curves = activation_curves(torch.tensor([0.0]), lambda_=1.0, kappa=1.0)
        >>> curves["apa"]["value"].item(), curves["apa"]["d_dz"].item()
        (0.5, 0.25)
    """
    check_shape_parameters(lambda_, kappa)
    result = {}
    for name, function in (("apa", functional.apa), ("aglu", functional.aglu)):
        points = z.detach().to(torch.float64).clone().requires_grad_(True)
        lambdas = torch.full_like(points, lambda_, requires_grad=True)
        kappas = torch.full_like(points, kappa, requires_grad=True)
        value = function(points, lambdas, kappas)
        d_dz, d_dlambda, d_dkappa = torch.autograd.grad(value.sum(), (points, lambdas, kappas))
        result[name] = {
            "value": value.detach(),
            "d_dz": d_dz,
            "d_dlambda": d_dlambda,
            "d_dkappa": d_dkappa,
        }
    return result


def _gumbel_cdf(z: Tensor) -> Tensor:
    return torch.exp(-torch.exp(-z))


SPECIAL_CASES = {
    "sigmoid": torch.sigmoid,  # APA at λ = 1, κ = 1
    "gumbel": _gumbel_cdf,  # APA at λ → 0, κ = 1
    "silu": torch.nn.functional.silu,  # AGLU at λ = κ = 1
    "relu": torch.relu,  # AGLU as κ → ∞
}


def special_case_curves(z: Tensor) -> dict[str, CurveSet]:
    """Sigmoid, Gumbel CDF, SiLU and ReLU with their z-derivatives (autograd, float64).

    Example:
        >>> import torch
        >>> special_case_curves(torch.tensor([0.0]))["gumbel"]["value"].item() == math.exp(-1)
        True
    """
    result = {}
    for name, function in SPECIAL_CASES.items():
        points = z.detach().to(torch.float64).clone().requires_grad_(True)
        value = function(points)
        (d_dz,) = torch.autograd.grad(value.sum(), points)
        result[name] = {"value": value.detach(), "d_dz": d_dz}
    return result
