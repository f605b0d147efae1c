"""aglu.layers: APA/AGLU on (N, C), (N, C, L), (N, C, H, W) (channels_last kept) and (N, T, C)
inputs against the functional form, the channel-count error, initialisation and its validation,
reset/extra_repr/state_dict, autocast bfloat16 and .half() dtypes, an SGD step with lr 10 staying
finite, λ pushed below 0 recovering, and the name registry."""

import pytest
import torch
from torch import nn

import aglu.functional as F
from aglu import AGLU, APA, create_activation
from aglu.layers import ACTIVATIONS, get_activation_class

SHAPES = [(4, 6), (4, 6, 9), (2, 6, 5, 7)]


@pytest.fixture(autouse=True)
def eager():
    """The layers' own logic; the compiled kernels are covered in test_functional and the bench."""
    previous = F.set_compile_enabled(False)
    yield
    F.set_compile_enabled(previous)


@pytest.mark.parametrize("cls", [APA, AGLU])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("num_parameters", [1, 6])
def test_matches_functional_per_channel(cls, shape, num_parameters):
    torch.manual_seed(0)
    layer = cls(num_parameters)
    z = torch.randn(shape) * 4
    view = [1] * len(shape)
    view[1] = num_parameters
    fn = F.aglu if cls is AGLU else F.apa
    expected = fn(z, layer.lambda_.view(view), layer.kappa.view(view))
    torch.testing.assert_close(layer(z), expected, rtol=0, atol=0)


def test_channels_last_is_preserved():
    layer = AGLU(6)
    z = torch.randn(2, 6, 5, 7).to(memory_format=torch.channels_last).requires_grad_()
    out = layer(z)
    out.backward(torch.ones_like(out))
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert z.grad.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, layer(z.contiguous()), rtol=0, atol=0)


def test_tokens_last_channel_dim():
    torch.manual_seed(0)
    layer = AGLU(8, channel_dim=-1)
    z = torch.randn(3, 5, 8)  # (N, T, C)
    expected = torch.stack(
        [F.aglu(z[..., c], layer.lambda_[c], layer.kappa[c]) for c in range(8)], dim=-1
    )
    torch.testing.assert_close(layer(z), expected, rtol=1e-6, atol=1e-7)


def test_channel_count_mismatch_names_both():
    with pytest.raises(ValueError, match=r"num_parameters=6.*has 5 channels"):
        APA(6)(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"num_parameters=4.*has 3 channels at channel_dim=-1"):
        AGLU(4, channel_dim=-1)(torch.randn(2, 7, 3))


def test_channel_dim_outside_the_input_is_an_error_not_a_wrap_around():
    # channel_dim=2 on (4, 4) would silently pick dim 0 if taken modulo the rank
    with pytest.raises(
        ValueError, match=r"channel_dim=2 but its input of shape \(4, 4\) has 2 dims"
    ):
        AGLU(4, channel_dim=2)(torch.randn(4, 4))
    with pytest.raises(ValueError, match=r"num_parameters=True"):
        AGLU(num_parameters=True)


def test_initialisation_ranges_and_validation():
    torch.manual_seed(0)
    aglu_layer, apa_layer = AGLU(1000), APA(1000)
    assert aglu_layer.lambda_.min() >= 0 and aglu_layer.lambda_.max() <= 1
    assert aglu_layer.kappa.min() >= 0.8 and aglu_layer.kappa.max() <= 1.2
    assert apa_layer.kappa.min() >= 0 and apa_layer.kappa.max() <= 1
    fixed = AGLU(3, lambda_init=0.25, kappa_init=-1.0)
    assert fixed.lambda_.tolist() == [0.25] * 3 and fixed.kappa.tolist() == [-1.0] * 3
    with pytest.raises(ValueError, match="low > high"):
        AGLU(kappa_init=(1.2, 0.8))
    with pytest.raises(ValueError, match="λ must be ≥ 0"):
        APA(lambda_init=-0.1)
    with pytest.raises(ValueError, match="num_parameters"):
        AGLU(0)


def test_reset_repr_state_dict_device_dtype():
    layer = APA(4, lambda_init=(0.2, 0.3), kappa_init=(-1.0, 0.0), dtype=torch.float64)
    with torch.no_grad():
        layer.lambda_.fill_(7.0)
    layer.reset_parameters()
    assert layer.lambda_.dtype == torch.float64 and layer.lambda_.max() <= 0.3
    assert set(layer.state_dict()) == {"lambda_", "kappa"}
    assert layer.lambda_.shape == layer.kappa.shape == (4,)
    assert "num_parameters=4" in repr(layer) and "kappa_init=(-1.0, 0.0)" in repr(layer)


def test_autocast_bfloat16_keeps_the_input_dtype():
    model = nn.Sequential(nn.Linear(8, 8), AGLU(8, channel_dim=-1), nn.Linear(8, 8), APA())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = model[0](torch.randn(4, 8))
        assert hidden.dtype == torch.bfloat16 and model[1](hidden).dtype == torch.bfloat16
        out = model(torch.randn(4, 8))
    assert out.dtype == torch.bfloat16
    out.float().sum().backward()
    assert model[1].lambda_.grad.dtype == torch.float32
    assert torch.isfinite(model[1].lambda_.grad).all()


def test_half_module():
    layer = AGLU(3).half()
    z = (torch.randn(2, 3, 4) * 3).half().requires_grad_()
    out = layer(z)
    out.sum().backward()
    assert out.dtype == z.grad.dtype == layer.lambda_.grad.dtype == torch.float16
    assert torch.isfinite(out).all() and torch.isfinite(layer.kappa.grad).all()


def test_sgd_step_with_lr_10_stays_finite():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), AGLU(8), nn.Conv2d(8, 8, 3), APA(), nn.Flatten())
    optimizer = torch.optim.SGD(model.parameters(), lr=10.0)
    batch = torch.randn(4, 3, 10, 10) * 3
    loss = model(batch).square().mean()
    loss.backward()
    optimizer.step()
    for parameter in model.parameters():
        assert torch.isfinite(parameter).all()
    assert torch.isfinite(model(batch)).all()


def test_lambda_pushed_below_zero_recovers():
    z = torch.linspace(-4, 4, 101)
    target = torch.sigmoid(z)  # APA with λ = 1, κ = 1
    gate = APA(lambda_init=-0.0, kappa_init=1.0)
    with torch.no_grad():
        gate.lambda_.fill_(-0.5)  # as if an optimiser step had overshot
    gate.kappa.requires_grad_(False)
    optimizer = torch.optim.SGD(gate.parameters(), lr=5.0)
    for _ in range(40):
        optimizer.zero_grad()
        loss = (gate(z) - target).square().mean()
        loss.backward()
        assert gate.lambda_.grad.item() < 0  # a live gradient, pointing back up
        optimizer.step()
    assert gate.lambda_.item() > 0.1


def test_lambda_below_zero_does_not_drift():
    # A target under the Gumbel curve (λ = 0) asks for an ever smaller λ: once below 0 it stops.
    z = torch.linspace(-4, 4, 101)
    target = torch.exp(-2 * torch.exp(-z))
    gate = APA(lambda_init=0.3, kappa_init=1.0)
    gate.kappa.requires_grad_(False)
    optimizer = torch.optim.SGD(gate.parameters(), lr=2.0)
    trajectory = []
    for _ in range(60):
        optimizer.zero_grad()
        (gate(z) - target).square().mean().backward()
        optimizer.step()
        trajectory.append(gate.lambda_.item())
    crossed = next(i for i, value in enumerate(trajectory) if value < 0)
    assert crossed < 50 and trajectory[-1] == trajectory[crossed] > -0.1


def test_registry():
    assert get_activation_class("AGLU") is AGLU and get_activation_class(nn.GELU) is nn.GELU
    first, second = create_activation("aglu", num_parameters=3), create_activation("aglu")
    assert first is not second and first.num_parameters == 3
    assert isinstance(create_activation("relu"), nn.ReLU) and set(ACTIVATIONS) >= {"apa", "silu"}
    with pytest.raises(ValueError, match=r"unknown activation 'swishy'.*'aglu'"):
        create_activation("swishy")
