"""aglu.convert: torchvision resnet18 (one ReLU instance reused twice per block: one AGLU per use)
and mobilenet_v3_small / efficientnet_b0 (squeeze-and-excitation gates to APA), each converted model
trains a step; functional calls are reported; unknown names raise ValueError with the known ones."""

import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from aglu import AGLU, APA, convert

torchvision = pytest.importorskip("torchvision")


def train_one_step(model: nn.Module) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    before = {name: p.detach().clone() for name, p in model.named_parameters() if "kappa" in name}
    loss = nn.functional.cross_entropy(model(torch.randn(2, 3, 32, 32)), torch.tensor([0, 1]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    changed = [
        name for name, p in model.named_parameters() if name in before and not p.equal(before[name])
    ]
    assert len(changed) == len(before) > 0  # every κ received a gradient


def count(model: nn.Module, types) -> int:
    return sum(isinstance(module, types) for module in model.modules())


def test_resnet18_gets_one_aglu_per_use():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=4)
    converted, report = convert(model)
    # stem ReLU once + 8 BasicBlocks that call their single ReLU twice = 17 uses
    assert count(converted, AGLU) == 17 and count(converted, nn.ReLU) == 0
    assert len({id(m) for m in converted.modules() if isinstance(m, AGLU)}) == 17
    assert report.shared == {f"layer{i}.{j}.relu": 2 for i in range(1, 5) for j in range(2)}
    assert isinstance(converted, fx.GraphModule) and len(report.replaced) == 17
    assert report.traced and report.not_replaced == []
    train_one_step(converted)


@pytest.mark.parametrize(
    ("name", "activations", "gates"),
    [
        ("mobilenet_v3_small", (nn.ReLU, nn.Hardswish), nn.Hardsigmoid),
        ("efficientnet_b0", nn.SiLU, nn.Sigmoid),
    ],
)
def test_squeeze_excitation_gates_become_apa(name, activations, gates):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None, num_classes=4)
    se_blocks = count(model, torchvision.ops.SqueezeExcitation)
    num_activations, num_gates = count(model, activations), count(model, gates)
    assert se_blocks == num_gates > 0
    converted, report = convert(model)
    assert count(converted, APA) == num_gates
    assert count(converted, AGLU) == num_activations
    assert count(converted, activations) == count(converted, gates) == 0
    assert len(report.replaced) == num_activations + num_gates and not report.shared
    train_one_step(converted.train())


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear, self.act = nn.Linear(3, 3), nn.GELU()

    def forward(self, x):
        return torch.sigmoid(F.relu(self.act(self.linear(x))))


def test_functional_calls_are_reported_and_kwargs_reach_the_new_modules():
    model, report = convert(Functional(), activation_kwargs={"lambda_init": 1.0, "kappa_init": 1.0})
    assert isinstance(model.act, AGLU) and model.act.lambda_.item() == 1.0
    assert [entry.split(" ")[1] for entry in report.not_replaced] == ["(relu)", "(sigmoid)"]
    assert "not replaced" in str(report)
    kept, _ = convert(Functional(), activation=None)
    assert isinstance(kept.act, nn.GELU)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"activation='agl'\): unknown activation 'agl'.*'aglu'"):
        convert(nn.Sequential(nn.ReLU()), activation="agl")
    with pytest.raises(ValueError, match=r"^convert\(\.\.\., gate='nope'\): unknown activation"):
        convert(nn.Sequential(nn.ReLU()), gate="nope")
    with pytest.raises(TypeError, match=r"nn\.Module"):
        convert(lambda x: x)


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(x) if x.sum() > 0 else self.act(-x)  # data-dependent: fx cannot trace


def test_untraceable_model_is_converted_in_place():
    model = Untraceable()
    converted, report = convert(model)
    assert converted is model and isinstance(model.act, AGLU) and not report.traced
    assert "could not trace" in str(report)


class Aliased(nn.Module):
    """One ReLU under two names; forward calls it by the second name only."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.act = nn.ReLU()
        self.act_alias = self.act

    def forward(self, x):
        return self.act_alias(self.lin(x))


def test_an_instance_under_two_names_is_replaced_under_both():
    model = Aliased()
    converted, report = convert(model, activation_kwargs={"lambda_init": 1.0, "kappa_init": 1.0})
    assert converted is model and [name for name, _, _ in report.replaced] == ["act"]
    assert isinstance(model.act_alias, AGLU) and model.act_alias is model.act
    x = torch.randn(3, 4)
    torch.testing.assert_close(model(x), F.silu(model.lin(x)))  # AGLU(λ = κ = 1) is SiLU


class NameTaken(nn.Module):
    """``relu`` is called twice and a different ``relu_1`` once: the split must not reuse it."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()
        self.relu_1 = nn.ReLU()

    def forward(self, x):
        return self.relu_1(self.relu(self.relu(x) - 1))


def test_split_names_skip_names_already_taken():
    converted, report = convert(NameTaken())
    names = [name for name, _, _ in report.replaced]
    assert sorted(names) == ["relu", "relu_1", "relu_2"] and report.shared == {"relu": 2}
    called = [node.target for node in converted.graph.nodes if node.op == "call_module"]
    assert sorted(called) == ["relu", "relu_1", "relu_2"]
    modules = {id(converted.get_submodule(target)) for target in called}
    assert len(modules) == 3 and all(isinstance(converted.get_submodule(t), AGLU) for t in called)
