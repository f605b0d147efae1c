"""Classifier heads: hand-computed cosine logits, the learnable scale and the name registry."""

import pytest
import torch
from torch import nn

from aglu.models import HEADS, CosineHead, LearnableScaleCosineHead, create_head

# Features [3, 4] (norm 5, squashed to [3, 4] / 6) against three class directions.
FEATURES = torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
WEIGHT = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 4.0]], dtype=torch.float64)
# cosines times 5/6: 3/6, 4/6, (−1.8 + 3.2)/6; the zero vector gives 0, not NaN.
SQUASHED_COSINE = torch.tensor([[0.5, 4 / 6, 1.4 / 6], [0.0, 0.0, 0.0]], dtype=torch.float64)


def test_cosine_head_matches_hand_computed_logits():
    head = CosineHead(2, 3).double()
    with torch.no_grad():
        head.weight.copy_(WEIGHT)
    torch.testing.assert_close(head(FEATURES), 16 * SQUASHED_COSINE)
    assert head.scale == 16.0
    assert [name for name, _ in head.named_parameters()] == ["weight"]


def test_learnable_cosine_head_starts_at_scale_25_and_learns_it():
    head = LearnableScaleCosineHead(2, 3).double()
    with torch.no_grad():
        head.weight.copy_(WEIGHT)
    logits = head(FEATURES)
    torch.testing.assert_close(logits, 25 * SQUASHED_COSINE)
    assert head.sqrt_scale.item() == 5.0

    logits.sum().backward()
    # d(σ² c)/dσ = 2σ c, summed over the logits.
    torch.testing.assert_close(head.sqrt_scale.grad, 10 * SQUASHED_COSINE.sum().reshape(1))


def test_cosine_logits_are_bounded_by_the_scale():
    head = CosineHead(8, 5)
    logits = head(1e6 * torch.randn(4, 8))
    assert logits.abs().max() < 16


@pytest.mark.parametrize(
    ("name", "cls"),
    [("linear", nn.Linear), ("cosine", CosineHead), ("learnable_cosine", LearnableScaleCosineHead)],
)
def test_create_head_by_name(name, cls):
    head = create_head(name, 64, 10)
    assert type(head) is cls
    assert head(torch.randn(3, 64)).shape == (3, 10)


def test_unknown_head_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown head 'arcface'") as error:
        create_head("arcface", 64, 10)
    assert all(name in str(error.value) for name in HEADS)
