"""Scores with and without IIF, the learning-rate schedule and the evaluation subset."""

from __future__ import annotations

import math

import pytest
import torch

from aglu.train.datamodule import balanced_subset
from aglu.train.evaluation import evaluate_logits
from aglu.train.module import warmup_cosine


def test_evaluate_logits_by_hand() -> None:
    # 3 classes trained on 200, 50 and 10 images: many, medium and few shot.
    counts = [200, 50, 10]
    logits = torch.tensor(
        [
            [2.0, 1.0, 0.0],  # class 0, right
            [2.0, 1.5, 0.0],  # class 1, wrong raw; IIF moves it to class 1
            [0.0, 0.2, 0.0],  # class 2, wrong raw; IIF moves it to class 2
            [0.0, 0.0, 3.0],  # class 2, right
        ]
    )
    targets = torch.tensor([0, 1, 2, 2])
    result = evaluate_logits(logits, targets, counts, iif_variant="raw")
    assert result.metrics["top1"] == pytest.approx(50.0)
    assert (result.metrics["many"], result.metrics["medium"], result.metrics["few"]) == (
        pytest.approx(100.0),
        pytest.approx(0.0),
        pytest.approx(50.0),
    )
    # raw IIF offsets log(N / n_c) with N = 260: 0.262, 1.649, 3.258
    offsets = [math.log(260 / n) for n in counts]
    assert result.iif_offsets.tolist() == pytest.approx(offsets, rel=1e-6)
    # with offsets: row 0 -> [2.26, 2.65, 3.26] predicts 2 (wrong), row 1 -> class 2 as well
    # ([2.26, 3.14, 3.26]), rows 2 and 3 -> class 2 (right): 2 of 4.
    assert result.metrics["top1_iif"] == pytest.approx(50.0)
    assert result.per_class["accuracy_iif"] == pytest.approx([0.0, 0.0, 100.0])
    assert result.metrics["top5"] == pytest.approx(100.0)  # top-k capped at C classes
    assert result.metrics["num_samples"] == 4


def test_ece_of_one_confident_wrong_sample() -> None:
    # one sample, softmax confidence p on the wrong class: ECE = p
    logits = torch.tensor([[math.log(9.0), 0.0]])  # p = 0.9 on class 0
    result = evaluate_logits(logits, torch.tensor([1]), [10, 10], iif_variant="raw")
    assert result.metrics["ece"] == pytest.approx(90.0)


def test_warmup_then_cosine() -> None:
    values = [warmup_cosine(step, 12, 3, 0.1) for step in range(13)]
    assert values[:3] == pytest.approx([0.25, 0.5, 0.75])
    assert values[3] == pytest.approx(1.0)
    assert values[12] == pytest.approx(0.1)
    # half-way through the cosine part (step 7.5 of 3..12) the factor is 0.1 + 0.9 / 2
    assert warmup_cosine(15, 30, 0, 0.1) == pytest.approx(0.55)


def test_balanced_subset_takes_the_first_images_of_each_class() -> None:
    targets = [2, 0, 1, 0, 2, 1, 0, 2, 1]
    assert balanced_subset(targets, 3, 6) == [0, 1, 2, 3, 4, 5]
    assert balanced_subset(targets, 3, None) == list(range(9))
    with pytest.raises(ValueError, match="subset size 2 < 3 classes"):
        balanced_subset(targets, 3, 2)
