"""CIFAR-size ResNet-32 family: published parameter counts, option-A shortcuts, activations."""

import pytest
import torch
from torch import nn

from aglu.layers import AGLU, APA
from aglu.models import CifarResNet, create
from aglu.models.cifar_resnet import PadShortcut

PLAIN_RESNET32 = 464_154  # He et al.'s ResNet-32 for CIFAR-10: 0.46 M
BLOCK_CHANNELS = [16] * 5 + [32] * 5 + [64] * 5


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def test_plain_resnet32_has_the_published_count():
    model = create("resnet32", num_classes=10)
    assert num_params(model) == PLAIN_RESNET32
    assert round(num_params(model) / 1e6, 2) == 0.46


def test_in_chans_changes_only_the_stem():
    model = create("resnet32", num_classes=10, in_chans=1)
    assert model.conv1.weight.shape == (16, 1, 3, 3)
    assert num_params(model) == PLAIN_RESNET32 - 2 * 16 * 9


def test_se_and_cbam_resnet32_add_their_gates_parameters():
    # SE, r = 4: LayerNorm (2C) + two bias-free linears (2 · C · C/4) per block.
    se_extra = sum(2 * c + 2 * c * c // 4 for c in BLOCK_CHANNELS)
    # CBAM: LayerNorm, linears with biases, 7×7 conv (2 → 1, no bias) and BatchNorm(1) per block.
    cbam_extra = sum(2 * c + 2 * c * c // 4 + c // 4 + c + 98 + 2 for c in BLOCK_CHANNELS)
    assert num_params(create("se_resnet32", 10)) == PLAIN_RESNET32 + se_extra == 478_714
    assert num_params(create("cbam_resnet32", 10)) == PLAIN_RESNET32 + cbam_extra == 480_914
    # AGLU adds λ and κ to each of the 31 activations, an APA gate to each of the 15 blocks.
    aglu = create("se_resnet32", 10, act_layer="aglu", gate_layer="apa")
    assert num_params(aglu) == 478_714 + 2 * 31 + 2 * 15


def test_hu_style_se_resnet32_has_biases_and_no_layer_norm():
    # Hu et al.'s block, r = 4: C → C/4 → C with biases (2 · C · C/4 + C/4 + C) per block.
    hu_extra = sum(2 * c * c // 4 + c // 4 + c for c in BLOCK_CHANNELS)
    model = create("se_resnet32", 10, se_style="hu")
    assert num_params(model) == PLAIN_RESNET32 + hu_extra == 478_294
    assert isinstance(model.layer3[0].attention.norm, nn.Identity)
    with pytest.raises(ValueError, match="se_style='hu' applies to attention='se' only"):
        create("cbam_resnet32", 10, se_style="hu")


def test_every_activation_is_its_own_module():
    model = create("resnet32", 10, act_layer="aglu")
    activations = [m for m in model.modules() if isinstance(m, AGLU)]
    assert len(activations) == 1 + 2 * 15  # stem, inside each block, after each add
    assert len({id(m) for m in activations}) == 31
    assert len({id(m.lambda_) for m in activations} | {id(m.kappa) for m in activations}) == 62
    block = model.layer2[3]
    assert isinstance(block.act1, AGLU) and isinstance(block.act2, AGLU)
    assert block.act1 is not block.act2


def test_option_a_shortcut_is_a_zero_padded_strided_identity():
    x = torch.arange(2 * 2 * 4 * 4, dtype=torch.float64).view(2, 2, 4, 4)
    out = PadShortcut(2, 6, stride=2)(x)
    assert out.shape == (2, 6, 2, 2)
    assert out[:, [0, 1, 4, 5]].abs().sum() == 0
    torch.testing.assert_close(out[:, 2:4], x[:, :, ::2, ::2])

    model = create("resnet32", 10)
    for stage in (model.layer2, model.layer3):
        assert isinstance(stage[0].shortcut, PadShortcut)
        assert all(isinstance(block.shortcut, nn.Identity) for block in stage[1:])
    assert not any(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in model.modules())


@pytest.mark.parametrize(
    ("name", "in_chans", "size"),
    [("resnet32", 3, 32), ("se_resnet32", 1, 28), ("cbam_resnet32", 3, 32)],
)
def test_forward_and_backward(name, in_chans, size):
    model = create(name, 10, in_chans=in_chans, act_layer="aglu", gate_layer="apa", head="cosine")
    logits = model(torch.randn(2, in_chans, size, size))
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    logits.logsumexp(dim=1).sum().backward()
    adaptive = [m for m in model.modules() if isinstance(m, AGLU | APA)]
    assert all(torch.isfinite(m.lambda_.grad).all() and m.kappa.grad is not None for m in adaptive)
    assert model.forward_features(torch.randn(2, in_chans, size, size)).shape == (2, 64)


def test_attention_reduction_is_four():
    model = create("se_resnet32", 10, gate_layer="apa")
    assert [block.attention.fc1.out_features for block in model.layer1] == [4] * 5
    assert model.layer3[0].attention.fc1.out_features == 16
    assert isinstance(model.layer3[0].attention.gate, APA)


@pytest.mark.parametrize("depth", [30, 2, "32"])
def test_bad_depth_is_a_value_error(depth):
    with pytest.raises(ValueError, match="6n"):
        CifarResNet(10, depth=depth)
