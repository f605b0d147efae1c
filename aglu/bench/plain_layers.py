"""APA and AGLU composed from plain torch ops under autograd: the baseline for the benchmarks.

This is how the paper's code builds the layers (one scalar λ and κ, λ clamped at 1e-4, the formula
written out so autograd keeps every intermediate); :class:`aglu.AGLU` and :class:`aglu.APA` compute
the same function with a hand-written backward. Only the benchmarks use these.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["PlainAGLU", "PlainAPA"]

_LAMBDA_MIN = 1e-4


class _PlainAdaptive(nn.Module):
    gated: bool
    kappa_range: tuple[float, float]

    def __init__(self) -> None:
        super().__init__()
        self.lambda_ = nn.Parameter(torch.empty(1).uniform_(0.0, 1.0))
        self.kappa = nn.Parameter(torch.empty(1).uniform_(*self.kappa_range))

    def forward(self, input: Tensor) -> Tensor:
        # APA = (1 + λe^(−κz))^(−1/λ) = exp((1/λ)·softplus_{β=−1}(κz − log λ)), as the paper's
        # code composes it: softplus with β = −1 is −log(1 + e^(−x)), and 1/λ is a scalar, so the
        # full-size ops are κz, − log λ, softplus, · 1/λ, exp (and · z for AGLU).
        lambda_ = self.lambda_.clamp(min=_LAMBDA_MIN)
        log_apa = (1 / lambda_) * F.softplus(self.kappa * input - torch.log(lambda_), beta=-1.0)
        gate = torch.exp(log_apa)
        return input * gate if self.gated else gate


class PlainAPA(_PlainAdaptive):
    r"""APA gate :math:`(1 + \lambda e^{-\kappa z})^{-1/\lambda}` from plain ops; κ ~ U(−1, 0).

    The attention-gate initialisation of the paper's ResNet code (and of ``create_gate("apa")``).

    Example:
        >>> import torch
        >>> gate = PlainAPA()
        >>> with torch.no_grad():
        ...     _ = gate.lambda_.fill_(1.0), gate.kappa.fill_(2.0)
        >>> z = torch.linspace(-3, 3, 7)
        >>> torch.allclose(gate(z), torch.sigmoid(2 * z))
        True
    """

    gated = False
    kappa_range = (-1.0, 0.0)


class PlainAGLU(_PlainAdaptive):
    r"""AGLU :math:`z (1 + \lambda e^{-\kappa z})^{-1/\lambda}` from plain ops; κ ~ U(0.8, 1.2).

    Example:
        >>> import torch
        >>> act = PlainAGLU()
        >>> with torch.no_grad():
        ...     _ = act.lambda_.fill_(1.0), act.kappa.fill_(1.0)
        >>> z = torch.linspace(-3, 3, 7)
        >>> torch.allclose(act(z), torch.nn.functional.silu(z))
        True
    """

    gated = True
    kappa_range = (0.8, 1.2)
