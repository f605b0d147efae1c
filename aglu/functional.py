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
cached on disk by inductor. Where compilation is off (``AGLU_COMPILE=0`` or
:func:`set_compile_enabled`), unavailable, or not worth it (tensors below
:data:`COMPILE_MIN_NUMEL` elements), float32/16 inputs on the CPU run lean eager kernels: one of
three regimes chosen per call from λ's values (all λ = 0; all λ ≥ 0.1; all λ < 0.1), each a few
vectorised ops, as exact as the general math (see ``_lean_plan``). Other inputs (float64, CUDA,
per-channel λ on both sides of 0.1) and a caller's own ``torch.compile``, ONNX export or TorchScript
run the general math above eagerly. Without autograd (``no_grad``, ``inference_mode``, frozen
parameters) the forward runs without the autograd.Function.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["COMPILE_MIN_NUMEL", "aglu", "apa", "compile_enabled", "set_compile_enabled"]

logger = logging.getLogger(__name__)

# Tensors smaller than this run the lean eager kernels. Measured on the shared 2-core CPU (one
# thread, interleaved medians, AGLU λ = 0.6): without autograd lean and compiled tie up to 16k
# elements (57 vs 61 µs at 1x16, 69 vs 63 at 64x64, 132 vs 120 at 1x16x32x32) and compiled wins
# from 32k (161 vs 196 µs at 2x16x32x32); with autograd compiled is ahead at every size (~0.25 vs
# ~0.4-0.6 ms per forward + backward at 8x64 to 64x64), but that saves < 1 % of a training step
# and a compiled kernel costs seconds per new shape, so small tensors stay eager.
COMPILE_MIN_NUMEL = 1 << 15

# Below this u the λ-derivative uses its power series (the closed form cancels there).
_SERIES_LIMIT = 0.1

_OFF = {"0", "false", "no", "off"}
_compile_state = {"enabled": os.environ.get("AGLU_COMPILE", "1").strip().lower() not in _OFF}
_compiled_kernels: dict[str, Callable] = {}
_compiled_ok: set[str] = set()  # kernels that have run compiled at least once
# Gated or not, dtype, grad mode, scalar or per-channel parameters of each rank: each is a graph.
_KERNEL_VARIANTS = 64
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
    positive = lambda_ > _TINY_LAMBDA  # below it λ = 0 is exact in float32 and 1/λ overflows
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


def _lambda_series(u: Tensor, terms: int) -> Tensor:
    """Σₖ (−1)ᵏ (k+1)/(k+2) uᵏ for k ≤ ``terms`` (Horner): (log1p(u) − u/(1+u))/u² for small u."""
    series = torch.full_like(u, (-1) ** terms * (terms + 1) / (terms + 2))
    for k in range(terms - 1, -1, -1):
        series = series * u + (-1) ** k * (k + 1) / (k + 2)
    return series


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
        with torch.autocast(grad.device.type, enabled=False):  # a backward called under autocast
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
        near = p * exp_t * exp_t * _lambda_series(u, series_terms)
        far = p * inv_lambda * (s - ratio)
        dp_dlambda = torch.where(u < _SERIES_LIMIT, near, far)
        grad_lambda = _sum_to(weight * dp_dlambda, lambda_dims, lambda_.shape).to(lambda_.dtype)
    grad_kappa = None
    if kappa_dims is not None:
        grad_kappa = _sum_to(weight * x * g, kappa_dims, kappa.shape).to(kappa.dtype)
    return grad_z.to(z.dtype), grad_lambda, grad_kappa


# The lean eager kernels: small tensors and inference on CPU. One regime per call, read from λ's
# values (one or a few per channel; reading them costs about as much as one small op):
#   "gumbel"    every λ = 0:    APA = exp(−e^t)                                              4 ops
#   "softplus"  every λ ≥ 0.1:  log APA = −softplus(log λ − κz)/λ                             4 ops
#   "small"     0 ≤ λ < 0.1:    log APA = −log1p(λe^t)/λ, log1p by Kahan's trick (as above)  ~12 ops
# torch's softplus returns x itself above x = 20, which is off by log1p(e^−20) < 2.1e-9, so by at
# most 2.1e-8 in log APA from λ = 0.1 on; below that the error grows as 1/λ (and log λ carries
# more rounding into log u), so small λ keep the log1p form. Channels on both sides of 0.1, a
# positive λ below 1e-30 or a NaN, float64 and non-CPU tensors (whose check would wait on the
# device) take the general math.
# TODO(#2): "small" trains with the general backward and mixed per-channel λ take the general
# math; both run several times slower eagerly than the formula composed from plain torch ops (a
# lean backward for "small" and a per-channel where() between the two forms would close it).
_GUMBEL, _SOFTPLUS, _SMALL = "gumbel", "softplus", "small"
_SOFTPLUS_MIN_LAMBDA = 0.1
_TINY_LAMBDA = 1e-30  # 1/λ and 1/λ² stay finite in float32 from here on
_LEAN_MAX_PARAMS = 4096
# In the gumbel backward t is capped here: e^(−e^20) is 0 even in float64 and e^40 is finite.
_GUMBEL_T_MAX = 20.0


class _LeanPlan(NamedTuple):
    """A regime and its parameters: floats for a single λ, κ; float32 tensors per channel."""

    regime: str
    lam: float | Tensor  # λ clamped at 0
    inv_lambda: float | Tensor  # 1/λ (1 where λ = 0)
    log_lambda: float | Tensor  # log λ (0 where λ = 0)
    kappa: float | Tensor
    positive: Tensor | None  # the λ > 0 mask when some but not all λ are 0, else None


def _lean_plan(z: Tensor, lambda_: Tensor, kappa: Tensor) -> _LeanPlan | None:
    """The lean regime for these inputs and its parameters, or None for the general math."""
    if z.device.type != "cpu" or lambda_.device.type != "cpu" or z.dtype == torch.float64:
        return None
    if lambda_.numel() > _LEAN_MAX_PARAMS or _is_traced():
        return None
    values = lambda_.detach().reshape(-1).tolist()
    if any(math.isnan(v) for v in values):
        return None
    low, high = max(min(values), 0.0), max(values)
    if high <= 0:
        regime = _GUMBEL
    elif low >= _SOFTPLUS_MIN_LAMBDA:
        regime = _SOFTPLUS
    elif high < _SOFTPLUS_MIN_LAMBDA and all(v <= 0 or v >= _TINY_LAMBDA for v in values):
        regime = _SMALL
    else:
        return None
    if len(values) == 1 and kappa.numel() == 1 and kappa.device.type == "cpu":
        lam = max(values[0], 0.0)
        inv_lambda, log_lambda = (1 / lam, math.log(lam)) if lam > 0 else (1.0, 0.0)
        return _LeanPlan(regime, lam, inv_lambda, log_lambda, float(kappa.item()), None)
    lam = torch.clamp(lambda_.detach().float(), min=0.0)
    positive = lam > 0
    safe = torch.where(positive, lam, torch.ones_like(lam))
    mixed = positive if regime == _SMALL and low == 0 else None
    return _LeanPlan(regime, lam, 1 / safe, torch.log(safe), kappa.detach().float(), mixed)


def _softplus_terms(x: Tensor, plan: _LeanPlan) -> tuple[Tensor, Tensor]:
    """(log u, log1p(u)) with log u = log λ − κz, for the "softplus" regime."""
    log_u = torch.mul(x, -plan.kappa).add_(plan.log_lambda)
    return log_u, torch.nn.functional.softplus(log_u)  # log1p(e^x), and x itself above x = 20


def _small_log_apa(x: Tensor, plan: _LeanPlan) -> Tensor:
    """log APA for 0 ≤ λ < 0.1 (λ = 0: −e^t); t is capped at T, beyond which APA = 0 anyway."""
    exp_t = torch.mul(x, -plan.kappa).clamp_(max=_constants(torch.float32)[0]).exp_()
    u = exp_t * plan.lam
    w = u + 1
    log1p_u = torch.where(w == 1, u, torch.log(w).mul_(u / (w - 1)))
    s = log1p_u.mul_(plan.inv_lambda)
    if plan.positive is not None:
        s = torch.where(plan.positive, s, exp_t)
    return s.neg_()


def _lean_forward(z: Tensor, gated: bool, plan: _LeanPlan) -> Tensor:
    """APA (or AGLU when ``gated``) in the plan's few float32 ops, returned in z's dtype."""
    x = z.detach().float()
    if plan.regime == _GUMBEL:
        p = torch.mul(x, -plan.kappa).exp_().neg_().exp_()
    elif plan.regime == _SOFTPLUS:
        p = _softplus_terms(x, plan)[1].mul_(-plan.inv_lambda).exp_()
    else:
        p = _small_log_apa(x, plan).exp_()
    return (p.mul_(x) if gated else p).to(z.dtype)


def _lean_backward(
    grad: Tensor,
    z: Tensor,
    lambda_: Tensor,
    kappa: Tensor,
    gated: bool,
    plan: _LeanPlan,
    lambda_dims: tuple[int, ...] | None,
    kappa_dims: tuple[int, ...] | None,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """:func:`_backward_math` for the "gumbel" and "softplus" regimes in a few float32 ops.

    With g = ∂APA/∂(κz)/κ and q = (∂APA/∂λ)/APA:
    gumbel: E = e^t (t capped at 20), APA = e^(−E), g = APA·E, q = E²/2;
    softplus: v = σ(log u) = u/(1 + u), g = APA·v/λ, q = h/λ² with h = log1p(u) − v, or where
    u < 0.1 (h cancels there) h = u²·series(u), the same series as the general backward.
    """
    x, upstream = z.detach().float(), grad.float()
    if plan.regime == _GUMBEL:
        exp_t = torch.mul(x, -plan.kappa).clamp_(max=_GUMBEL_T_MAX).exp_()
        p = torch.neg(exp_t).exp_()
        g = p * exp_t
        q = exp_t.square_().mul_(0.5) if lambda_dims is not None else None
    else:  # _SOFTPLUS
        log_u, log1p_u = _softplus_terms(x, plan)
        p = torch.mul(log1p_u, -plan.inv_lambda).exp_()
        v = torch.sigmoid(log_u)
        g = p * v
        g.mul_(plan.inv_lambda)
        q = None
        if lambda_dims is not None:
            u = log_u.exp_()  # may overflow where u ≥ 0.1: the near form serves u < 0.1 only
            near = _lambda_series(u, _constants(torch.float32)[1]).mul_(u).mul_(u)
            far = log1p_u.sub_(v)
            q = (
                torch.where(u < _SERIES_LIMIT, near, far)
                .mul_(plan.inv_lambda)
                .mul_(plan.inv_lambda)
            )

    weight = upstream * x if gated else upstream  # chain rule of AGLU = z·APA for λ and κ
    kappa_g = g * plan.kappa
    grad_z = upstream * (kappa_g.mul_(x).add_(p) if gated else kappa_g)
    grad_lambda = grad_kappa = None
    if lambda_dims is not None:
        grad_lambda = _sum_to(q.mul_(p).mul_(weight), lambda_dims, lambda_.shape)
        grad_lambda = grad_lambda.to(lambda_.dtype)
    if kappa_dims is not None:
        grad_kappa = _sum_to(g.mul_(x).mul_(weight), kappa_dims, kappa.shape).to(kappa.dtype)
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


def _is_traced() -> bool:
    """Inside a caller's torch.compile or TorchScript trace: plain torch ops only, no reads."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def _use_compiled(z: Tensor) -> bool:
    if not _compile_state["enabled"] or z.numel() < COMPILE_MIN_NUMEL:
        return False
    return not _is_traced()


def _recompile_limit() -> dict[str, int]:
    """Dynamo's per-function graph limit, raised for the kernels' few dozen variants."""
    import torch._dynamo

    key = (
        "recompile_limit"
        if hasattr(torch._dynamo.config, "recompile_limit")
        else "cache_size_limit"
    )
    return {key: max(getattr(torch._dynamo.config, key), _KERNEL_VARIANTS)}


def _run(name: str, eager: Callable, compiled: bool, *args):
    """Run ``eager`` through its compiled kernel when ``compiled``, else eagerly.

    A kernel that never compiled (no compiler, unsupported device) switches the fused path off
    for the process; a kernel that works but fails on a new variant falls back for that call.
    """
    if compiled and _compile_state["enabled"]:
        import torch._dynamo

        try:
            with torch._dynamo.config.patch(**_recompile_limit()):
                result = _kernel(name, eager)(*args)
            _compiled_ok.add(name)
            return result
        except Exception:
            if name in _compiled_ok:
                logger.warning("aglu: the %s kernel failed on a new input; eager this time", name)
            else:
                logger.warning("aglu: torch.compile failed; using the eager kernels", exc_info=True)
                set_compile_enabled(False)
    return eager(*args)


_NO_DOUBLE_BACKWARD = (
    "APA/AGLU's hand-written backward is not differentiable again, so create_graph=True (a "
    "gradient penalty, a Hessian) is not supported; for that, write the formula with torch ops: "
    "torch.exp(-torch.nn.functional.softplus(torch.log(lambda_) - kappa * z) / lambda_)"
)


class _APAFunction(torch.autograd.Function):
    """APA / AGLU with a hand-written backward that saves only the input and the parameters."""

    @staticmethod
    def forward(ctx, z: Tensor, lambda_: Tensor, kappa: Tensor, gated: bool) -> Tensor:
        ctx.save_for_backward(z, lambda_, kappa)
        ctx.gated = gated
        ctx.compiled = _use_compiled(z)  # the backward takes the same path as the forward
        plan = None if ctx.compiled else _lean_plan(z, lambda_, kappa)
        ctx.plan = plan if plan is not None and plan.regime != _SMALL else None
        if plan is not None:  # "small" trains with the general backward
            return _lean_forward(z, gated, plan)
        exp_limit, _ = _constants(_compute_dtype(z.dtype))
        return _run("forward", _forward_math, ctx.compiled, z, lambda_, kappa, gated, exp_limit)

    @staticmethod
    def backward(ctx, grad: Tensor):
        if torch.is_grad_enabled():  # create_graph=True: the engine asks for a graph of the grads
            raise RuntimeError(_NO_DOUBLE_BACKWARD)
        z, lambda_, kappa = ctx.saved_tensors
        exp_limit, series_terms = _constants(_compute_dtype(z.dtype))
        lambda_dims = _reduce_dims(lambda_, z) if ctx.needs_input_grad[1] else None
        kappa_dims = _reduce_dims(kappa, z) if ctx.needs_input_grad[2] else None
        if ctx.plan is not None and not _is_traced():
            grad_z, grad_lambda, grad_kappa = _lean_backward(
                grad, z, lambda_, kappa, ctx.gated, ctx.plan, lambda_dims, kappa_dims
            )
            return grad_z, _straight_through(grad_lambda, lambda_), grad_kappa, None
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
        return grad_z, _straight_through(grad_lambda, lambda_), grad_kappa, None


def _straight_through(grad_lambda: Tensor | None, lambda_: Tensor) -> Tensor | None:
    """A λ below 0 acts as 0 and gets λ = 0's gradient, but only where it would raise λ.

    Below 0 the function is flat; passing a gradient that lowers λ would let it drift without
    bound while nothing changes, and then take as long to climb back.
    """
    if grad_lambda is None:
        return None
    return torch.where(lambda_ < 0, grad_lambda.clamp(max=0), grad_lambda)


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
        if not _broadcasts_to(param.shape, input.shape):
            raise ValueError(
                f"{name} of shape {tuple(param.shape)} does not broadcast to the input's shape "
                f"{tuple(input.shape)}; give it the input's channel count at the channel dim"
            )
    return lambda_, kappa


def _broadcasts_to(shape: torch.Size, target: torch.Size) -> bool:
    """Whether ``shape`` broadcasts to ``target`` unchanged (torch.broadcast_shapes, cheaper)."""
    if len(shape) > len(target):
        return False
    return all(n in (1, m) for n, m in zip(reversed(shape), reversed(target), strict=False))


def _needs_autograd(*tensors: Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _forward_without_autograd(input: Tensor, lambda_: Tensor, kappa: Tensor, gated: bool) -> Tensor:
    """The forward alone (no_grad, inference_mode, frozen parameters): no autograd.Function."""
    if _use_compiled(input):
        exp_limit, _ = _constants(_compute_dtype(input.dtype))
        return _run("forward", _forward_math, True, input, lambda_, kappa, gated, exp_limit)
    plan = _lean_plan(input, lambda_, kappa)
    if plan is not None:
        return _lean_forward(input, gated, plan)
    exp_limit, _ = _constants(_compute_dtype(input.dtype))
    return _forward_math(input, lambda_, kappa, gated, exp_limit)


def _apply(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float, gated: bool) -> Tensor:
    lambda_, kappa = _check_inputs(input, lambda_, kappa)
    if torch.onnx.is_in_onnx_export():  # the forward alone, as plain ONNX operators
        exp_limit, _ = _constants(_compute_dtype(input.dtype))
        return _forward_math(input, lambda_, kappa, gated, exp_limit)
    if not _needs_autograd(input, lambda_, kappa):
        return _forward_without_autograd(input, lambda_, kappa, gated)
    return _APAFunction.apply(input, lambda_, kappa, gated)


def apa(input: Tensor, lambda_: Tensor | float, kappa: Tensor | float) -> Tensor:
    r"""Adaptive Parametric Activation, :math:`(1 + \lambda e^{-\kappa z})^{-1/\lambda}`.

    Exact for every λ ≥ 0 (λ = 0 is the Gumbel CDF :math:`\exp(-e^{-\kappa z})`, λ = 1 the sigmoid
    :math:`\sigma(\kappa z)`) and every real κ (κ < 0 flips the gate); finite values and gradients
    for any finite input. A λ below 0 is evaluated as λ = 0 and receives the gradient at λ = 0
    where it raises λ (straight through, one-sided), so a λ that an optimiser pushed below 0 does
    not drift further and climbs back when the loss asks for a larger λ. The backward is not
    differentiable again (no ``create_graph=True`` double backward).

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
