"""IIF offsets: every variant against hand-computed numbers, and the bad inputs."""

import math

import pytest
import torch

from aglu.losses import IIF_VARIANTS, adjust_logits, iif_offsets

# Counts (2, 1, 1): N = 4, so N/n_c = (2, 4, 4) and n_c/N = (1/2, 1/4, 1/4).
COUNTS = [2, 1, 1]
HAND_COMPUTED = {
    # log 2 = 0.693147..., log 4 = 1.386294...
    "raw": [0.6931471805599453, 1.3862943611198906, 1.3862943611198906],
    # log(5/3) + 1 = 0.510825... + 1,  log(5/2) + 1 = 0.916290... + 1
    "smooth": [1.5108256237659907, 1.916290731874155, 1.916290731874155],
    # log((4 − 2)/2) = log 1 = 0,  log((4 − 1)/1) = log 3 = 1.098612...
    "rel": [0.0, 1.0986122886681098, 1.0986122886681098],
    # −Φ⁻¹(1/2) = 0,  −Φ⁻¹(1/4) = 0.674489... (the upper quartile of the standard normal)
    "normit": [0.0, 0.6744897501960817, 0.6744897501960817],
    # −log(−log(1/2)) = −log(0.693147...) = 0.366512...;
    # −log(−log(3/4)) = −log(0.287682...) = 1.245899...
    "gombit": [0.36651292058166435, 1.2458993237072384, 1.2458993237072384],
    # log₂ 2 = 1, log₂ 4 = 2
    "base2": [1.0, 2.0, 2.0],
    # log₁₀ 2 = 0.301029..., log₁₀ 4 = 2·log₁₀ 2 = 0.602059...
    "base10": [0.3010299956639812, 0.6020599913279624, 0.6020599913279624],
}


def test_every_variant_has_a_hand_computed_case():
    assert set(HAND_COMPUTED) == set(IIF_VARIANTS)
    assert len(IIF_VARIANTS) == 7


@pytest.mark.parametrize("variant", sorted(HAND_COMPUTED))
def test_offsets_match_hand_computed_values(variant):
    offsets = iif_offsets(COUNTS, variant, dtype=torch.float64)
    expected = torch.tensor(HAND_COMPUTED[variant], dtype=torch.float64)
    torch.testing.assert_close(offsets, expected, rtol=1e-14, atol=1e-15)


def test_default_variant_is_rel():
    torch.testing.assert_close(iif_offsets(COUNTS), iif_offsets(COUNTS, "rel"))


def test_normit_at_the_two_sided_95_percent_points():
    # Counts (1, 39): n_c/N = 0.025 and 0.975, and Φ⁻¹(0.975) = 1.959963984540054.
    offsets = iif_offsets([1, 39], "normit", dtype=torch.float64)
    expected = torch.tensor([1.959963984540054, -1.959963984540054], dtype=torch.float64)
    torch.testing.assert_close(offsets, expected, rtol=1e-12, atol=0)


def test_gombit_keeps_precision_for_a_tiny_class():
    # n_c/N = 1e-12: −log(1 − f) = f + f²/2 + ..., so the offset is −log(1e-12) = 27.631021...
    offsets = iif_offsets([1, 10**12 - 1], "gombit", dtype=torch.float64)
    assert offsets[0].item() == pytest.approx(12 * math.log(10), rel=1e-11)


def test_rare_classes_get_larger_offsets_in_every_variant():
    counts = [500, 120, 30, 5]
    for variant in IIF_VARIANTS:
        offsets = iif_offsets(counts, variant)
        assert torch.all(offsets[1:] > offsets[:-1]), variant


def test_result_dtype_device_and_tensor_input():
    offsets = iif_offsets(torch.tensor(COUNTS), "raw")
    assert offsets.dtype == torch.float32 and offsets.shape == (3,)
    assert iif_offsets(torch.tensor([2.0, 1.0, 1.0]), "raw").dtype == torch.float32


def test_adjust_logits_adds_offsets_over_the_last_dimension():
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    adjusted = adjust_logits(logits, COUNTS, "base2")
    expected = torch.tensor([[2.0, 4.0, 5.0], [1.0, 2.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(adjusted, expected)


def test_smooth_accepts_an_empty_class():
    # N = 4: log(5/4) + 1, log(5/2) + 1 and, for the empty class, log(5/1) + 1.
    offsets = iif_offsets([3, 1, 0], "smooth", dtype=torch.float64)
    expected = [0.22314355131420976 + 1, 0.9162907318741551 + 1, 1.6094379124341003 + 1]
    torch.testing.assert_close(offsets, torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize(
    ("counts", "variant", "error", "match"),
    [
        ([3, 1], "softmax", ValueError, "unknown IIF variant 'softmax'"),
        ([3, 0], "rel", ValueError, r"train_counts\[1\] = 0"),
        ([5], "raw", ValueError, "at least 2 class counts"),
        ([[1, 2]], "raw", ValueError, "shape"),
        ([2.5, 1.0], "raw", ValueError, "whole numbers"),
        ([4, 0, 0], "smooth", ValueError, "fewer than 2 classes"),
    ],
)
def test_bad_input_is_rejected_with_the_value(counts, variant, error, match):
    with pytest.raises(error, match=match):
        iif_offsets(counts, variant)


def test_adjust_logits_rejects_a_class_mismatch():
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        adjust_logits(torch.zeros(4, 2), COUNTS)
