"""The Lightning module on its own: fine-tuning with frozen stages."""

from __future__ import annotations

import torch
from torch import nn

from aglu.train.config import load_config
from aglu.train.module import LongTailModule


def _batch_norms(module: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


def test_frozen_stages_keep_their_batch_norm_statistics() -> None:
    torch.manual_seed(0)
    config = load_config(None, ["--optim.train_only=[layer3, fc]"]).to_dict()
    module = LongTailModule(config, [10] * 10)
    model = module.model
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trained and all(name.startswith(("layer3", "fc")) for name in trained)

    module.train()  # what Lightning does before each training epoch
    module.on_train_batch_start(None, 0)
    frozen = [model.bn1, *_batch_norms(model.layer1), *_batch_norms(model.layer2)]
    assert frozen and not any(bn.training for bn in frozen)
    assert all(bn.training for bn in _batch_norms(model.layer3))
    assert model.training and model.layer3.training and model.fc.training  # partly trained

    before = [bn.running_mean.clone() for bn in frozen]
    tuned = [bn.running_mean.clone() for bn in _batch_norms(model.layer3)]
    model(torch.randn(8, 3, 32, 32) * 3 + 1)
    for old, bn in zip(before, frozen, strict=True):
        assert torch.equal(bn.running_mean, old)
    changed = [
        not torch.equal(bn.running_mean, old)
        for old, bn in zip(tuned, _batch_norms(model.layer3), strict=True)
    ]
    assert all(changed)


def test_without_train_only_every_module_trains() -> None:
    module = LongTailModule(load_config(None, []).to_dict(), [10] * 10)
    module.train()
    module.on_train_batch_start(None, 0)
    assert all(m.training for m in module.model.modules())
    assert all(p.requires_grad for p in module.model.parameters())
