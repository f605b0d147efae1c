"""aglu.functional: values against a 40-digit mpmath reference over the issue's grid (float32 within
1e-5 relative or 1e-6 absolute; float16/bfloat16 finite and close), float64 gradcheck (λ near 0,
κ < 0, |z| large), the λ = 0 one-sided derivative, the special cases (sigmoid, SiLU, Gumbel), the
compiled kernels against the eager math, memory saved for backward, and bad input."""

import itertools

import mpmath
import pytest
import torch

import aglu.functional as F

Z_GRID = [-1e4, -100.0, -12.0, -1.0, 0.0, 1.0, 12.0, 100.0, 1e4]
KAPPA_GRID = [-3.5, -1.0, 0.0, 1.0, 3.5]
LAMBDA_GRID = [0.0, 1e-6, 1e-4, 0.5, 1.0, 10.0]
mpmath.mp.dps = 40


def reference(z: float, lambda_: float, kappa: float, gated: bool) -> float:
    """APA or AGLU at exactly these (float) arguments, to 40 digits."""
    z, lam, kap = mpmath.mpf(z), mpmath.mpf(lambda_), mpmath.mpf(kappa)
    if lam == 0:
        p = mpmath.exp(-mpmath.exp(-kap * z))
    else:
        p = mpmath.exp(-mpmath.log1p(lam * mpmath.exp(-kap * z)) / lam)
    return float(z * p if gated else p)


@pytest.fixture(params=["eager", "compiled"])
def path(request, monkeypatch):
    """Run a test on the eager math and on the fused torch.compile kernels."""
    previous = F.set_compile_enabled(request.param == "compiled")
    monkeypatch.setattr(F, "COMPILE_MIN_NUMEL", 0)
    yield request.param
    F.set_compile_enabled(previous)


@pytest.fixture
def eager():
    previous = F.set_compile_enabled(False)
    yield
    F.set_compile_enabled(previous)


def run(gated: bool, z: torch.Tensor, lambda_, kappa) -> torch.Tensor:
    return (F.aglu if gated else F.apa)(z, lambda_, kappa)


@pytest.mark.parametrize("gated", [False, True], ids=["apa", "aglu"])
def test_float32_grid_matches_reference(path, gated):
    z = torch.tensor(Z_GRID)
    for lam, kap in itertools.product(LAMBDA_GRID, KAPPA_GRID):
        lam32, kap32 = torch.tensor(lam), torch.tensor(kap)
        out = run(gated, z, lam32, kap32)
        ref = [reference(v, lam32.item(), kap32.item(), gated) for v in Z_GRID]
        torch.testing.assert_close(
            out.double(), torch.tensor(ref, dtype=torch.float64), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("gated", [False, True], ids=["apa", "aglu"])
def test_grid_is_finite_forward_and_backward(eager, dtype, gated):
    z0, lam0, kap0 = (
        torch.tensor(v)
        for v in zip(*itertools.product(Z_GRID, LAMBDA_GRID, KAPPA_GRID), strict=True)
    )
    z = z0.to(dtype).requires_grad_()
    lambda_ = lam0.clone().requires_grad_()  # float32 parameters, as autocast and AMP keep them
    kappa = kap0.clone().requires_grad_()
    out = run(gated, z, lambda_, kappa)
    out.backward(torch.ones_like(out))

    assert out.dtype == dtype and z.grad.dtype == dtype
    for tensor in (out, z.grad, lambda_.grad, kappa.grad):
        assert torch.isfinite(tensor).all()
    zs = z.detach().double().tolist()
    ref = torch.tensor(
        [
            reference(v, a, b, gated)
            for v, a, b in zip(zs, lam0.tolist(), kap0.tolist(), strict=True)
        ]
    )
    rtol = {torch.float32: 1e-5, torch.float16: 1e-3, torch.bfloat16: 8e-3}[dtype]
    torch.testing.assert_close(out.double(), ref.double(), rtol=rtol, atol=1e-5)


def test_float32_gradients_match_float64(eager):
    torch.manual_seed(0)
    z = torch.randn(4, 3, 50, dtype=torch.float64) * 6
    lam = torch.tensor([0.0, 1e-3, 2.0], dtype=torch.float64).view(1, 3, 1)
    kap = torch.tensor([-1.5, 0.7, 3.0], dtype=torch.float64).view(1, 3, 1)
    grads = {}
    for dtype in (torch.float64, torch.float32):
        inputs = [t.detach().to(dtype).requires_grad_() for t in (z, lam, kap)]
        F.aglu(*inputs).sum().backward()
        grads[dtype] = [t.grad.double() for t in inputs]
    for low, high in zip(grads[torch.float32], grads[torch.float64], strict=True):
        torch.testing.assert_close(low, high, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("gated", [False, True], ids=["apa", "aglu"])
@pytest.mark.parametrize("lambda_", [1e-5, 0.03, 0.5, 1.0, 4.0])
def test_gradcheck_float64(eager, gated, lambda_):
    z = torch.tensor([-40.0, -8.0, -1.5, -0.1, 0.0, 0.3, 2.0, 9.0, 45.0], dtype=torch.float64)
    z = z.repeat(4, 1).requires_grad_()
    kappa = torch.tensor([-2.0, -0.5, 0.7, 2.0], dtype=torch.float64).view(4, 1).requires_grad_()
    lam = torch.tensor([lambda_], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: run(gated, *a), (z, lam, kappa))


def test_lambda_zero_gradient_is_the_one_sided_limit(eager):
    # At λ = 0: ∂APA/∂λ = APA·e^(2t)/2 with t = −κz (the limit from λ > 0).
    z = torch.linspace(-3, 8, 23, dtype=torch.float64)
    kappa = torch.tensor(1.3, dtype=torch.float64)
    lam = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    F.apa(z, lam, kappa).backward(torch.ones_like(z))
    t = -kappa * z
    expected = (torch.exp(-torch.exp(t)) * torch.exp(2 * t) / 2).sum()
    torch.testing.assert_close(lam.grad, expected, rtol=1e-10, atol=0)
    step = 1e-7
    one_sided = (F.apa(z, step, kappa) - F.apa(z, 0.0, kappa)).sum() / step
    torch.testing.assert_close(lam.grad, one_sided, rtol=1e-5, atol=0)


def test_negative_lambda_is_evaluated_and_differentiated_at_zero(eager):
    z = torch.linspace(-2, 2, 9)
    below = torch.tensor(-0.3, requires_grad=True)
    at_zero = torch.tensor(0.0, requires_grad=True)
    out_below, out_zero = F.aglu(z, below, 1.0), F.aglu(z, at_zero, 1.0)
    torch.testing.assert_close(out_below, out_zero, rtol=0, atol=0)
    out_below.sum().backward()
    out_zero.sum().backward()
    assert below.grad.item() == at_zero.grad.item() < 0  # the loss asks for a larger λ: passed
    below.grad = at_zero.grad = None
    F.aglu(z, below, 1.0).sum().neg().backward()
    F.aglu(z, at_zero, 1.0).sum().neg().backward()
    assert at_zero.grad.item() > 0 and below.grad.item() == 0  # lower still: held where it is


@pytest.mark.parametrize("lambda_", [1e-40, 1e-35, 1e-31])
def test_denormal_lambda_is_the_gumbel_limit(eager, lambda_):
    # 1/λ overflows float32 here; λ = 0 is exact to float32 wherever APA > 0.
    z = torch.linspace(-3, 8, 23)
    tiny = torch.tensor(lambda_, requires_grad=True)
    zero = torch.tensor(0.0, requires_grad=True)
    out_tiny, out_zero = F.apa(z, tiny, 1.0), F.apa(z, zero, 1.0)
    torch.testing.assert_close(out_tiny, out_zero, rtol=1e-6, atol=0)
    out_tiny.sum().backward()
    out_zero.sum().backward()
    torch.testing.assert_close(tiny.grad, zero.grad, rtol=1e-5, atol=0)
    assert zero.grad.item() > 0.5  # a live gradient, not the zeros of an overflowed 1/λ


@pytest.mark.parametrize("numel", [6, 1 << 16])  # lean eager and fused sizes
@pytest.mark.parametrize("penalty", ["square", "linear"])
def test_double_backward_is_an_error_not_a_wrong_value(numel, penalty):
    # A gradient penalty needs the graph of the first gradient. Whether the penalty is linear in
    # the output (whose first gradient then has no path back) or not, asking for that graph is an
    # error at once, never a silently missing term.
    z = torch.randn(numel, requires_grad=True)
    lam = torch.tensor(0.6, requires_grad=True)
    out = F.aglu(z, lam, 1.0)
    loss = out.square().sum() if penalty == "square" else out.sum()
    with pytest.raises(RuntimeError, match=r"not differentiable again.*create_graph=True"):
        torch.autograd.grad(loss, z, create_graph=True)
    (first,) = torch.autograd.grad(F.aglu(z, lam, 1.0).sum(), z)  # plain backward still works
    assert torch.isfinite(first).all()


def test_backward_under_autocast_sums_in_float32(eager):
    # (N, T, C) per-channel sums run as a matrix product, which autocast would run in bfloat16.
    z = torch.randn(4, 9, 16, dtype=torch.float64)
    lam = torch.rand(16, dtype=torch.float64) * 0.8 + 0.2
    kap = torch.rand(16, dtype=torch.float64) + 0.5
    z32, lam32, kap32 = (t.float().requires_grad_() for t in (z, lam, kap))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        F.aglu(z32, lam32, kap32).sum().backward()
    lam64, kap64 = lam.requires_grad_(), kap.requires_grad_()
    F.aglu(z, lam64, kap64).sum().backward()
    torch.testing.assert_close(lam32.grad.double(), lam64.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(kap32.grad.double(), kap64.grad, rtol=1e-5, atol=1e-6)


def test_a_kernel_failing_on_a_new_variant_falls_back_for_that_call(monkeypatch):
    # The first compile failing means no compiler: off for the process. A kernel that has run
    # and fails later (dynamo's recompile limit, a new dtype) costs one eager call, not the rest.
    monkeypatch.setattr(F, "COMPILE_MIN_NUMEL", 0)
    monkeypatch.setattr(F, "_compiled_ok", set())
    calls = []

    def fake_kernel(name, eager):
        def run(*args):
            calls.append(name)
            if len(calls) > 1:
                raise RuntimeError("recompile limit hit")
            return eager(*args)

        return run

    monkeypatch.setattr(F, "_kernel", fake_kernel)
    previous = F.set_compile_enabled(True)
    try:
        z = torch.linspace(-3, 3, 7)
        with torch.no_grad():
            first, second = F.aglu(z, 0.5, 1.0), F.aglu(z, 0.5, 1.0)
        assert calls == ["forward", "forward"] and F.compile_enabled()
        torch.testing.assert_close(first, second, rtol=0, atol=0)
        monkeypatch.setattr(F, "_compiled_ok", set())
        with torch.no_grad():
            F.aglu(z, 0.5, 1.0)  # fails before any success: no compiler here
        assert not F.compile_enabled()
    finally:
        F.set_compile_enabled(previous)


def test_special_cases_float64(eager):
    z = torch.linspace(-30, 30, 601, dtype=torch.float64)
    for kappa in (-2.0, 0.5, 1.0, 3.0):
        torch.testing.assert_close(
            F.apa(z, 1.0, kappa), torch.sigmoid(kappa * z), rtol=0, atol=1e-6
        )
        gumbel = torch.exp(-torch.exp(-kappa * z))
        torch.testing.assert_close(F.apa(z, 0.0, kappa), gumbel, rtol=0, atol=1e-6)
    silu = torch.nn.functional.silu(z)
    torch.testing.assert_close(F.aglu(z, 1.0, 1.0), silu, rtol=0, atol=1e-6)
    ten = torch.tensor([10.0], dtype=torch.float64)
    for lam, kappa in itertools.product((0.0, 0.1, 0.5, 1.0), (0.8, 1.0, 1.2)):
        assert abs(F.aglu(ten, lam, kappa).item() - 10.0) < 5e-3  # within 0.05 %
        gate = F.apa(z, lam, kappa)
        assert ((gate >= 0) & (gate <= 1)).all()
    constant = F.apa(z, 0.5, 0.0)  # κ = 0: the constant (1 + λ)^(−1/λ)
    torch.testing.assert_close(constant, torch.full_like(z, 1.5**-2), rtol=1e-12, atol=0)


@pytest.mark.parametrize("gated", [False, True], ids=["apa", "aglu"])
def test_compiled_matches_eager_per_channel(monkeypatch, gated):
    monkeypatch.setattr(F, "COMPILE_MIN_NUMEL", 0)
    torch.manual_seed(1)
    z = torch.randn(3, 4, 5, 6) * 5
    lam = torch.tensor([0.0, 1e-3, 0.7, 3.0]).view(1, 4, 1, 1)
    kap = torch.tensor([-1.0, 0.9, 1.1, 2.5]).view(1, 4, 1, 1)
    results = []
    for enabled in (False, True):
        previous = F.set_compile_enabled(enabled)
        inputs = [t.clone().requires_grad_() for t in (z, lam, kap)]
        out = run(gated, *inputs)
        out.backward(torch.cos(z))
        results.append([out, *(t.grad for t in inputs)])
        F.set_compile_enabled(previous)
    for eager_value, compiled_value in zip(*results, strict=True):
        torch.testing.assert_close(compiled_value, eager_value, rtol=1e-5, atol=1e-5)


def test_saves_only_the_input_for_backward():
    z = torch.randn(16, 8, 32, 32, requires_grad=True)
    lam, kap = torch.rand(8, 1, 1, requires_grad=True), torch.rand(8, 1, 1, requires_grad=True)
    saved = []

    def pack(tensor):
        saved.append(tensor.numel() * tensor.element_size())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        F.aglu(z, lam, kap)
    assert sum(saved) <= 1.1 * z.numel() * z.element_size()


def test_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        F.aglu(torch.arange(4), 1.0, 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        F.apa([1.0, 2.0], 1.0, 1.0)
    with pytest.raises(ValueError, match=r"lambda_ of shape \(5,\)"):
        F.aglu(torch.randn(2, 3), torch.ones(5), 1.0)


def test_gradcheck_channels_last_dim_parameters(eager):
    # (N, T, C) with per-channel λ, κ of shape (C,): the λ/κ sums run over the leading dims.
    torch.manual_seed(2)
    z = (torch.randn(2, 3, 4, dtype=torch.float64) * 4).requires_grad_()
    lam = torch.tensor([0.0, 0.02, 0.8, 2.0], dtype=torch.float64, requires_grad=True)
    kappa = torch.tensor([-1.0, 0.5, 1.0, 3.0], dtype=torch.float64, requires_grad=True)
    out = F.aglu(z, lam, kappa)
    out.backward(torch.ones_like(out))
    step = 1e-6
    with torch.no_grad():
        numeric = (F.aglu(z, lam + step, kappa) - F.aglu(z, lam, kappa)).sum(dim=(0, 1)) / step
    torch.testing.assert_close(lam.grad, numeric, rtol=1e-4, atol=1e-6)
    kappa_inputs = (z.detach(), lam.detach().clamp(min=1e-3), kappa.detach().requires_grad_())
    assert torch.autograd.gradcheck(F.aglu, kappa_inputs)


def test_compiled_matches_eager_tokens_last(monkeypatch):
    monkeypatch.setattr(F, "COMPILE_MIN_NUMEL", 0)
    torch.manual_seed(3)
    z, grad = torch.randn(2, 7, 4) * 5, torch.randn(2, 7, 4)
    lam, kap = torch.tensor([0.0, 1e-3, 0.7, 3.0]), torch.tensor([-1.0, 0.9, 1.1, 2.5])
    results = []
    for enabled in (False, True):
        previous = F.set_compile_enabled(enabled)
        inputs = [t.clone().requires_grad_() for t in (z, lam, kap)]
        F.aglu(*inputs).backward(grad)
        results.append([t.grad for t in inputs])
        F.set_compile_enabled(previous)
    for eager_value, compiled_value in zip(*results, strict=True):
        torch.testing.assert_close(compiled_value, eager_value, rtol=1e-5, atol=1e-5)


# The lean eager kernels (CPU, float32): one regime per call, read from λ. Each case names the
# regime it must take, so a change in the dispatch cannot silently test the general math instead.
LEAN_CASES = {
    "gumbel": ([0.0], [-3.5, -1.0, 0.0, 1.0, 3.5]),
    "gumbel_negative_lambda": ([-0.2, 0.0, -1e-3], [-1.0, 0.4, 2.0]),
    "softplus": ([0.1, 0.5, 1.0, 10.0, 100.0], [-3.5, -1.0, 0.0, 0.2, 3.5]),
    "small": ([1e-6, 1e-4, 0.05, 0.0999], [-3.5, -1.0, 0.0, 1.0, 3.5]),
    "small_with_zeros": ([0.0, 1e-6, 0.03, 0.0], [-2.0, 0.5, 1.0, 3.5]),
    "general_zero_and_large": ([0.0, 0.5, 2.0, 0.0], [-2.0, 0.5, 1.0, 3.5]),
}
EXPECTED_REGIME = {
    "gumbel": "gumbel",
    "gumbel_negative_lambda": "gumbel",
    "softplus": "softplus",
    "small": "small",
    "small_with_zeros": "small",
    "general_zero_and_large": None,
}
LEAN_Z = [-1e4, -100.0, -30.0, -12.0, -3.0, -1.0, -0.1, 0.0, 0.1, 1.0, 3.0, 12.0, 30.0, 100.0, 1e4]


def lean_inputs(case: str, dtype: torch.dtype, per_element: bool):
    """(z, λ, κ) of shape (15, C, 2): every z of LEAN_Z against every (λ, κ) pair of the case."""
    lambdas, kappas = LEAN_CASES[case]
    pairs = list(itertools.product(lambdas, kappas))
    z = torch.tensor(LEAN_Z, dtype=dtype).view(-1, 1, 1) * torch.tensor([1.0, 0.37], dtype=dtype)
    z = z.expand(-1, len(pairs), 2).contiguous()
    lam = torch.tensor([p[0] for p in pairs], dtype=dtype).view(1, -1, 1)
    kap = torch.tensor([p[1] for p in pairs], dtype=dtype).view(1, -1, 1)
    if per_element:  # no reduction in the λ/κ gradients: each element compared on its own
        lam, kap = lam.expand_as(z).contiguous(), kap.expand_as(z).contiguous()
    return z, lam, kap


@pytest.mark.parametrize("gated", [False, True], ids=["apa", "aglu"])
@pytest.mark.parametrize("case", list(LEAN_CASES))
def test_lean_forward_matches_float64(eager, case, gated):
    z, lam, kap = lean_inputs(case, torch.float32, per_element=False)
    plan = F._lean_plan(z, lam, kap)
    assert (plan.regime if plan else None) == EXPECTED_REGIME[case]
    reference = run(gated, z.double(), lam.double(), kap.double())
    with torch.inference_mode():
        fast = run(gated, z, lam, kap)
    traced = run(gated, z, lam.clone().requires_grad_(), kap)  # through the autograd.Function
    assert fast.dtype == torch.float32 and torch.isfinite(fast).all()
    torch.testing.assert_close(fast.double(), reference, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(traced.detach(), fast, rtol=0, atol=0)


@pytest.mark.parametrize("gated", [False, True], ids=["apa", "aglu"])
@pytest.mark.parametrize("case", list(LEAN_CASES))
def test_lean_gradients_match_float64(eager, case, gated):
    grads = {}
    for dtype in (torch.float64, torch.float32):
        inputs = [t.requires_grad_() for t in lean_inputs(case, dtype, per_element=True)]
        out = run(gated, *inputs)
        out.backward(torch.cos(torch.arange(out.numel(), dtype=dtype)).view_as(out))
        grads[dtype] = [t.grad.double() for t in inputs]
    for name, low, high in zip("zλκ", grads[torch.float32], grads[torch.float64], strict=True):
        assert torch.isfinite(low).all(), name
        torch.testing.assert_close(low, high, rtol=1e-5, atol=1e-6, msg=f"d/d{name}")


@pytest.mark.parametrize("case", ["gumbel", "softplus"])
def test_lean_per_channel_sums_match_float64(eager, case):
    # The per-channel λ/κ gradients summed over (N, H, W), against float64 (a positive upstream,
    # so that the sums do not cancel).
    torch.manual_seed(4)
    lambdas = {"gumbel": [0.0] * 4, "softplus": [0.1, 0.6, 2.0, 30.0]}[case]
    z = torch.randn(3, 4, 5, 5, dtype=torch.float64) * 4
    upstream = torch.rand_like(z)
    lam = torch.tensor(lambdas, dtype=torch.float64).view(1, 4, 1, 1)
    kap = torch.tensor([-1.5, -0.3, 0.8, 2.5], dtype=torch.float64).view(1, 4, 1, 1)
    grads = {}
    for dtype in (torch.float64, torch.float32):
        inputs = [t.detach().to(dtype).requires_grad_() for t in (z, lam, kap)]
        F.aglu(*inputs).backward(upstream.to(dtype))
        grads[dtype] = [t.grad.double() for t in inputs]
    assert F._lean_plan(z.float(), lam.float(), kap.float()).regime == case
    for low, high in zip(grads[torch.float32], grads[torch.float64], strict=True):
        torch.testing.assert_close(low, high, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_lean_half_precision_keeps_dtype(eager, dtype):
    z, lam, kap = lean_inputs("softplus", torch.float32, per_element=False)
    reference = F.aglu(z.to(dtype).double(), lam.double(), kap.double())
    with torch.no_grad():
        out = F.aglu(z.to(dtype), lam, kap)
    assert out.dtype == dtype
    rtol = {torch.float16: 1e-3, torch.bfloat16: 8e-3}[dtype]
    torch.testing.assert_close(out.double(), reference.to(dtype).double(), rtol=rtol, atol=1e-5)


def test_inference_skips_autograd_and_matches_training_path():
    lam = torch.tensor(0.3, requires_grad=True)
    z = torch.linspace(-20, 20, 101)
    with torch.inference_mode():
        fast = F.aglu(z, lam, 1.2)
    assert fast.grad_fn is None and not fast.requires_grad
    with torch.no_grad():
        frozen = F.aglu(z, lam, 1.2)
    trained = F.aglu(z, lam, 1.2)
    assert trained.grad_fn is not None
    torch.testing.assert_close(fast, trained.detach(), rtol=0, atol=0)
    torch.testing.assert_close(frozen, fast, rtol=0, atol=0)
