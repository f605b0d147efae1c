"""analyze(): the logits per shot group, the values kept for the figures, per-sample weighting."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from aglu.analysis.fits import subsample
from aglu.analysis.report import analyze, shot_groups

CLASS_COUNTS = [500, 150, 60, 30, 10, 5]  # many: classes 0, 1; medium: 2, 3; few: 4, 5


@pytest.fixture
def linear_run():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 50), nn.ReLU(), nn.Linear(50, 6))
    inputs = torch.randn(40, 4)
    dataset = TensorDataset(inputs, torch.arange(40) % 6)
    with torch.no_grad():
        logits = model(inputs).double()
    return model, dataset, logits


def test_each_shot_group_fits_exactly_its_classes_logits(linear_run):
    model, dataset, logits = linear_run
    result = analyze(model, dataset, samples=40, class_counts=CLASS_COUNTS, batch_size=16)
    groups = shot_groups(CLASS_COUNTS)
    assert groups == {"many": [0, 1], "medium": [2, 3], "few": [4, 5]}
    for name, classes in groups.items():
        fit = result.logits[name].fit
        assert fit.count == 40 * len(classes)
        assert fit.mean == pytest.approx(logits[:, classes].mean().item(), rel=1e-12)
        assert fit.max == pytest.approx(logits[:, classes].max().item(), rel=1e-12)
    assert result.logits["all"].fit.mean == pytest.approx(logits.mean().item(), rel=1e-12)


def test_kept_values_are_the_subsample_the_fits_used(linear_run):
    model, dataset, logits = linear_run
    result = analyze(model, dataset, samples=40, batch_size=16, max_values=100, seed=3)
    item = result.logits["all"]
    expected = subsample(logits.flatten().numpy(), 100, seed=3)
    np.testing.assert_array_equal(item.values.numpy(), expected)
    # the normal fit's location is the mean of the sample it was fitted to
    assert item.fit.fitted_count == 100
    assert item.fit.fits["normal"].loc == pytest.approx(item.values.mean().item(), rel=1e-12)


def test_a_short_last_batch_keeps_its_share_of_values(linear_run):
    model, dataset, _ = linear_run
    # batches of 16, 16 and 8 samples and 10 values per sample: 160 + 160 + 80 kept
    result = analyze(model, dataset, samples=40, batch_size=16, max_values=400)
    (relu,) = result.layers
    assert relu.extra["values_seen"] == 40 * 50
    assert relu.fit.count == 400 and relu.fit.fitted_count == 400
