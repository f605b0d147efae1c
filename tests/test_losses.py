"""Losses: cross-entropy, binary and Gumbel binary cross-entropy, soft targets, smoothing, DRW."""

import decimal
import math

import pytest
import torch
import torch.nn.functional as F

from aglu.losses import (
    LOSSES,
    build_loss,
    gumbel_cdf,
    gumbel_log_cdf,
    gumbel_log_sf,
    inverse_frequency_weights,
)

LOG2 = math.log(2)


def _random_batch(num_classes=5, batch=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(batch, num_classes, generator=generator, dtype=torch.float64)
    labels = torch.randint(num_classes, (batch,), generator=generator)
    return logits, labels


# ----- cross-entropy -------------------------------------------------------------------------


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.3])
def test_ce_with_hard_labels_equals_torch(label_smoothing):
    logits, labels = _random_batch()
    loss = build_loss("ce", label_smoothing=label_smoothing)(logits, labels)
    expected = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    torch.testing.assert_close(loss, expected, rtol=1e-14, atol=0)


def test_ce_hand_computed_soft_and_smoothed():
    # logits (0, log 3) give softmax (1/4, 3/4).
    logits = torch.tensor([[0.0, math.log(3)]], dtype=torch.float64)
    # Soft target (1/2, 1/2): −(½·log ¼ + ½·log ¾) = ½·(1.386294 + 0.287682) = 0.836988.
    soft = build_loss("ce")(logits, torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    assert soft.item() == pytest.approx(0.5 * (math.log(4) + math.log(4 / 3)), rel=1e-14)
    assert soft.item() == pytest.approx(0.8369882167858358, rel=1e-14)
    # Label 1 with ε = 0.2: q = (0.1, 0.9), −(0.1·log ¼ + 0.9·log ¾) = 0.1386294 + 0.2589139.
    smoothed = build_loss("ce", label_smoothing=0.2)(logits, torch.tensor([1]))
    assert smoothed.item() == pytest.approx(0.3975433013185918, rel=1e-14)


def test_ce_soft_targets_equal_torch_probability_targets():
    logits, _ = _random_batch()
    soft = torch.softmax(torch.randn(6, 5, dtype=torch.float64), dim=1)
    loss = build_loss("ce", label_smoothing=0.1)(logits, soft)
    torch.testing.assert_close(loss, F.cross_entropy(logits, soft, label_smoothing=0.1))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_one_hot_soft_targets_equal_hard_labels(name):
    logits, labels = _random_batch()
    loss = build_loss(name, label_smoothing=0.1)
    one_hot = F.one_hot(labels, 5).double()
    torch.testing.assert_close(loss(logits, one_hot), loss(logits, labels), rtol=1e-14, atol=0)


# ----- binary cross-entropy ------------------------------------------------------------------


def test_bce_hand_computed():
    # Zero logits: each of the 3 one-vs-all terms is −log σ(0) = log 2.
    loss = build_loss("bce")(torch.zeros(2, 3, dtype=torch.float64), torch.tensor([0, 2]))
    assert loss.item() == pytest.approx(3 * LOG2, rel=1e-15)


def test_bce_equals_torch_summed_over_classes():
    logits, labels = _random_batch()
    # Smoothing ε = 0.1 over C = 5: positives 0.92, negatives 0.02.
    targets = F.one_hot(labels, 5).double() * 0.9 + 0.02
    expected = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(1).mean()
    loss = build_loss("bce", label_smoothing=0.1)(logits, labels)
    torch.testing.assert_close(loss, expected, rtol=1e-14, atol=0)


# ----- deferred re-weighting -----------------------------------------------------------------


def test_inverse_frequency_weights_hand_computed():
    # Counts (3, 1): N = 4, C = 2, w = (4/(2·3), 4/(2·1)) = (2/3, 2); mean weight per image
    # (3·2/3 + 1·2)/4 = 1.
    weights = inverse_frequency_weights([3, 1], dtype=torch.float64)
    torch.testing.assert_close(weights, torch.tensor([2 / 3, 2.0], dtype=torch.float64))
    counts = torch.tensor([500.0, 120.0, 30.0, 5.0], dtype=torch.float64)
    weights = inverse_frequency_weights(counts, dtype=torch.float64)
    assert (counts * weights).sum().item() / counts.sum().item() == pytest.approx(1, rel=1e-15)


def test_drw_switches_on_at_its_epoch():
    # Zero logits: every sample's CE is log 2. Weights (2/3, 2) for labels (0, 1) from epoch 3.
    loss = build_loss("ce", class_counts=[3, 1], drw_start_epoch=3)
    logits, labels = torch.zeros(2, 2, dtype=torch.float64), torch.tensor([0, 1])
    for epoch, expected in [(0, LOG2), (2, LOG2), (3, 4 / 3 * LOG2), (7, 4 / 3 * LOG2)]:
        loss.set_epoch(epoch)
        assert loss.reweighting == (epoch >= 3)
        assert loss(logits, labels).item() == pytest.approx(expected, rel=1e-15)
    # A soft target (½, ½) carries the mixed weight ½·2/3 + ½·2 = 4/3.
    soft = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    assert loss(logits[:1], soft).item() == pytest.approx(4 / 3 * LOG2, rel=1e-15)


def test_drw_ce_equals_torch_weighted_per_sample_mean():
    logits, labels = _random_batch()
    counts = [50, 20, 10, 4, 2]
    loss = build_loss("ce", class_counts=counts, drw_start_epoch=0)
    weights = inverse_frequency_weights(counts, dtype=torch.float64)
    expected = F.cross_entropy(logits, labels, weight=weights, reduction="none").mean()
    torch.testing.assert_close(loss(logits, labels), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_drw_weights_each_sample_by_its_class(name):
    logits, labels = _random_batch()
    counts = [50, 20, 10, 4, 2]
    plain = build_loss(name, label_smoothing=0.1)
    plain.reduction = "none"
    reweighted = build_loss(name, label_smoothing=0.1, class_counts=counts, drw_start_epoch=0)
    weights = inverse_frequency_weights(counts, dtype=torch.float64)
    expected = (plain(logits, labels) * weights[labels]).mean()
    torch.testing.assert_close(reweighted(logits, labels), expected, rtol=1e-14, atol=0)


# ----- the Gumbel link -----------------------------------------------------------------------


def _log_sf_reference(x: float) -> float:
    """log(1 − exp(−e^(−x))) in 60-digit decimal arithmetic, rounded to float64."""
    with decimal.localcontext() as context:
        context.prec = 60
        t = (-decimal.Decimal(x)).exp()
        if t < decimal.Decimal("1e-3"):  # 1 − e^(−t) by its series: no cancellation
            one_minus = sum((-1) ** (k + 1) * t**k / math.factorial(k) for k in range(1, 25))
        else:
            one_minus = 1 - (-t).exp()
        return float(one_minus.ln())


# Points in every branch (series above 10, log-expm1 down to 0.3665, log1p below, flat below −50)
# and on both sides of each switch.
GUMBEL_POINTS = [-800.0, -60.0, -49.5, -20.0, -3.0, -1.0, 0.0, 0.3, 0.37, 1.0, 4.0, 9.9, 10.1]
GUMBEL_POINTS += [25.0, 80.0, 100.0, 300.0, 700.0]


def test_gumbel_log_sf_matches_high_precision_in_float64():
    x = torch.tensor(GUMBEL_POINTS, dtype=torch.float64)
    expected = torch.tensor([_log_sf_reference(v) for v in GUMBEL_POINTS], dtype=torch.float64)
    torch.testing.assert_close(gumbel_log_sf(x), expected, rtol=1e-13, atol=1e-300)


def test_gumbel_log_sf_matches_high_precision_in_float32():
    points = [p for p in GUMBEL_POINTS if abs(p) < 3e38]
    x = torch.tensor(points, dtype=torch.float32)
    expected = torch.tensor([_log_sf_reference(float(v)) for v in x.tolist()])
    torch.testing.assert_close(gumbel_log_sf(x), expected, rtol=2e-6, atol=1e-38)
    # Where the naive form breaks: at x = 100 it gives log(0) = −inf; the answer is −100.
    assert torch.log(1 - torch.exp(-torch.exp(torch.tensor(-100.0)))).item() == -math.inf
    assert gumbel_log_sf(torch.tensor(100.0)).item() == pytest.approx(-100.0, rel=1e-7)


def test_gumbel_log_sf_gradient_is_exact_and_finite():
    x = torch.tensor([*GUMBEL_POINTS, -1e4, 1e4], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(gumbel_log_sf(x).sum(), x)
    # d/dx log(1 − e^(−t)) with t = e^(−x) is −t / expm1(t): −1 for large x, 0 for very negative.
    t = torch.exp(-x.detach().clamp(min=-700))
    expected = torch.where(x.detach() > 30, -torch.ones_like(t), -t / torch.expm1(t))
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-300)
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        x = torch.tensor([-1e4, -60.0, 0.0, 60.0, 1e4], dtype=dtype, requires_grad=True)
        gumbel_log_sf(x).sum().backward()
        assert torch.isfinite(x.grad).all(), dtype


def test_gumbel_functions_pass_gradcheck():
    x = torch.tensor([-40.0, -2.0, 0.2, 0.5, 3.0, 12.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gumbel_log_sf, (x,))
    assert torch.autograd.gradcheck(gumbel_log_cdf, (x,))


def test_gumbel_scores_and_log_cdf():
    x = torch.linspace(-3, 6, 10, dtype=torch.float64)
    torch.testing.assert_close(gumbel_cdf(x), torch.exp(-torch.exp(-x)), rtol=1e-15, atol=0)
    # G(0) = e^(−1) = 0.367879...
    assert gumbel_cdf(torch.tensor(0.0, dtype=torch.float64)).item() == pytest.approx(
        0.36787944117144233, rel=1e-15
    )


def test_gumbel_bce_hand_computed():
    # Zero logits, label 0 of 2: the positive costs e⁰ = 1, the negative −log(1 − e^(−1)) =
    # −log(0.632120...) = 0.458675...; total 1.458675...
    loss = build_loss("gumbel_bce")(torch.zeros(1, 2, dtype=torch.float64), torch.tensor([0]))
    assert loss.item() == pytest.approx(1 + 0.45867514538708193, rel=1e-14)


def test_gumbel_bce_float32_matches_float64_naive_form():
    logits, labels = _random_batch(batch=16, seed=3)
    targets = F.one_hot(labels, 5).double() * 0.9 + 0.02  # ε = 0.1 over 5 classes
    # Float64 reference: log G(x) = −e^(−x) exactly, log(1 − G) naively (fine for |x| < 12).
    assert logits.abs().max() < 12
    log_scores, log_one_minus = -torch.exp(-logits), torch.log1p(-torch.exp(-torch.exp(-logits)))
    expected = -(targets * log_scores + (1 - targets) * log_one_minus).sum(1).mean()
    loss = build_loss("gumbel_bce", label_smoothing=0.1)(logits.float(), labels)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.double(), expected, rtol=1e-6, atol=0)


# ----- precision, shapes and bad input -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_half_precision_logits_give_a_float32_loss_with_gradients(name):
    logits, labels = _random_batch()
    half = logits.to(torch.bfloat16).requires_grad_()
    loss = build_loss(name)(half, labels)
    loss.backward()
    assert loss.dtype == torch.float32
    assert half.grad.dtype == torch.bfloat16 and torch.isfinite(half.grad.float()).all()
    torch.testing.assert_close(loss.double(), build_loss(name)(half.double(), labels))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "focal"}, ValueError, "unknown loss 'focal'.*'bce', 'ce', 'gumbel_bce'"),
        ({"name": "ce", "drw_start_epoch": 5}, ValueError, "needs class_counts"),
        ({"name": "ce", "label_smoothing": 1.0}, ValueError, r"\[0, 1\); got 1.0"),
        ({"name": "ce", "class_counts": [3, 0], "drw_start_epoch": 1}, ValueError, r"\[1\] = 0"),
        ({"name": "ce", "class_counts": [3, 1], "drw_start_epoch": -1}, ValueError, "-1"),
        ({"name": "ce", "class_counts": [3, 1], "drw_start_epoch": 1.5}, TypeError, "1.5"),
    ],
)
def test_build_loss_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        build_loss(**kwargs)


@pytest.mark.parametrize(
    ("logits", "targets", "error", "match"),
    [
        (torch.zeros(2, 3), torch.tensor([0, 3]), ValueError, r"\[0, 3\); got min 0, max 3"),
        (torch.zeros(2, 3), torch.tensor([-1, 0]), ValueError, "got min -1"),
        (torch.zeros(2, 3), torch.tensor([0.0, 1.0]), TypeError, "integer"),
        (torch.zeros(2, 3), torch.tensor([0, 1, 2]), ValueError, r"\(3,\).*\(2, 3\)"),
        (torch.zeros(2, 3), torch.zeros(2, 4), ValueError, r"\(2, 4\).*\(N, 3\)"),
        (torch.zeros(2, 3), torch.full((2, 3), 1.5), ValueError, "max 1.5"),
        (torch.zeros(3), torch.tensor([0, 1, 2]), ValueError, r"\(N, C\); got \(3,\)"),
    ],
)
def test_losses_reject_bad_shapes_and_labels(logits, targets, error, match):
    with pytest.raises(error, match=match):
        build_loss("ce")(logits, targets)


def test_class_count_mismatch_is_reported():
    loss = build_loss("bce", class_counts=[3, 1], drw_start_epoch=0)
    with pytest.raises(ValueError, match="2 classes but logits have 3"):
        loss(torch.zeros(2, 3), torch.tensor([0, 1]))


def test_reduction_none_keeps_the_batch():
    loss = build_loss("gumbel_bce")
    loss.reduction = "none"
    assert loss(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0])).shape == (4,)
