"""Long-tail profiles and the seeded subset selection."""

import math

import numpy as np
import pytest

from aglu.data import long_tail_counts, long_tail_indices


@pytest.mark.parametrize(
    ("num_classes", "max_count", "total"),
    [(10, 5000, 12_406), (100, 500, 10_847)],  # CIFAR-10-LT and CIFAR-100-LT at ρ = 100
)
def test_published_cifar_lt_totals(num_classes, max_count, total):
    counts = long_tail_counts(num_classes, max_count, 0.01)
    assert sum(counts) == total
    assert counts[0] == max_count and counts[-1] == max_count // 100


def test_fashion_mnist_lt_default_profile():
    counts = long_tail_counts(10, 500, 0.01)
    assert counts == [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]
    assert sum(counts) == 1236
    many = sum(c > 100 for c in counts)
    few = sum(c < 20 for c in counts)
    assert (many, len(counts) - many - few, few) == (4, 3, 3)


def test_cifar100_lt_shot_groups_split_35_35_30():
    counts = long_tail_counts(100, 500, 0.01)
    many = sum(c > 100 for c in counts)
    few = sum(c < 20 for c in counts)
    assert (many, 100 - many - few, few) == (35, 35, 30)


def test_exponential_profile_matches_formula_in_float64():
    counts = long_tail_counts(7, 1000, 0.05)
    expected = [math.floor(1000 * 0.05 ** (c / 6)) for c in range(7)]
    assert counts == expected == [1000, 606, 368, 223, 135, 82, 50]


def test_step_profile_and_balanced_case():
    assert long_tail_counts(10, 5000, 0.01, profile="step") == [5000] * 5 + [50] * 5
    assert long_tail_counts(5, 100, 0.1, profile="step") == [100, 100, 10, 10, 10]
    assert long_tail_counts(4, 30, 1.0) == [30, 30, 30, 30]
    assert long_tail_counts(1, 30, 0.01) == [30]


@pytest.mark.parametrize("imbalance_factor", [0.0, -0.01, 1.5, 100, float("nan")])
def test_imbalance_factor_outside_unit_interval_raises(imbalance_factor):
    with pytest.raises(ValueError, match="imbalance_factor"):
        long_tail_counts(10, 500, imbalance_factor)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"profile": "linear"}, ValueError, "profile='linear'"),
        ({"num_classes": 0}, ValueError, "num_classes=0"),
        ({"max_count": 0}, ValueError, "max_count=0"),
        ({"imbalance_factor": "0.01"}, TypeError, "imbalance_factor='0.01'"),
        # 50 · 0.01^(8/9) = 0.83 and 50 · 0.01 = 0.5: the last classes would get no image
        ({"max_count": 50}, ValueError, "leaves class 8 without training images"),
        ({"max_count": 10, "profile": "step"}, ValueError, "leaves class 5 without"),
    ],
)
def test_bad_arguments_raise(kwargs, error, match):
    arguments = {"num_classes": 10, "max_count": 500, "imbalance_factor": 0.01, **kwargs}
    with pytest.raises(error, match=match):
        long_tail_counts(**arguments)


def _common_split_with_global_seed(targets, counts):
    """The common CIFAR-LT selection written out with NumPy's global generator."""
    targets = np.array(targets, dtype=np.int64)
    state = np.random.get_state()
    try:
        np.random.seed(0)
        kept = []
        for label, count in zip(np.unique(targets), counts, strict=True):
            indices = np.where(targets == label)[0]
            np.random.shuffle(indices)
            kept.extend(indices[:count].tolist())
    finally:
        np.random.set_state(state)
    return kept


def test_subset_selection_reproduces_the_common_split():
    rng = np.random.default_rng(123)
    targets = rng.permutation(np.repeat(np.arange(10), 600)).tolist()  # shuffled, 600 per class
    counts = long_tail_counts(10, 600, 0.02)
    picks = long_tail_indices(targets, counts)
    assert picks.tolist() == _common_split_with_global_seed(targets, counts)
    assert [sum(targets[i] == c for i in picks) for c in range(10)] == counts
    assert len(set(picks.tolist())) == sum(counts)


def test_subset_selection_leaves_numpy_global_state_alone():
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    long_tail_indices([0, 1] * 50, [50, 5])
    assert np.random.rand() == expected


def test_subset_selection_checks_counts_and_labels():
    with pytest.raises(ValueError, match="class 1 has 2 images but 3"):
        long_tail_indices([0, 0, 0, 1, 1], [3, 3])
    with pytest.raises(ValueError, match="outside"):
        long_tail_indices([0, 2], [1, 1])
