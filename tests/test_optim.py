"""aglu.optim.param_groups: λ, κ, PReLU, norm weights and biases get no weight decay; conv and
linear weights do; shared parameters appear once; a negative decay raises ValueError."""

import pytest
import torch
from torch import nn

from aglu import AGLU, APA, param_groups


def test_groups_split_decay_from_shape_parameters():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        AGLU(4),
        nn.Flatten(),
        nn.LazyLinear(4),
        shared,
        nn.LayerNorm(4),
        shared,
        APA(),
        nn.PReLU(),
    )
    model(torch.randn(2, 3, 5, 5))  # materialise the lazy layer
    decay, no_decay = param_groups(model, weight_decay=5e-4)
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0.0
    decayed = {id(p) for p in decay["params"]}
    assert decayed == {id(model[0].weight), id(model[4].weight), id(shared.weight)}
    exempt = {id(p) for p in no_decay["params"]}
    for module in (model[1], model[2], model[6], model[8], model[9]):
        assert all(id(p) in exempt for p in module.parameters())
    assert {id(model[0].bias), id(shared.bias)} <= exempt
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    torch.optim.AdamW([decay, no_decay], lr=1e-3).step()  # groups an optimiser accepts


def test_frozen_parameters_are_left_out_and_empty_groups_dropped():
    model = nn.Sequential(AGLU(), APA())
    model[1].kappa.requires_grad_(False)
    (group,) = param_groups(model, weight_decay=0.1)
    assert group["name"] == "no_decay" and len(group["params"]) == 3


def test_negative_decay_raises():
    with pytest.raises(ValueError, match="weight_decay=-1"):
        param_groups(nn.Linear(2, 2), weight_decay=-1)
