"""The math of Adaptive Parametric Activation (Alexandridis et al., ECCV 2024, arXiv 2407.08567).

    APA(z; λ, κ)  = (1 + λ·exp(−κz)) ^ (−1/λ)        λ ≥ 0 (λ = 0 is the Gumbel limit)
    AGLU(z; λ, κ) = z · APA(z; λ, κ)

Everything is computed in log space: with t = −κz and u = λ·e^t,

    s = log1p(u) / λ            (s = e^t at λ = 0),   APA = exp(−s)

which never forms a plain e^t that could overflow into 0·inf. The backward pass is written by hand
(see :class:`_APAFunction`) so that only the input is saved for backward, and every derivative,
including both terms of ∂/∂λ, stays finite for any z, any κ and any λ ≥ 0.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["aglu", "apa"]

# Below this u = λ·e^t the λ-derivative uses its power series (the closed form cancels there).
_SERIES_LIMIT = 0.1
_SERIES_TERMS = 12


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Half-precision inputs are computed in float32 and returned in their own dtype."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _log_term(z: Tensor, lambda_: Tensor, kappa: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Return (t, u, s) with t = −κz, u = λ·e^t and s = log1p(u)/λ = −log APA."""
    t = -kappa * z
    exp_t = torch.exp(t)
    is_gumbel = lambda_ == 0
    u = torch.where(is_gumbel, torch.zeros_like(exp_t), lambda_ * exp_t)
    safe_u = torch.where(u > 0, u, torch.ones_like(u))
    log1p_ratio = torch.where(u > 0, torch.log1p(safe_u) / safe_u, torch.ones_like(u))
    s_small = exp_t * log1p_ratio  # exact for small u, including λ = 0
    safe_lambda = torch.where(is_gumbel, torch.ones_like(lambda_), lambda_)
    s_large = torch.nn.functional.softplus(torch.log(safe_lambda) + t) / safe_lambda
    s = torch.where(is_gumbel | (u < 1), s_small, s_large)
    return t, u, s


def _dlogterm_dlambda(t: Tensor, u: Tensor, s: Tensor, lambda_: Tensor) -> Tensor:
    """∂s/∂λ = (u/(1+u) − log1p(u)) / λ², with a power series where u is small (and at λ = 0)."""
    safe_lambda = torch.where(lambda_ > 0, lambda_, torch.ones_like(lambda_))
    # u/(1+u) = sigmoid(log λ + t) and log1p(u) = λ·s stay finite where u overflows.
    closed = (torch.sigmoid(torch.log(safe_lambda) + t) - safe_lambda * s) / safe_lambda**2
    # Σ_{k≥2} (−1)^(k+1) (k−1)/k · u^(k−2), evaluated by Horner's rule, times e^(2t).
    series = torch.zeros_like(u)
    for k in range(_SERIES_TERMS + 1, 1, -1):
        series = series * u + (-1) ** (k + 1) * (k - 1) / k
    series = series * torch.exp(2 * t)
    return torch.where(u < _SERIES_LIMIT, series, closed)


def _apa_forward(z: Tensor, lambda_: Tensor, kappa: Tensor, gated: bool) -> Tensor:
    _, _, s = _log_term(z, lambda_, kappa)
    p = torch.exp(-s)
    return z * p if gated else p


def _apa_backward(
    grad: Tensor, z: Tensor, lambda_: Tensor, kappa: Tensor, gated: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of APA (or AGLU when ``gated``) with respect to z, λ and κ (unreduced)."""
    t, u, s = _log_term(z, lambda_, kappa)
    p = torch.exp(-s)
    # g = p / (e^(κz) + λ), formed in log space: log g = −s − logaddexp(−t, log λ).
    g = torch.exp(-s - torch.logaddexp(-t, torch.log(lambda_)))
    dp_dz = kappa * g
    dp_dkappa = z * g
    dp_dlambda = torch.where(p > 0, -p * _dlogterm_dlambda(t, u, s, lambda_), torch.zeros_like(p))
    if gated:
        return grad * (p + z * dp_dz), grad * z * dp_dlambda, grad * z * dp_dkappa
    return grad * dp_dz, grad * dp_dlambda, grad * dp_dkappa


def _reduce_to(grad: Tensor, shape: torch.Size) -> Tensor:
    """Sum a broadcast gradient back to a parameter's shape."""
    if grad.shape == shape:
        return grad
    extra = grad.dim() - len(shape)
    grad = grad.sum(dim=tuple(range(extra))) if extra > 0 else grad
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(dim=dims, keepdim=True) if dims else grad


class _APAFunction(torch.autograd.Function):
    """APA / AGLU with a hand-written backward that saves only the input and the parameters."""

    @staticmethod
    def forward(ctx, z: Tensor, lambda_: Tensor, kappa: Tensor, gated: bool) -> Tensor:
        dtype = _compute_dtype(z.dtype)
        out = _apa_forward(z.to(dtype), lambda_.to(dtype), kappa.to(dtype), gated)
        ctx.save_for_backward(z, lambda_, kappa)
        ctx.gated = gated
        return out.to(z.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):
        z, lambda_, kappa = ctx.saved_tensors
        dtype = _compute_dtype(z.dtype)
        grad_z, grad_lambda, grad_kappa = _apa_backward(
            grad.to(dtype), z.to(dtype), lambda_.to(dtype), kappa.to(dtype), ctx.gated
        )
        grad_lambda = _reduce_to(grad_lambda, lambda_.shape).to(lambda_.dtype)
        grad_kappa = _reduce_to(grad_kappa, kappa.shape).to(kappa.dtype)
        return grad_z.to(z.dtype), grad_lambda, grad_kappa, None


def _check_inputs(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float):
    if not isinstance(input, Tensor) or not input.is_floating_point():
        kind = type(input).__name__ if not isinstance(input, Tensor) else input.dtype
        raise TypeError(f"APA/AGLU need a floating-point tensor, got {kind}; convert with .float()")
    # Parameters keep their own dtype (float32 under autocast); plain floats take the compute dtype.
    dtype = _compute_dtype(input.dtype)
    if not isinstance(lambda_, Tensor):
        lambda_ = torch.tensor(float(lambda_), dtype=dtype, device=input.device)
    if not isinstance(kappa, Tensor):
        kappa = torch.tensor(float(kappa), dtype=dtype, device=input.device)
    return lambda_, kappa


def apa(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float) -> Tensor:
    r"""Adaptive Parametric Activation, :math:`(1 + \lambda e^{-\kappa z})^{-1/\lambda}`.

    Args:
        input: any floating-point tensor ``z``.
        lambda_: λ ≥ 0, a tensor that broadcasts against ``input`` (or a float). λ = 0 gives the
            Gumbel CDF :math:`\exp(-e^{-\kappa z})`, λ = 1 the sigmoid :math:`\sigma(\kappa z)`.
        kappa: κ, any real, broadcasting against ``input``. κ < 0 flips the gate.

    Returns:
        A tensor of ``input``'s shape and dtype (float16/bfloat16 are computed in float32).

    Example:
        >>> import torch
        >>> from aglu.functional import apa
        >>> apa(torch.tensor([0.0]), torch.tensor(1.0), torch.tensor(1.0))
        tensor([0.5000])
    """
    lambda_, kappa = _check_inputs(input, lambda_, kappa)
    return _APAFunction.apply(input, lambda_, kappa, False)


def aglu(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float) -> Tensor:
    r"""Adaptive Generalised Linear Unit, :math:`z \cdot \mathrm{APA}(z; \lambda, \kappa)`.

    With λ = κ = 1 this is exactly SiLU; with κ → ∞ it tends to ReLU. Arguments as :func:`apa`.

    Example:
        >>> import torch
        >>> from aglu.functional import aglu
        >>> aglu(torch.tensor([10.0]), torch.tensor(1.0), torch.tensor(1.0))
        tensor([9.9995])
    """
    lambda_, kappa = _check_inputs(input, lambda_, kappa)
    return _APAFunction.apply(input, lambda_, kappa, True)
