"""Metrics: top-k, per-class and per-shot accuracy, calibration, reliability diagram, gathering."""

import math
import subprocess
import sys
import textwrap

import pytest
import torch
from torchmetrics.classification import MulticlassAccuracy, MulticlassCalibrationError

from aglu.metrics import (
    all_gather_uneven,
    calibration_bins,
    expected_calibration_error,
    maximum_calibration_error,
    per_class_accuracy,
    reliability_diagram,
    shot_accuracy,
    shot_groups,
    topk_accuracy,
)

# CIFAR-100-LT at ρ = 100: n_c = floor(500 · 0.01^(c/99)), 10,847 images in all.
CIFAR100_LT_COUNTS = [math.floor(500 * 0.01 ** (c / 99)) for c in range(100)]
# Fashion-MNIST-LT's default profile (max_count 500, ρ = 100), as the issue lists it.
FASHION_MNIST_LT_COUNTS = [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]


def _random_scores(num_samples=200, num_classes=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(num_samples, num_classes, generator=generator, dtype=torch.float64)
    labels = torch.randint(num_classes, (num_samples,), generator=generator)
    return logits, labels


# ----- top-k and per-class accuracy ----------------------------------------------------------


def test_topk_hand_computed():
    logits = torch.tensor(
        [
            [0.1, 0.5, 0.2, 0.0, 0.3, 0.4],  # label 1 scores highest: a top-1 hit
            [0.9, 0.0, 0.1, 0.2, 0.3, 0.4],  # label 0 scores highest: a top-1 hit
            [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],  # label 0 scores lowest: only in the top 6
            [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],  # label 5 scores lowest: only in the top 6
        ]
    )
    # top-1 = top-5 = 2/4; top-6 (all 6 classes) = 4/4.
    result = topk_accuracy(logits, torch.tensor([1, 0, 0, 5]), topk=(1, 5, 6))
    assert result == {"top1": 0.5, "top5": 0.5, "top6": 1.0}


def test_topk_with_k_beyond_the_classes_is_one():
    logits, labels = _random_scores(num_classes=3)
    assert topk_accuracy(logits, labels)["top5"] == 1.0


@pytest.mark.parametrize("k", [1, 3, 5])
def test_topk_equals_torchmetrics(k):
    logits, labels = _random_scores()
    expected = MulticlassAccuracy(num_classes=7, top_k=k, average="micro")(logits, labels)
    assert topk_accuracy(logits, labels, topk=(k,))[f"top{k}"] == pytest.approx(
        expected.item(), abs=1e-7
    )


def test_per_class_accuracy_hand_computed_with_an_absent_class():
    # Class 0: 2 of 3 right; class 1: 1 of 1; class 2: 0 of 1; class 3: no test sample -> NaN.
    predictions = torch.tensor([0, 0, 2, 1, 0])
    targets = torch.tensor([0, 0, 0, 1, 2])
    accuracy = per_class_accuracy(predictions, targets, num_classes=4)
    torch.testing.assert_close(
        accuracy, torch.tensor([2 / 3, 1.0, 0.0, math.nan], dtype=torch.float64), equal_nan=True
    )


def test_per_class_accuracy_from_scores_equals_torchmetrics():
    logits, labels = _random_scores()
    expected = MulticlassAccuracy(num_classes=7, average=None)(logits, labels).double()
    assert torch.bincount(labels, minlength=7).min() > 0
    torch.testing.assert_close(per_class_accuracy(logits, labels, 7), expected, atol=1e-7, rtol=0)


# ----- shot groups ---------------------------------------------------------------------------


def test_cifar100_lt_splits_35_35_30():
    assert sum(CIFAR100_LT_COUNTS) == 10_847
    groups = shot_groups(CIFAR100_LT_COUNTS)
    assert [len(groups[name]) for name in ("many", "medium", "few")] == [35, 35, 30]
    # Classes are sorted by frequency, so the groups are consecutive blocks.
    assert groups["many"].tolist() == list(range(35))
    assert groups["medium"].tolist() == list(range(35, 70))
    assert groups["few"].tolist() == list(range(70, 100))


def test_fashion_mnist_lt_splits_4_3_3():
    groups = shot_groups(FASHION_MNIST_LT_COUNTS)
    assert [len(groups[name]) for name in ("many", "medium", "few")] == [4, 3, 3]


def test_thresholds_are_inclusive_for_medium():
    groups = shot_groups([101, 100, 20, 19, 0])
    assert {k: v.tolist() for k, v in groups.items()} == {
        "many": [0],
        "medium": [1, 2],
        "few": [3, 4],
    }
    groups = shot_groups([101, 100, 20, 19], many_threshold=19, few_threshold=19)
    assert groups["many"].tolist() == [0, 1, 2] and groups["medium"].tolist() == [3]


def test_shot_accuracy_on_balanced_cifar100_lt_test_set():
    # 100 test images per class; many classes all right, medium half right, few all wrong.
    targets = torch.arange(100).repeat_interleave(100)
    predictions = targets.clone()
    for c in range(35, 70):
        predictions[c * 100 : c * 100 + 50] = (c + 1) % 100
    for c in range(70, 100):
        predictions[c * 100 : (c + 1) * 100] = 0
    result = shot_accuracy(predictions, targets, CIFAR100_LT_COUNTS)
    assert result == {"many": 1.0, "medium": 0.5, "few": 0.0}


def test_shot_accuracy_is_the_mean_of_class_accuracies_not_of_samples():
    # Medium classes 1 (2 of 4 right) and 2 (1 of 1 right): mean of 0.5 and 1.0 is 0.75, while
    # the sample mean would be 3/5. Class 0 (many): 1 of 2.
    predictions = torch.tensor([0, 2, 1, 1, 0, 0, 2])
    targets = torch.tensor([0, 0, 1, 1, 1, 1, 2])
    result = shot_accuracy(predictions, targets, [300, 50, 40])
    assert result["many"] == 0.5 and result["medium"] == 0.75
    assert math.isnan(result["few"])  # no few-shot class: NaN, never 0


def test_shot_accuracy_leaves_out_classes_without_test_samples():
    # Class 2 (few) has no test sample; class 3 (few) is right once: few = 1.0, not 0.5.
    result = shot_accuracy(torch.tensor([0, 1, 3]), torch.tensor([0, 1, 3]), [200, 50, 5, 5])
    assert result == {"many": 1.0, "medium": 1.0, "few": 1.0}


# ----- calibration ---------------------------------------------------------------------------

# With 15 bins of width 1/15, confidences 0.95 and 0.97 fall in bin 14 = (0.9333, 1],
# 0.50 and 0.52 in bin 7 = (0.4667, 0.5333], and 0.35 in bin 5 = (0.3333, 0.4].
HAND_PROBS = torch.tensor(
    [
        [0.95, 0.03, 0.02],  # label 0: right
        [0.97, 0.02, 0.01],  # label 1: wrong
        [0.50, 0.30, 0.20],  # label 0: right
        [0.26, 0.52, 0.22],  # label 1: right
        [0.35, 0.33, 0.32],  # label 2: wrong
    ],
    dtype=torch.float64,
)
HAND_LABELS = torch.tensor([0, 1, 0, 1, 2])


def test_calibration_bins_hand_computed():
    bins = calibration_bins(HAND_PROBS, HAND_LABELS)
    assert bins.edges.shape == (16,) and bins.counts.sum().item() == 5
    assert {b: int(n) for b, n in enumerate(bins.counts.tolist()) if n} == {5: 1, 7: 2, 14: 2}
    assert bins.accuracy[[5, 7, 14]].tolist() == [0.0, 1.0, 0.5]
    torch.testing.assert_close(
        bins.confidence[[5, 7, 14]], torch.tensor([0.35, 0.51, 0.96], dtype=torch.float64)
    )
    assert bins.accuracy.isnan().sum().item() == 12


def test_ece_and_mce_hand_computed():
    # Gaps: bin 14 |0.5 − 0.96| = 0.46, bin 7 |1 − 0.51| = 0.49, bin 5 |0 − 0.35| = 0.35.
    # ECE = 2/5·0.46 + 2/5·0.49 + 1/5·0.35 = 0.184 + 0.196 + 0.07 = 0.45; MCE = 0.49.
    assert expected_calibration_error(HAND_PROBS, HAND_LABELS) == pytest.approx(0.45, abs=1e-15)
    assert maximum_calibration_error(HAND_PROBS, HAND_LABELS) == pytest.approx(0.49, abs=1e-15)


def test_bin_edges_belong_to_the_lower_bin():
    # Two bins (0, 0.5] and (0.5, 1]: a confidence of exactly 0.5 is in the first.
    probs = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    bins = calibration_bins(probs, torch.tensor([0, 0]), num_bins=2)
    assert bins.counts.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("norm", "ours"), [("l1", expected_calibration_error), ("max", maximum_calibration_error)]
)
def test_calibration_errors_equal_torchmetrics(norm, ours):
    logits, labels = _random_scores(num_samples=500, seed=1)
    probs = torch.softmax(2 * logits, dim=1)
    metric = MulticlassCalibrationError(num_classes=7, n_bins=15, norm=norm)
    assert ours(probs, labels) == pytest.approx(metric(probs, labels).item(), abs=1e-6)


def test_perfectly_calibrated_bins_give_zero():
    # Four samples at confidence 0.75, three of them right: accuracy 0.75 in the bin.
    probs = torch.tensor([[0.75, 0.25]] * 4, dtype=torch.float64)
    labels = torch.tensor([0, 0, 0, 1])
    assert expected_calibration_error(probs, labels) == 0.0
    assert maximum_calibration_error(probs, labels) == 0.0


def test_reliability_diagram_draws_and_saves_atomically(tmp_path):
    from matplotlib.figure import Figure

    figure = reliability_diagram(HAND_PROBS, HAND_LABELS, path=tmp_path / "figures" / "rel.png")
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    written = (tmp_path / "figures" / "rel.png").read_bytes()
    assert written.startswith(b"\x89PNG\r\n\x1a\n")
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["rel.png"]  # no temp left
    heights = [patch.get_height() for patch in figure.axes[0].patches[:15]]
    assert [heights[5], heights[7], heights[14]] == [0.0, 1.0, 0.5]
    assert "ECE 45.00%" in figure.axes[0].get_legend().get_title().get_text()
    reliability_diagram(HAND_PROBS, HAND_LABELS, path=tmp_path / "rel.svg")
    assert (tmp_path / "rel.svg").read_text().lstrip().startswith("<?xml")


def test_reliability_diagram_needs_a_suffix(tmp_path):
    with pytest.raises(ValueError, match="no suffix"):
        reliability_diagram(HAND_PROBS, HAND_LABELS, path=tmp_path / "diagram")


# ----- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: topk_accuracy(torch.zeros(2, 3), torch.tensor([0, 3])), ValueError, "max 3"),
        (lambda: topk_accuracy(torch.zeros(2, 3), torch.tensor([0])), ValueError, "1 samples"),
        (lambda: topk_accuracy(torch.zeros(2, 3), torch.tensor([0, 1]), (0,)), ValueError, "(0,)"),
        (lambda: topk_accuracy(torch.zeros(3), torch.tensor([0])), ValueError, r"\(3,\)"),
        (
            lambda: per_class_accuracy(torch.tensor([0, 1]), torch.tensor([0, -1]), 2),
            ValueError,
            "min -1",
        ),
        (
            lambda: per_class_accuracy(torch.zeros(2, 4), torch.tensor([0, 1]), 3),
            ValueError,
            r"\(2, 4\)",
        ),
        (
            lambda: per_class_accuracy(torch.tensor([0, 1]), torch.tensor([0.0, 1.0]), 2),
            TypeError,
            "float",
        ),
        (lambda: shot_groups([100, 50], 10, 20), ValueError, "few_threshold=20"),
        (
            lambda: per_class_accuracy(torch.tensor([0, 7]), torch.tensor([0, 1]), 3),
            ValueError,
            r"predictions must lie in \[0, 3\); got min 0, max 7",
        ),
        (
            lambda: shot_accuracy(torch.tensor([0, 5]), torch.tensor([0, 1]), [3, 2]),
            ValueError,
            r"\[0, 2\); got min 0, max 5",
        ),
        (
            lambda: expected_calibration_error(torch.tensor([[2.0, -1.0]]), torch.tensor([0])),
            ValueError,
            "max 2.0",
        ),
        (
            lambda: expected_calibration_error(HAND_PROBS, HAND_LABELS, num_bins=0),
            ValueError,
            "num_bins",
        ),
    ],
)
def test_bad_input_names_the_values(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_empty_input_gives_nan_not_zero():
    assert math.isnan(topk_accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))["top1"])
    empty_probs = torch.zeros(0, 3)
    assert math.isnan(expected_calibration_error(empty_probs, torch.zeros(0, dtype=torch.long)))


def test_importing_metrics_pulls_in_no_heavy_dependency():
    code = (
        "import sys, aglu.metrics, aglu.losses; "
        "print(sorted(m for m in ('matplotlib', 'lightning', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ----- distributed gathering -----------------------------------------------------------------

_WORKER = """
import sys
import torch
import torch.distributed as dist
from aglu.metrics import all_gather_uneven

rank, world_size, store = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
indices = torch.load(f"{sys.argv[4]}.rank{rank}")
targets = indices % 10
predictions = torch.where(indices % 7 == 0, (targets + 1) % 10, targets)
scores = torch.nn.functional.one_hot(predictions, 10).float()  # a trailing dimension too
gathered = [all_gather_uneven(t) for t in (indices, targets, scores)]
if rank == 0:
    torch.save(gathered, sys.argv[4])
dist.destroy_process_group()
"""


def test_gathering_over_three_ranks_counts_every_sample_once(tmp_path):
    # The data area's sampler deals the 10,000 samples without padding (3334, 3333, 3333);
    # the workers import only torch and aglu.metrics, so they start fast.
    from aglu.data import DistributedEvalSampler

    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(_WORKER))
    out = tmp_path / "gathered.pt"
    for rank in range(3):
        indices = torch.tensor(list(DistributedEvalSampler(10_000, 3, rank)))
        torch.save(indices, f"{out}.rank{rank}")
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(rank), "3", str(tmp_path / "store"), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for rank in range(3)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    indices, targets, scores = torch.load(out)
    # 3334 + 3333 + 3333 samples in rank order, each index exactly once.
    assert indices.shape == (10_000,) and scores.shape == (10_000, 10)
    assert torch.equal(indices.sort().values, torch.arange(10_000))
    # The gathered results score exactly as the whole set does in one process.
    everything = torch.arange(10_000)
    whole_targets = everything % 10
    whole_predictions = torch.where(everything % 7 == 0, (whole_targets + 1) % 10, whole_targets)
    torch.testing.assert_close(
        per_class_accuracy(scores, targets, 10),
        per_class_accuracy(whole_predictions, whole_targets, 10),
    )
    assert topk_accuracy(scores, targets, topk=(1,))["top1"] == pytest.approx(1 - 1429 / 10_000)


def test_gather_without_a_process_group_returns_the_input():
    values = torch.arange(5)
    assert all_gather_uneven(values) is values
