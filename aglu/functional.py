"""The math of Adaptive Parametric Activation (Alexandridis et al., ECCV 2024, arXiv 2407.08567).

    APA(z; λ, κ)  = (1 + λ·exp(−κz)) ^ (−1/λ)        λ ≥ 0 (λ = 0 is the Gumbel limit)
    AGLU(z; λ, κ) = z · APA(z; λ, κ)

With t = −κz, E = exp(min(t, T)) and u = λ·E (T keeps E finite: 80 in float32, 700 in float64),

    s = (log1p(u) + max(t − T, 0)) / λ      (s = E at λ = 0),      APA = exp(−s)

so no plain e^t ever overflows into 0·inf, λ = 0 is the exact Gumbel CDF, and a small u keeps full
relative precision (there is no cancellation in log1p(u)/λ). Beyond T the added max(t − T, 0) is
log1p(λe^t) to within the dtype's precision, or APA is 0 anyway.

The backward pass is written by hand (:class:`_APAFunction`) and saves only the input and the
parameters. With g = APA·E/(1 + u) = ∂APA/∂(κz)/κ:

    ∂APA/∂z = κ·g,    ∂APA/∂κ = z·g,    ∂APA/∂λ = APA/λ · (s − E/(1 + u))

and, where u < 0.1 (and at λ = 0), ∂APA/∂λ = APA·E²·Σₖ (−1)ᵏ (k+1)/(k+2) uᵏ, the power series of
the same expression, which avoids the cancellation between its two terms.

Speed: by default the forward and the backward (with the λ/κ reductions) each run as one fused
kernel built by ``torch.compile`` (inductor, ``dynamic=True``), compiled once per process and dtype,
cached on disk by inductor. The same math runs eagerly where compilation is off
(``AGLU_COMPILE=0`` or :func:`set_compile_enabled`), unavailable, or not worth it (tensors below
:data:`COMPILE_MIN_NUMEL` elements), and inside a caller's own ``torch.compile``, ONNX export or
TorchScript.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["COMPILE_MIN_NUMEL", "aglu", "apa", "compile_enabled", "set_compile_enabled"]

logger = logging.getLogger(__name__)

# Tensors smaller than this run eagerly: a compiled call costs a fixed ~0.1 ms of guard checks.
COMPILE_MIN_NUMEL = 1 << 15

# Below this u the λ-derivative uses its power series (the closed form cancels there).
_SERIES_LIMIT = 0.1

_OFF = {"0", "false", "no", "off"}
_compile_state = {"enabled": os.environ.get("AGLU_COMPILE", "1").strip().lower() not in _OFF}
_compiled_kernels: dict[str, Callable] = {}
# Keep the long elementwise chain inline in the reductions instead of storing it (one pass).
_INDUCTOR_OPTIONS = {"realize_opcount_threshold": 1000, "realize_reads_threshold": 1000}


def compile_enabled() -> bool:
    """Whether the fused ``torch.compile`` kernels are used (``AGLU_COMPILE=0`` turns them off)."""
    return _compile_state["enabled"]


def set_compile_enabled(enabled: bool) -> bool:
    """Switch the fused kernels on or off for this process; returns the previous setting.

    Example:
        >>> from aglu.functional import set_compile_enabled
        >>> previous = set_compile_enabled(False)  # eager math from here on
        >>> _ = set_compile_enabled(previous)
    """
    previous = _compile_state["enabled"]
    _compile_state["enabled"] = bool(enabled)
    return previous


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Half-precision inputs are computed in float32 and returned in their own dtype."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _constants(dtype: torch.dtype) -> tuple[float, int]:
    """(T, number of series terms) for a compute dtype: exp(T) is finite, u^terms < precision."""
    return (700.0, 17) if dtype == torch.float64 else (80.0, 8)


def _log1p_from_log(u: Tensor) -> Tensor:
    """log1p(u) to full relative precision from log alone (W. Kahan's trick).

    Cheaper than a vectorised log1p on CPU, and ONNX (which has no Log1p) exports it exactly.
    """
    w = 1 + u
    return torch.where(w == 1, u, torch.log(w) * (u / (w - 1)))


def _terms(z: Tensor, lambda_: Tensor, kappa: Tensor, exp_limit: float):
    """Return (E, u, s, APA, 1/λ) of the module docstring, all finite for every input."""
    lambda_ = torch.clamp(lambda_, min=0.0)  # λ < 0 is evaluated (and differentiated) at 0
    t = -kappa * z
    exp_t = torch.exp(torch.clamp(t, max=exp_limit))
    u = lambda_ * exp_t
    log1p_u = _log1p_from_log(u) + torch.clamp(t - exp_limit, min=0.0)
    positive = lambda_ > 0
    inv_lambda = 1 / torch.where(positive, lambda_, torch.ones_like(lambda_))  # per channel
    s = torch.where(positive, log1p_u * inv_lambda, exp_t)
    return exp_t, u, s, torch.exp(-s), inv_lambda


def _forward_math(
    z: Tensor,
    lambda_: Tensor,
    kappa: Tensor,
    gated: bool,
    exp_limit: float,
) -> Tensor:
    """APA (or AGLU when ``gated``) in the compute dtype, returned in ``z``'s dtype."""
    dtype = _compute_dtype(z.dtype)
    x = z.to(dtype)
    p = _terms(x, lambda_.to(dtype), kappa.to(dtype), exp_limit)[3]
    return (x * p if gated else p).to(z.dtype)


def _sum_to(grad: Tensor, dims: tuple[int, ...], shape: torch.Size) -> Tensor:
    """Sum a broadcast gradient over ``dims`` and reshape it to a parameter's ``shape``.

    Dims after the last kept one are summed first: that sum runs in the loop order of the
    elementwise work, so the compiler fuses it instead of storing per-element intermediates.
    """
    kept = [d for d in range(grad.dim()) if d not in dims]
    inner = tuple(d for d in dims if kept and d > kept[-1])
    outer = tuple(d for d in dims if d not in inner)
    if kept and outer and not inner and outer == tuple(range(len(outer))):
        # channel innermost, (N, T, C): an outer sum, done as a (1, R) @ (R, C) product
        rows = grad.reshape(-1, grad[(0,) * len(outer)].numel())
        return (grad.new_ones(1, rows.shape[0]) @ rows).reshape(shape)
    for group in (inner, outer):
        if group:
            grad = grad.sum(dim=group, keepdim=True)
    return grad.reshape(shape)


def _backward_math(
    grad: Tensor,
    z: Tensor,
    lambda_: Tensor,
    kappa: Tensor,
    gated: bool,
    exp_limit: float,
    series_terms: int,
    lambda_dims: tuple[int, ...] | None,
    kappa_dims: tuple[int, ...] | None,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Gradients for z, λ and κ; λ/κ summed over their broadcast dims (``None``: not needed)."""
    dtype = _compute_dtype(z.dtype)
    x, upstream = z.to(dtype), grad.to(dtype)
    lam, kap = lambda_.to(dtype), kappa.to(dtype)
    exp_t, u, s, p, inv_lambda = _terms(x, lam, kap, exp_limit)
    ratio = exp_t / (1 + u)
    g = p * ratio
    weight = upstream * x if gated else upstream  # chain rule of AGLU = z·APA for λ and κ
    grad_z = upstream * (p + x * kap * g) if gated else upstream * kap * g

    grad_lambda = None
    if lambda_dims is not None:
        series = torch.full_like(u, (-1) ** series_terms * (series_terms + 1) / (series_terms + 2))
        for k in range(series_terms - 1, -1, -1):
            series = series * u + (-1) ** k * (k + 1) / (k + 2)
        near = p * exp_t * exp_t * series
        far = p * inv_lambda * (s - ratio)
        dp_dlambda = torch.where(u < _SERIES_LIMIT, near, far)
        grad_lambda = _sum_to(weight * dp_dlambda, lambda_dims, lambda_.shape).to(lambda_.dtype)
    grad_kappa = None
    if kappa_dims is not None:
        grad_kappa = _sum_to(weight * x * g, kappa_dims, kappa.shape).to(kappa.dtype)
    return grad_z.to(z.dtype), grad_lambda, grad_kappa


# TODO(#2): on the shared 2-core CPU the fused path sits near the 3.0x-SiLU goal (see
# benchmarks/results/activation*.json, measured under load); the vectorised exp, log and
# divisions (6, 2 and 3 per element for forward + backward) are what is left to cut.
def _reduce_dims(param: Tensor, target: Tensor) -> tuple[int, ...]:
    """Dims of ``target`` over which a parameter broadcast against it must be summed."""
    offset = target.dim() - param.dim()
    broadcast = [
        offset + i for i, n in enumerate(param.shape) if n == 1 != target.shape[offset + i]
    ]
    return (*range(offset), *broadcast)


def _kernel(name: str, eager: Callable) -> Callable:
    """The cached ``torch.compile`` of ``eager`` (built on first use)."""
    if name not in _compiled_kernels:
        _compiled_kernels[name] = torch.compile(
            eager, dynamic=True, fullgraph=True, options=_INDUCTOR_OPTIONS
        )
    return _compiled_kernels[name]


def _use_compiled(z: Tensor) -> bool:
    if not _compile_state["enabled"] or z.numel() < COMPILE_MIN_NUMEL:
        return False
    return not (torch.compiler.is_compiling() or torch.jit.is_tracing())


def _run(name: str, eager: Callable, compiled: bool, *args):
    """Run ``eager`` through its compiled kernel when ``compiled``, else eagerly."""
    if compiled and _compile_state["enabled"]:
        try:
            return _kernel(name, eager)(*args)
        except Exception:  # no compiler, unsupported device: the eager math is always there
            logger.warning("aglu: torch.compile failed; using the eager kernels", exc_info=True)
            set_compile_enabled(False)
    return eager(*args)


class _APAFunction(torch.autograd.Function):
    """APA / AGLU with a hand-written backward that saves only the input and the parameters."""

    @staticmethod
    def forward(ctx, z: Tensor, lambda_: Tensor, kappa: Tensor, gated: bool) -> Tensor:
        ctx.save_for_backward(z, lambda_, kappa)
        ctx.gated = gated
        ctx.compiled = _use_compiled(z)  # the backward takes the same path as the forward
        exp_limit, _ = _constants(_compute_dtype(z.dtype))
        return _run("forward", _forward_math, ctx.compiled, z, lambda_, kappa, gated, exp_limit)

    @staticmethod
    def backward(ctx, grad: Tensor):
        z, lambda_, kappa = ctx.saved_tensors
        exp_limit, series_terms = _constants(_compute_dtype(z.dtype))
        lambda_dims = _reduce_dims(lambda_, z) if ctx.needs_input_grad[1] else None
        kappa_dims = _reduce_dims(kappa, z) if ctx.needs_input_grad[2] else None
        grad_z, grad_lambda, grad_kappa = _run(
            "backward",
            _backward_math,
            ctx.compiled and not torch.compiler.is_compiling(),
            grad.contiguous(memory_format=_memory_format(z)),
            z,
            lambda_,
            kappa,
            ctx.gated,
            exp_limit,
            series_terms,
            lambda_dims,
            kappa_dims,
        )
        return grad_z, grad_lambda, grad_kappa, None


def _memory_format(z: Tensor) -> torch.memory_format:
    if z.dim() == 4 and z.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


def _check_inputs(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float):
    """Validate ``input`` and turn float parameters into tensors of the compute dtype."""
    if not isinstance(input, Tensor) or not input.is_floating_point():
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"APA/AGLU need a floating-point tensor, got {kind}; convert with .float()")
    dtype = _compute_dtype(input.dtype)  # parameters keep their dtype: float32 under autocast
    if not isinstance(lambda_, Tensor):
        lambda_ = torch.tensor(float(lambda_), dtype=dtype, device=input.device)
    if not isinstance(kappa, Tensor):
        kappa = torch.tensor(float(kappa), dtype=dtype, device=input.device)
    for name, param in (("lambda_", lambda_), ("kappa", kappa)):
        try:
            fits = torch.broadcast_shapes(param.shape, input.shape) == input.shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(
                f"{name} of shape {tuple(param.shape)} does not broadcast to the input's shape "
                f"{tuple(input.shape)}; give it the input's channel count at the channel dim"
            )
    return lambda_, kappa


def _apply(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float, gated: bool) -> Tensor:
    lambda_, kappa = _check_inputs(input, lambda_, kappa)
    if torch.onnx.is_in_onnx_export():  # the forward alone, as plain ONNX operators
        exp_limit, _ = _constants(_compute_dtype(input.dtype))
        return _forward_math(input, lambda_, kappa, gated, exp_limit)
    return _APAFunction.apply(input, lambda_, kappa, gated)


def apa(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float) -> Tensor:
    r"""Adaptive Parametric Activation, :math:`(1 + \lambda e^{-\kappa z})^{-1/\lambda}`.

    Exact for every λ ≥ 0 (λ = 0 is the Gumbel CDF :math:`\exp(-e^{-\kappa z})`, λ = 1 the sigmoid
    :math:`\sigma(\kappa z)`) and every real κ (κ < 0 flips the gate); finite values and gradients
    for any finite input. A λ below 0 is evaluated as λ = 0 and receives the gradient at λ = 0
    (straight through), so a λ that an optimiser pushed below 0 keeps learning.

    Args:
        input: a floating-point tensor ``z``; float16/bfloat16 are computed in float32.
        lambda_: λ ≥ 0, a tensor that broadcasts to ``input``'s shape (or a float).
        kappa: κ, a tensor that broadcasts to ``input``'s shape (or a float).

    Shape:
        - Output: the input's shape and dtype.

    Example:
        >>> import torch
        >>> from aglu.functional import apa
        >>> apa(torch.tensor([-1.0, 0.0, 1.0]), torch.tensor(1.0), torch.tensor(1.0))
        tensor([0.2689, 0.5000, 0.7311])
    """
    return _apply(input, lambda_, kappa, gated=False)


def aglu(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float) -> Tensor:
    r"""Adaptive Generalised Linear Unit, :math:`z \cdot \mathrm{APA}(z; \lambda, \kappa)`.

    With λ = κ = 1 this is exactly SiLU; as κ → ∞ it tends to ReLU. Arguments and shapes as
    :func:`apa`.

    Example:
        >>> import torch
        >>> from aglu.functional import aglu
        >>> aglu(torch.tensor([-100.0, 10.0]), torch.tensor(1.0), torch.tensor(1.0))
        tensor([-3.7835e-42,  9.9995e+00])
    """
    return _apply(input, lambda_, kappa, gated=True)
