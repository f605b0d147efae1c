"""Forward hooks record the input of every activation and gate of a tiny model."""

import torch
from torch import nn

from aglu import AGLU, APA
from aglu.analysis.hooks import LayerInputRecorder


class TinyGatedNet(nn.Module):
    """AGLU, a ReLU called twice, an SE-like APA gate, SiLU and an unanalysed GELU."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(6, 8)
        self.act = AGLU(lambda_init=0.5, kappa_init=1.0)
        self.mid = nn.Linear(8, 8)
        self.relu = nn.ReLU()
        self.gate_fc = nn.Linear(8, 8)
        self.gate = APA(lambda_init=1.0, kappa_init=1.0)
        self.silu = nn.SiLU()
        self.gelu = nn.GELU()  # not an analysed type
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.relu(self.mid(self.act(self.stem(x))))
        x = self.relu(x - 0.5)
        x = x * self.gate(self.gate_fc(x))
        return self.head(self.gelu(self.silu(x)))


def test_recorder_captures_expected_layers_and_values():
    torch.manual_seed(0)
    model = TinyGatedNet()
    inputs = torch.randn(5, 6)

    with LayerInputRecorder(model) as recorder:
        model(inputs)

    summary = [(l.name, l.kind, l.role, l.calls, l.seen) for l in recorder.layers.values()]
    assert summary == [
        ("act", "AGLU", "activation", 1, 40),
        ("relu", "ReLU", "activation", 2, 80),
        ("gate", "APA", "gate", 1, 40),
        ("silu", "SiLU", "activation", 1, 40),
    ]
    with torch.no_grad():
        stem_out = model.stem(inputs)
        first_relu_in = model.mid(model.act(stem_out))
        second_relu_in = torch.relu(first_relu_in) - 0.5
    torch.testing.assert_close(recorder.layers["act"].values(), stem_out.double().flatten())
    expected_relu = torch.cat([first_relu_in.flatten(), second_relu_in.flatten()]).double()
    torch.testing.assert_close(recorder.layers["relu"].values(), expected_relu)
    assert all(not module._forward_pre_hooks for module in model.modules())  # hooks removed


def test_recorder_subsamples_each_call():
    model = nn.Sequential(nn.Linear(4, 100), nn.ReLU())
    inputs = torch.randn(10, 4)
    with LayerInputRecorder(model, values_per_sample=5, seed=1) as recorder:
        model(inputs)
        model(inputs)
    layer = recorder.layers["1"]
    assert layer.seen == 2000 and layer.values().numel() == 100
    full = model[0](inputs).detach().double().flatten()
    assert torch.isin(layer.values(), full).all()  # every kept value is a real input value


def test_recorder_takes_other_module_types():
    model = TinyGatedNet()
    with LayerInputRecorder(model, module_types=(nn.GELU,)) as recorder:
        model(torch.randn(2, 6))
    assert list(recorder.layers) == ["gelu"]


def test_recorder_keeps_values_in_proportion_to_the_batch_size():
    # A short last batch (2 samples after 10) keeps a fifth as many values, not as many.
    model = nn.Sequential(nn.Linear(4, 100), nn.ReLU())
    with LayerInputRecorder(model, values_per_sample=3.5, seed=0) as recorder:
        model(torch.randn(10, 4))
        model(torch.randn(2, 4))
        model(torch.randn(1, 4))
    assert [chunk.numel() for chunk in recorder.layers["1"].chunks] == [35, 7, 4]  # ceil(3.5)
