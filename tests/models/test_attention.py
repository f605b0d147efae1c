"""SE and CBAM gate blocks against a float64 forward written out by hand."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from aglu.layers import APA
from aglu.models import CBAM, GATES, SqueezeExcitation, create_gate
from aglu.models.attention import ChannelGate, attention_factory


def apa_reference(z, lambda_, kappa):
    """APA straight from its definition, (1 + λ e^(−κz))^(−1/λ), in float64."""
    return (1 + lambda_ * torch.exp(-kappa * z)) ** (-1 / lambda_)


def layer_norm_reference(v, weight, bias, eps=1e-5):
    mean = v.mean(dim=-1, keepdim=True)
    var = ((v - mean) ** 2).mean(dim=-1, keepdim=True)
    return (v - mean) / torch.sqrt(var + eps) * weight + bias


def randomize_(module):
    """Give every parameter and batch-norm statistic a distinct random value."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(
                    torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype) + 0.5
                )
    return module


@pytest.mark.parametrize("gate_layer", ["apa", "sigmoid"])
def test_squeeze_excitation_structure(gate_layer):
    se = SqueezeExcitation(64, reduction=16, gate_layer=gate_layer)
    assert isinstance(se.norm, nn.LayerNorm) and se.norm.normalized_shape == (64,)
    assert se.fc1.weight.shape == (4, 64) and se.fc1.bias is None
    assert se.fc2.weight.shape == (64, 4) and se.fc2.bias is None
    assert isinstance(se.act, nn.ReLU)
    assert se.dropout.p == 0.1
    assert type(se.gate) is {"apa": APA, "sigmoid": nn.Sigmoid}[gate_layer]


def test_apa_gate_initialisation_follows_the_paper_and_can_be_changed():
    gates = [create_gate("apa") for _ in range(200)]
    lambdas = torch.cat([gate.lambda_.detach() for gate in gates])
    kappas = torch.cat([gate.kappa.detach() for gate in gates])
    assert lambdas.min() >= 0 and lambdas.max() <= 1 and lambdas.std() > 0.2
    assert kappas.min() >= -1 and kappas.max() <= 0 and kappas.std() > 0.2

    gate = SqueezeExcitation(8, 2, "apa", gate_kwargs={"kappa_init": 0.5}).gate
    assert gate.kappa.item() == 0.5 and gate.lambda_init == (0.0, 1.0)


def test_squeeze_excitation_apa_matches_reference():
    se = randomize_(SqueezeExcitation(4, reduction=2, gate_layer="apa")).double().eval()
    x = torch.randn(3, 4, 5, 6, dtype=torch.float64)

    squeezed = layer_norm_reference(x.mean(dim=(2, 3)), se.norm.weight, se.norm.bias)
    hidden = torch.clamp(squeezed @ se.fc1.weight.T, min=0)
    gate = apa_reference(hidden @ se.fc2.weight.T, se.gate.lambda_, se.gate.kappa)
    expected = x * gate[:, :, None, None]

    torch.testing.assert_close(se(x), expected)


def test_squeeze_excitation_sigmoid_changes_only_the_gate():
    torch.manual_seed(0)
    apa_se = SqueezeExcitation(4, reduction=2, gate_layer="apa").double().eval()
    sigmoid_se = SqueezeExcitation(4, reduction=2, gate_layer="sigmoid").double().eval()
    sigmoid_se.load_state_dict(apa_se.state_dict(), strict=False)
    with torch.no_grad():
        apa_se.gate.lambda_.fill_(1.0)  # λ = κ = 1 is the logistic sigmoid
        apa_se.gate.kappa.fill_(1.0)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(sigmoid_se(x), apa_se(x))


def test_cbam_matches_reference():
    cbam = randomize_(CBAM(4, reduction=2, gate_layer="apa")).double().eval()
    channel, spatial = cbam.channel_gate, cbam.spatial_gate
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)

    def mlp(pooled):
        normed = layer_norm_reference(pooled, channel.norm.weight, channel.norm.bias)
        hidden = torch.clamp(normed @ channel.fc1.weight.T + channel.fc1.bias, min=0)
        return hidden @ channel.fc2.weight.T + channel.fc2.bias

    logits = mlp(x.mean(dim=(2, 3))) + mlp(x.amax(dim=(2, 3)))
    y = x * apa_reference(logits, channel.gate.lambda_, channel.gate.kappa)[:, :, None, None]

    pooled = torch.stack([y.amax(dim=1), y.mean(dim=1)], dim=1)  # channel max first, then mean
    conv = F.conv2d(pooled, spatial.conv.weight, padding=3)
    bn = spatial.bn
    normed = (conv - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    expected = y * apa_reference(normed, spatial.gate.lambda_, spatial.gate.kappa)

    torch.testing.assert_close(cbam(x), expected)


class FixedMaskDropout(nn.Module):
    """Dropout with known masks: call k multiplies by ``masks[k] / (1 - p)``, as dropout does."""

    def __init__(self, masks, p=0.5):
        super().__init__()
        self.masks, self.p, self.calls = masks, p, 0

    def forward(self, x):
        mask = self.masks[self.calls]
        self.calls += 1
        return x * mask / (1 - self.p)


def random_masks(count, shape, seed):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(shape, generator=generator) < 0.5).double() for _ in range(count)]


def test_squeeze_excitation_drops_out_the_excitation_before_the_gate_in_training():
    se = randomize_(SqueezeExcitation(4, reduction=2, gate_layer="apa")).double().train()
    (mask,) = random_masks(1, (3, 4), seed=1)
    assert 0 < mask.sum() < mask.numel()  # some units kept, some dropped
    se.dropout = FixedMaskDropout([mask])
    x = torch.randn(3, 4, 5, 6, dtype=torch.float64)

    squeezed = layer_norm_reference(x.mean(dim=(2, 3)), se.norm.weight, se.norm.bias)
    excitation = torch.clamp(squeezed @ se.fc1.weight.T, min=0) @ se.fc2.weight.T
    dropped = excitation * mask / 0.5  # after fc2, before the gate
    expected = x * apa_reference(dropped, se.gate.lambda_, se.gate.kappa)[:, :, None, None]

    torch.testing.assert_close(se(x), expected)
    assert se.dropout.calls == 1


def test_squeeze_excitation_dropout_sits_between_fc2_and_the_gate():
    se = SqueezeExcitation(8, reduction=2, gate_layer="apa").double().train()
    seen = {}

    def record(name):
        def hook(module, inputs, output):
            seen[name] = (inputs[0], output)

        return hook

    for name in ("fc2", "dropout", "gate"):
        getattr(se, name).register_forward_hook(record(name))
    se(torch.randn(2, 8, 3, 3, dtype=torch.float64))
    assert seen["dropout"][0] is seen["fc2"][1]  # dropout takes fc2's output
    assert seen["gate"][0] is seen["dropout"][1]  # and feeds the gate


def test_cbam_channel_gate_drops_out_each_mlp_output_in_training():
    channel = randomize_(ChannelGate(4, reduction=2, gate_layer="apa")).double().train()
    masks = random_masks(2, (2, 4), seed=2)
    assert not torch.equal(masks[0], masks[1])
    channel.dropout = FixedMaskDropout(masks)
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)

    def mlp(pooled, mask):
        normed = layer_norm_reference(pooled, channel.norm.weight, channel.norm.bias)
        hidden = torch.clamp(normed @ channel.fc1.weight.T + channel.fc1.bias, min=0)
        return (hidden @ channel.fc2.weight.T + channel.fc2.bias) * mask / 0.5

    # Average-pooled branch first, each branch with its own mask, summed, then the gate.
    logits = mlp(x.mean(dim=(2, 3)), masks[0]) + mlp(x.amax(dim=(2, 3)), masks[1])
    expected = x * apa_reference(logits, channel.gate.lambda_, channel.gate.kappa)[:, :, None, None]

    torch.testing.assert_close(channel(x), expected)
    assert channel.dropout.calls == 2


def test_cbam_structure():
    cbam = CBAM(64, reduction=16, gate_layer="apa")
    channel, spatial = cbam.channel_gate, cbam.spatial_gate
    assert channel.fc1.weight.shape == (4, 64) and channel.fc1.bias is not None
    assert channel.dropout.p == 0.1
    assert spatial.conv.weight.shape == (1, 2, 7, 7) and spatial.conv.bias is None
    assert isinstance(spatial.bn, nn.BatchNorm2d)
    assert isinstance(channel.gate, APA) and isinstance(spatial.gate, APA)
    assert channel.gate is not spatial.gate


def test_hu_style_squeeze_excitation_structure():
    se = SqueezeExcitation(64, reduction=16, style="hu")
    assert isinstance(se.norm, nn.Identity)
    assert se.fc1.weight.shape == (4, 64) and se.fc1.bias.shape == (4,)
    assert se.fc2.weight.shape == (64, 4) and se.fc2.bias.shape == (64,)
    assert se.dropout.p == 0.0 and isinstance(se.gate, nn.Sigmoid)
    # fc1 (64·4 + 4) + fc2 (4·64 + 64): no LayerNorm parameters.
    assert sum(p.numel() for p in se.parameters()) == 580
    assert "style='hu'" in repr(se)
    assert SqueezeExcitation(64, style="hu", dropout=0.2).dropout.p == 0.2


def test_hu_style_squeeze_excitation_matches_reference_in_training():
    se = randomize_(SqueezeExcitation(4, reduction=2, style="hu")).double().train()
    x = torch.randn(3, 4, 5, 6, dtype=torch.float64)

    # Hu et al.: s = σ(W2 ReLU(W1 z + b1) + b2) on the plain mean; no LayerNorm, no dropout.
    hidden = torch.clamp(x.mean(dim=(2, 3)) @ se.fc1.weight.T + se.fc1.bias, min=0)
    gate = 1 / (1 + torch.exp(-(hidden @ se.fc2.weight.T + se.fc2.bias)))
    expected = x * gate[:, :, None, None]

    torch.testing.assert_close(se(x), expected)


def test_unknown_se_style_and_hu_style_without_se_are_value_errors():
    with pytest.raises(ValueError, match="unknown SE style 'timm'"):
        SqueezeExcitation(8, style="timm")
    with pytest.raises(ValueError, match="se_style='hu' applies to attention='se' only"):
        attention_factory("cbam", 16, "sigmoid", None, se_style="hu")
    assert attention_factory(None, 16, "sigmoid", None) is None
    assert attention_factory("se", 16, "sigmoid", None, se_style="hu")(32).style == "hu"


def test_unknown_gate_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown gate_layer 'tanh'") as error:
        SqueezeExcitation(8, gate_layer="tanh")
    assert all(name in str(error.value) for name in GATES)


def test_bad_reduction_is_a_value_error():
    with pytest.raises(ValueError, match="reduction=0"):
        SqueezeExcitation(8, reduction=0)
