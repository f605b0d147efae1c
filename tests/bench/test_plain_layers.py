"""The plain-ops baseline computes the same function and gradients as aglu's layers (float64)."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import aglu.functional
from aglu import AGLU, APA
from aglu.bench.plain_layers import PlainAGLU, PlainAPA


@pytest.mark.parametrize(("plain_cls", "ours_cls"), [(PlainAGLU, AGLU), (PlainAPA, APA)])
@pytest.mark.parametrize(("lambda_", "kappa"), [(0.3, 1.1), (1.0, -0.7), (2.5, 0.2)])
def test_plain_layers_match_ours_in_float64(plain_cls, ours_cls, lambda_, kappa):
    plain = plain_cls().double()
    ours = ours_cls(lambda_init=lambda_, kappa_init=kappa, dtype=torch.float64)
    with torch.no_grad():
        plain.lambda_.fill_(lambda_)
        plain.kappa.fill_(kappa)
    z = torch.linspace(-6, 6, 49, dtype=torch.float64)

    outputs = [layer(z.clone().requires_grad_()) for layer in (plain, ours)]
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-12, atol=1e-12)
    weights = torch.linspace(-1, 1, 49, dtype=torch.float64)
    for output in outputs:
        (output * weights).sum().backward()
    for name in ("lambda_", "kappa"):
        torch.testing.assert_close(
            getattr(plain, name).grad, getattr(ours, name).grad, rtol=1e-10, atol=1e-12
        )


def test_plain_layers_draw_the_paper_initial_ranges():
    torch.manual_seed(0)
    acts = [PlainAGLU() for _ in range(50)]
    gates = [PlainAPA() for _ in range(50)]
    assert all(0 <= a.lambda_.item() <= 1 and 0.8 <= a.kappa.item() <= 1.2 for a in acts)
    assert all(-1 <= g.kappa.item() <= 0 for g in gates)


@pytest.mark.parametrize(("plain_cls", "lambda_"), [(PlainAGLU, 0.3), (PlainAPA, 1.7)])
def test_plain_layers_match_the_functional_math_in_float64(plain_cls, lambda_):
    layer = plain_cls().double()
    with torch.no_grad():
        layer.lambda_.fill_(lambda_)
        layer.kappa.fill_(0.9)
    z = torch.linspace(-15, 15, 301, dtype=torch.float64)
    ours = aglu.functional.aglu if plain_cls.gated else aglu.functional.apa
    torch.testing.assert_close(layer(z), ours(z, lambda_, 0.9), rtol=1e-12, atol=1e-14)


class _FullSizeOps(TorchDispatchMode):
    """Records every computing op (not `detach`) whose output has ``numel`` elements."""

    def __init__(self, numel: int) -> None:
        super().__init__()
        self.numel, self.ops = numel, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if isinstance(out, torch.Tensor) and out.numel() == self.numel and name != "detach":
            self.ops.append(name)
        return out


@pytest.mark.parametrize(("plain_cls", "tail"), [(PlainAGLU, ["exp", "mul"]), (PlainAPA, ["exp"])])
def test_plain_layers_compose_the_reference_ops(plain_cls, tail):
    # The paper's code: exp((1/λ) · softplus_{β=−1}(κz − log λ)); 1/λ is a one-element op, so
    # the full-size forward ops are exactly these (no negation or division of the whole tensor).
    z = torch.randn(4, 64, requires_grad=True)
    with _FullSizeOps(z.numel()) as recorded:
        plain_cls()(z)
    assert recorded.ops == ["mul", "sub", "softplus", "mul", *tail]
