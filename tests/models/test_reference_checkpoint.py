"""Import of the authors' checkpoints: the name map, a strict round trip, and clear errors."""

import argparse

import pytest
import torch

from aglu.models import create, load_reference_checkpoint, to_reference_state_dict
from aglu.models.reference_checkpoint import from_reference_key, to_reference_key

# (ours, the authors') written out from the issue's description of their layout.
KEY_PAIRS = [
    ("act1.lambda_", "relu.lambda_param"),
    ("act1.kappa", "relu.kappa_param"),
    ("conv1.weight", "conv1.weight"),
    ("bn1.running_var", "bn1.running_var"),
    ("layer1.0.act1.lambda_", "layer1.0.unirect1.lambda_param"),
    ("layer2.3.act2.kappa", "layer2.3.unirect2.kappa_param"),
    ("layer4.2.act3.kappa", "layer4.2.unirect3.kappa_param"),
    ("layer1.0.downsample.0.weight", "layer1.0.downsample.0.weight"),
    ("layer1.0.downsample.1.num_batches_tracked", "layer1.0.downsample.1.num_batches_tracked"),
    ("layer3.5.conv2.weight", "layer3.5.conv2.weight"),
    ("layer1.0.attention.norm.weight", "layer1.0.se.norm.weight"),
    ("layer1.0.attention.fc1.weight", "layer1.0.se.excitation.0.weight"),
    ("layer4.2.attention.fc2.weight", "layer4.2.se.excitation.2.weight"),
    ("layer3.5.attention.gate.lambda_", "layer3.5.se.uniact.lambda_param"),
    ("layer1.0.attention.channel_gate.norm.bias", "layer1.0.cbam.ChannelGate.norm.bias"),
    ("layer1.0.attention.channel_gate.fc1.weight", "layer1.0.cbam.ChannelGate.mlp.1.weight"),
    ("layer1.0.attention.channel_gate.fc2.bias", "layer1.0.cbam.ChannelGate.mlp.3.bias"),
    ("layer1.0.attention.channel_gate.gate.kappa", "layer1.0.cbam.ChannelGate.uniact.kappa_param"),
    (
        "layer2.3.attention.spatial_gate.conv.weight",
        "layer2.3.cbam.SpatialGate.spatial.conv.weight",
    ),
    (
        "layer2.3.attention.spatial_gate.bn.running_mean",
        "layer2.3.cbam.SpatialGate.spatial.bn.running_mean",
    ),
    (
        "layer4.2.attention.spatial_gate.gate.lambda_",
        "layer4.2.cbam.SpatialGate.uniact.lambda_param",
    ),
    ("fc.weight", "fc.weight"),
]


@pytest.mark.parametrize(("ours", "theirs"), KEY_PAIRS)
def test_key_map_both_ways(ours, theirs):
    assert to_reference_key(ours) == theirs
    assert from_reference_key(theirs) == ours


def reference_model(name):
    return create(name, 1000, act_layer="aglu", gate_layer="apa", head="cosine")


def randomized_reference_state_dict(model, seed):
    """The model's state in the authors' naming, every float tensor given fresh random values."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in to_reference_state_dict(model).items():
        if value.is_floating_point():
            value = torch.rand(value.shape, generator=generator) + 0.5
        state[key] = value.clone()
    return state


@pytest.fixture(scope="module")
def se_checkpoint():
    return randomized_reference_state_dict(reference_model("se_resnet50"), seed=1)


def assert_state_equal(model, reference_state):
    ours = model.state_dict()
    assert len(ours) == len(reference_state)
    for key, value in ours.items():
        torch.testing.assert_close(value, reference_state[to_reference_key(key)], rtol=0, atol=0)


def test_generated_layout_has_the_issue_names(se_checkpoint):
    keys = set(se_checkpoint)
    se_pairs = [theirs for _, theirs in KEY_PAIRS if "cbam" not in theirs]
    assert set(se_pairs) <= keys
    assert "fc.bias" not in keys and "layer1.0.se.excitation.0.bias" not in keys
    our_names = {"act1", "act2", "act3", "attention", "gate", "lambda_", "kappa"}
    assert not any(our_names & set(key.split(".")) for key in keys)
    activations = [key for key in keys if key.endswith(("lambda_param", "kappa_param"))]
    assert len(activations) == 2 * (49 + 16)
    assert all(se_checkpoint[key].shape == (1,) for key in activations)


def test_se_resnet50_round_trip_through_a_file(se_checkpoint, tmp_path):
    path = tmp_path / "se_resnet50_aglu.pth"
    torch.save({"model": se_checkpoint, "epoch": 199, "args": argparse.Namespace(lr=0.2)}, path)
    model = reference_model("se_resnet50")
    assert load_reference_checkpoint(model, path) is model
    assert_state_equal(model, se_checkpoint)


def test_cbam_resnet50_round_trip_with_a_ddp_prefix():
    checkpoint = randomized_reference_state_dict(reference_model("cbam_resnet50"), seed=2)
    assert {theirs for _, theirs in KEY_PAIRS if "cbam" in theirs} <= set(checkpoint)
    prefixed = {f"module.{key}": value for key, value in checkpoint.items()}
    model = load_reference_checkpoint(reference_model("cbam_resnet50"), {"model": prefixed})
    assert_state_equal(model, checkpoint)


def test_missing_and_unexpected_keys_are_listed(se_checkpoint):
    broken = dict(se_checkpoint)
    del broken["layer2.1.se.uniact.kappa_param"]
    broken["layer2.1.se.gate.weight"] = torch.ones(1)
    model = reference_model("se_resnet50")
    with pytest.raises(ValueError, match="missing") as error:
        load_reference_checkpoint(model, broken)
    message = str(error.value)
    assert "missing [layer2.1.se.uniact.kappa_param]" in message
    assert "unexpected [layer2.1.se.gate.weight]" in message


def test_a_relu_model_rejects_the_activation_parameters(se_checkpoint):
    model = create("se_resnet50", 1000, gate_layer="apa", head="cosine")
    with pytest.raises(ValueError, match=r"unexpected \[relu\.lambda_param") as error:
        load_reference_checkpoint(model, se_checkpoint)
    assert "act_layer='aglu'" in str(error.value)


def test_shape_mismatch_is_reported(se_checkpoint):
    model = create("se_resnet50", 10, act_layer="aglu", gate_layer="apa", head="cosine")
    with pytest.raises(ValueError, match=r"fc\.weight \(1000, 2048\) vs \(10, 2048\)"):
        load_reference_checkpoint(model, se_checkpoint)


def test_bad_sources(tmp_path):
    model = create("resnet32", 10)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_reference_checkpoint(model, tmp_path / "missing.pth")
    with pytest.raises(TypeError, match="path or a dict"):
        load_reference_checkpoint(model, 42)
    with pytest.raises(ValueError, match="state dict"):
        load_reference_checkpoint(model, {"model": {"conv1.weight": "not a tensor"}})
