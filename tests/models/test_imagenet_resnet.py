"""ImageNet-size ResNets: torchvision's counts and names, the gates' parameters, a forward."""

import pytest
import torch
import torchvision

from aglu.layers import AGLU, APA
from aglu.models import ResNet, create
from aglu.models.attention import SqueezeExcitation

# Published torchvision parameter counts (1000 classes).
TORCHVISION_COUNTS = {
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904,
}
STAGE_CHANNELS = (256, 512, 1024, 2048)


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def on_meta(name, **kwargs):
    """Build without allocating or initialising weights: enough to count parameters."""
    with torch.device("meta"):
        return create(name, 1000, **kwargs)


def block_channels(layers):
    return [c for c, n in zip(STAGE_CHANNELS, layers, strict=True) for _ in range(n)]


def se_extra(c):  # LayerNorm (2C) + two bias-free linears, r = 16
    return 2 * c + 2 * c * c // 16


def hu_se_extra(c):  # Hu et al.: C → C/16 → C, both with biases; no LayerNorm
    return (c * c // 16 + c // 16) + (c // 16 * c + c)


def cbam_extra(c):  # LayerNorm, linears with biases, 7×7 conv (2 → 1) and BatchNorm(1)
    return 2 * c + 2 * c * c // 16 + c // 16 + c + 98 + 2


def test_resnet50_is_torchvisions():
    ours = create("resnet50", 1000).eval()
    reference = torchvision.models.resnet50(weights=None).eval()
    assert num_params(ours) == TORCHVISION_COUNTS["resnet50"] == num_params(reference)

    ours_shapes = {k: v.shape for k, v in ours.state_dict().items()}
    assert ours_shapes == {k: v.shape for k, v in reference.state_dict().items()}
    ours.load_state_dict(reference.state_dict())  # torchvision weights load as they are
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


@pytest.mark.parametrize(
    ("name", "baseline", "layers", "extra"),
    [
        ("se_resnet50", "resnet50", (3, 4, 6, 3), se_extra),
        ("se_resnet101", "resnet101", (3, 4, 23, 3), se_extra),
        ("se_resnet152", "resnet152", (3, 8, 36, 3), se_extra),
        ("se_resnext50_32x4d", "resnext50_32x4d", (3, 4, 6, 3), se_extra),
        ("cbam_resnet50", "resnet50", (3, 4, 6, 3), cbam_extra),
    ],
)
def test_attention_models_add_exactly_their_gates(name, baseline, layers, extra):
    expected = TORCHVISION_COUNTS[baseline] + sum(extra(c) for c in block_channels(layers))
    assert num_params(on_meta(name)) == expected


def test_paper_block_totals_derived_from_the_architecture():
    # Not published figures: our own sums for the APA paper's SE block (LayerNorm, bias-free
    # linears) on torchvision's ResNets, the se_extra formula above evaluated. Hu et al.'s
    # SE-ResNet-50 (biases, no LayerNorm) has 28,088,024: the paper's block has C − C/16 more
    # per block, summed over the 16 blocks 15,104 − 944 = 14,160.
    assert num_params(on_meta("se_resnet50")) == 28_102_184 == 28_088_024 + 14_160
    assert num_params(on_meta("se_resnet152")) == 66_866_728
    # AGLU: λ, κ for 1 + 3 · 16 activations; APA gates: 16; the cosine head has no bias.
    model = on_meta("se_resnet50", act_layer="aglu", gate_layer="apa", head="cosine")
    assert num_params(model) == 28_102_184 + 2 * 49 + 2 * 16 - 1000


def _torchvision_with_hu_se(name):
    """torchvision's count plus a Hu et al. SE (1×1 convs with biases, r = 16) per bottleneck,
    built from torch primitives alone, as timm's SEModule builds it."""
    with torch.device("meta"):
        model = getattr(torchvision.models, name)(weights=None)
        total = num_params(model)
        for block in model.modules():
            if isinstance(block, torchvision.models.resnet.Bottleneck):
                channels = block.bn3.num_features
                squeeze = torch.nn.Conv2d(channels, channels // 16, 1, bias=True)
                excite = torch.nn.Conv2d(channels // 16, channels, 1, bias=True)
                total += num_params(squeeze) + num_params(excite)
    return total


@pytest.mark.parametrize(
    ("name", "baseline", "layers", "expected"),
    [
        # Hu et al. (2018): SE adds ~2.5 M to ResNet-50's ~25 M (2,530,992 here). timm's model
        # cards round these to 28.1 M, 49.3 M, 66.8 M and 27.6 M; for C in (256, 512, 1024,
        # 2048) timm's reduced width make_divisible(C / 16, 8) is exactly C / 16.
        ("se_resnet50", "resnet50", (3, 4, 6, 3), 28_088_024),
        ("se_resnet101", "resnet101", (3, 4, 23, 3), 49_326_872),
        ("se_resnet152", "resnet152", (3, 8, 36, 3), 66_821_848),
        ("se_resnext50_32x4d", "resnext50_32x4d", (3, 4, 6, 3), 27_559_896),
    ],
)
def test_hu_style_se_models_have_the_standard_counts(name, baseline, layers, expected):
    # Three derivations must agree: torchvision's model plus hand-built SE convolutions, the
    # published torchvision count plus the per-block formula, and our model with se_style="hu".
    assert _torchvision_with_hu_se(baseline) == expected
    formula = TORCHVISION_COUNTS[baseline] + sum(hu_se_extra(c) for c in block_channels(layers))
    assert formula == expected
    model = on_meta(name, se_style="hu")
    assert num_params(model) == expected
    assert all(block.attention.style == "hu" for block in model.layer2)


def test_resnext_uses_grouped_convolutions():
    block = on_meta("se_resnext50_32x4d").layer1[0]
    assert block.conv2.groups == 32 and block.conv2.in_channels == 128
    assert isinstance(block.attention, SqueezeExcitation)
    assert block.attention.fc1.out_features == 256 // 16


def test_every_activation_is_its_own_module():
    model = on_meta("se_resnet50", act_layer="aglu", gate_layer="apa")
    aglus = [m for m in model.modules() if isinstance(m, AGLU)]
    apas = [m for m in model.modules() if isinstance(m, APA) and not isinstance(m, AGLU)]
    assert len({id(m) for m in aglus}) == 1 + 3 * 16
    assert len({id(m) for m in apas}) == 16
    block = model.layer3[2]
    assert len({id(block.act1), id(block.act2), id(block.act3)}) == 3
    assert all(m.kappa_init == (0.8, 1.2) for m in aglus)
    assert all(m.kappa_init == (-1.0, 0.0) for m in apas)


@pytest.mark.parametrize("name", ["se_resnext50_32x4d", "cbam_resnet50"])
def test_forward_at_small_input(name):
    model = create(name, 10, act_layer="aglu", gate_layer="apa", head="cosine").eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 64, 64))
    assert logits.shape == (1, 10) and torch.isfinite(logits).all()
    assert logits.abs().max() < 16


def test_in_chans_and_bad_layers():
    assert on_meta("resnet50", in_chans=1).conv1.weight.shape == (64, 1, 7, 7)
    with pytest.raises(ValueError, match="layers="):
        ResNet(10, layers=(3, 4, 6))
