"""The model registry: names, argument checks, and where the keyword arguments go."""

import re
import warnings

import pytest
from torch import nn

from aglu.layers import ACTIVATIONS, AGLU, APA
from aglu.models import (
    GATES,
    HEADS,
    CifarResNet,
    CosineHead,
    LearnableScaleCosineHead,
    ResNet,
    activation_modules,
    create,
    list_models,
)

NAMES = [
    "cbam_resnet32",
    "cbam_resnet50",
    "resnet32",
    "resnet50",
    "se_resnet101",
    "se_resnet152",
    "se_resnet32",
    "se_resnet50",
    "se_resnext50_32x4d",
]


def test_list_models():
    assert list_models() == NAMES


def test_create_the_issue_example():
    model = create(
        "se_resnet32", num_classes=10, in_chans=1, act_layer="aglu", gate_layer="apa", head="cosine"
    )
    assert isinstance(model, CifarResNet)
    assert model.conv1.in_channels == 1
    assert isinstance(model.act1, AGLU)
    assert isinstance(model.layer1[0].attention.gate, APA)
    assert isinstance(model.fc, CosineHead) and model.fc.num_classes == 10


@pytest.mark.parametrize(
    ("kwargs", "known"),
    [
        ({"name": "resnet18"}, NAMES),
        ({"act_layer": "swishy"}, sorted(ACTIVATIONS)),
        ({"gate_layer": "softmax"}, GATES),
        ({"head": "arcface"}, HEADS),
    ],
)
def test_unknown_names_raise_value_error_listing_the_known_ones(kwargs, known):
    arguments = {"name": "resnet32", "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=re.escape(repr(next(iter(kwargs.values()))))) as error:
        create(**arguments)
    assert all(repr(name) in str(error.value) for name in known)


@pytest.mark.parametrize(
    "kwargs", [{"num_classes": 0}, {"num_classes": 2.5}, {"in_chans": "3"}, {"in_chans": True}]
)
def test_bad_sizes_raise_value_error(kwargs):
    arguments = {"name": "resnet32", "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        create(**arguments)


def test_names_are_case_insensitive_and_classes_are_accepted():
    model = create("SE_ResNet32", 10, act_layer=nn.GELU, gate_layer="APA", head="Learnable_Cosine")
    assert isinstance(model.layer2[1].act2, nn.GELU)
    assert isinstance(model.layer2[1].attention.gate, APA)
    assert isinstance(model.fc, LearnableScaleCosineHead) and model.fc.sqrt_scale.item() == 5.0


def test_keyword_arguments_reach_the_model():
    model = create(
        "se_resnet32",
        10,
        act_layer="aglu",
        gate_layer="apa",
        act_kwargs={"kappa_init": (1.0, 1.3)},
        gate_kwargs={"kappa_init": (0.0, 1.0)},
        reduction=8,
    )
    for _, module in activation_modules(model):
        low, high = (0.0, 1.0) if type(module) is APA else (1.0, 1.3)
        assert low <= module.kappa.item() <= high
    assert model.layer1[0].attention.fc1.out_features == 2
    with pytest.raises(TypeError, match="depthh"):
        create("resnet32", 10, depthh=20)


def test_imagenet_names_build_resnets():
    model = create("resnet50", 10, in_chans=1)
    assert isinstance(model, ResNet) and model.fc.out_features == 10


def test_activation_modules_lists_every_apa_and_aglu():
    model = create("cbam_resnet32", 10, act_layer="aglu", gate_layer="apa")
    found = activation_modules(model)
    names = [name for name, _ in found]
    assert len(found) == 31 + 2 * 15
    assert names[:5] == [
        "act1",
        "layer1.0.act1",
        "layer1.0.attention.channel_gate.gate",
        "layer1.0.attention.spatial_gate.gate",
        "layer1.0.act2",
    ]
    assert all(dict(model.named_modules())[name] is module for name, module in found)
    assert activation_modules(create("se_resnet32", 10)) == []  # ReLU and sigmoid only
    with pytest.raises(TypeError, match=r"nn\.Module"):
        activation_modules("resnet32")


def test_a_gate_on_a_model_without_attention_warns():
    with pytest.warns(UserWarning, match="resnet32 has no attention gate, so gate_layer='apa'"):
        model = create("resnet32", num_classes=10, gate_layer="apa")
    assert not [m for m in model.modules() if isinstance(m, APA)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create("se_resnet32", num_classes=10, gate_layer="apa")
        create("resnet32", num_classes=10)
