"""Training-throughput and batch-1 latency benchmarks at toy size: timing order, rows and ratios."""

from __future__ import annotations

import json
import logging
import statistics
from pathlib import Path

import pytest
import torch

from aglu.bench import latency, throughput
from aglu.bench.latency import measure_latency
from aglu.bench.throughput import (
    ACTIVATION_PAIRS,
    ModelCase,
    _training_step,
    build_model,
    goal_line,
    measure_throughput,
    ratio_quartiles,
    ratios_per_round,
    training_goal,
)

ROOT = Path(__file__).resolve().parents[2]
TOY = ModelCase("se_resnet32", num_classes=10, image_size=8, batch_size=2)


def test_ratios_are_medians_of_per_round_ratios():
    seconds = {"relu": [1.0, 2.0, 1.0, 4.0], "aglu": [1.25, 2.0, 2.0, 5.0]}
    # per round, relu time / aglu time = 0.8, 1.0, 0.5, 0.8 -> median 0.8
    assert ratios_per_round(seconds, "relu", higher_is_better=True) == {"relu": 1.0, "aglu": 0.8}
    # per round, aglu time / relu time = 1.25, 1.0, 2.0, 1.25 -> median 1.25
    latency_ratios = ratios_per_round(seconds, "relu", higher_is_better=False)
    assert latency_ratios["aglu"] == 1.25
    assert ratios_per_round(seconds, "silu", higher_is_better=True) == {"relu": None, "aglu": None}


def test_ratio_quartiles_spread_of_per_round_ratios():
    seconds = {"relu": [1.0, 1.0, 1.0, 1.0, 1.0], "aglu": [1.0, 1.25, 2.0, 1.0, 1.6]}
    # per round, relu time / aglu time = 1, 0.8, 0.5, 1, 0.625 -> sorted 0.5, 0.625, 0.8, 1, 1
    spread = ratio_quartiles(seconds, "relu", higher_is_better=True)
    assert spread == {"relu": (1.0, 1.0, 1.0), "aglu": (0.625, 0.8, 1.0)}
    assert ratio_quartiles(seconds, "silu", higher_is_better=True) == {"relu": None, "aglu": None}


@pytest.mark.parametrize(
    ("quartiles", "met"),
    [
        ((0.86, 0.90, 0.95), True),  # even the slow quarter of rounds clears 0.85
        ((0.70, 0.80, 0.84), False),  # even the fast quarter misses it
        ((0.80, 0.90, 0.95), "inconclusive"),  # the bound lies inside the IQR
        ((0.80, 0.84, 0.86), "inconclusive"),
    ],
)
def test_training_goal_is_three_valued(quartiles, met):
    low, ratio, high = quartiles
    rows = [
        {"model": "se_resnet50", "pair": "aglu+apa", "ratio_to_baseline": 0.1},
        {"model": "se_resnet32", "pair": "aglu+apa", "ratio_to_baseline": ratio,
         "ratio_p25": low, "ratio_p75": high},
    ]  # fmt: skip
    goal = training_goal(rows)
    assert goal["met"] == met and type(goal["met"]) is type(met)  # True/False stay booleans
    assert goal["cost"] == pytest.approx(1 - ratio)
    assert (goal["cost_p25"], goal["cost_p75"]) == (pytest.approx(1 - high), pytest.approx(1 - low))
    verdict = {True: "met", False: "not met"}.get(met, met)
    assert f"SE-ResNet-32): {verdict}: cost {100 * (1 - ratio):.1f} %" in goal_line(goal)
    assert training_goal(rows[:1]) is None


def test_aglu_pairs_share_their_parameters():
    ours = build_model(TOY, "aglu+apa", "cpu").state_dict()
    plain = build_model(TOY, "aglu+apa plain ops", "cpu").state_dict()
    shape_keys = [key for key in ours if key.endswith(("lambda_", "kappa"))]
    assert len(shape_keys) > 10 and set(ours) == set(plain)
    assert all(torch.equal(ours[key], plain[key]) for key in shape_keys)


def test_each_pair_builds_its_own_activations():
    names = {
        pair: {type(m).__name__ for m in build_model(TOY, pair, "cpu").modules()}
        for pair in ACTIVATION_PAIRS
    }
    assert {"ReLU", "Sigmoid"} <= names["relu+sigmoid"] and "AGLU" not in names["relu+sigmoid"]
    assert {"AGLU", "APA"} <= names["aglu+apa"] and "ReLU" in names["aglu+apa"]  # the SE MLP's
    assert {"PlainAGLU", "PlainAPA"} <= names["aglu+apa plain ops"]
    with pytest.raises(ValueError, match="unknown activation pair 'gelu'"):
        build_model(TOY, "gelu", "cpu")


def test_training_step_updates_every_activation_parameter():
    model = build_model(TOY, "aglu+apa", torch.device("cpu"))
    before = {name: p.detach().clone() for name, p in model.named_parameters() if "kappa" in name}
    _training_step(model, TOY, torch.device("cpu"), None)()
    after = dict(model.named_parameters())
    assert before and all(not torch.equal(before[name], after[name]) for name in before)


def test_throughput_rows_and_ratios():
    rows = measure_throughput(TOY, ["relu+sigmoid", "aglu+apa"], warmup=0, repeats=3)
    assert [row["pair"] for row in rows] == ["relu+sigmoid", "aglu+apa"]
    baseline, ours = rows
    for row in rows:
        assert row["median_step_s"] == statistics.median(row["step_s"])
        assert row["images_per_s"] == pytest.approx(2 / row["median_step_s"], rel=1e-12)
        assert row["best_images_per_s"] == pytest.approx(2 / min(row["step_s"]), rel=1e-12)
    assert baseline["ratio_to_baseline"] == 1.0
    per_round = [b / o for b, o in zip(baseline["step_s"], ours["step_s"], strict=True)]
    assert ours["ratio_to_baseline"] == pytest.approx(statistics.median(per_round), rel=1e-12)
    low, _, high = statistics.quantiles(per_round, n=4, method="inclusive")
    assert (ours["ratio_p25"], ours["ratio_p75"]) == (pytest.approx(low), pytest.approx(high))


def test_latency_rows_and_ratios():
    case = ModelCase("se_resnet32", num_classes=10, image_size=8, batch_size=1)
    rows = measure_latency(case, ["relu+sigmoid", "aglu+apa plain ops"], warmup=1, repeats=5)
    baseline, plain = rows
    assert baseline["batch_size"] == 1 and baseline["ratio_to_baseline"] == 1.0
    assert 0 < plain["ratio_to_baseline"] < float("inf")
    assert all(row["p10_ms"] <= row["median_ms"] <= row["p90_ms"] for row in rows)
    assert all(len(row["samples_ms"]) == 5 for row in rows)
    assert plain["median_ms"] == statistics.median(plain["samples_ms"])
    per_round = [p / b for b, p in zip(baseline["samples_ms"], plain["samples_ms"], strict=True)]
    low, _, high = statistics.quantiles(per_round, n=4, method="inclusive")
    assert (plain["ratio_p25"], plain["ratio_p75"]) == (pytest.approx(low), pytest.approx(high))
    assert plain["ratio_to_baseline"] == pytest.approx(statistics.median(per_round))


def test_bench_commands_write_json_with_machine_and_goal(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(throughput.TRAINING_CASES, "se_resnet32", TOY)
    monkeypatch.setitem(latency.LATENCY_CASES, "se_resnet32", TOY)
    common = ["--models", "se_resnet32", "--pairs", "relu+sigmoid", "aglu+apa", "--warmup", "0"]
    caplog.set_level(logging.INFO)
    assert (
        throughput.throughput_main([*common, "--repeats", "2", "--out", str(tmp_path / "t.json")])
        == 0
    )
    assert latency.latency_main([*common, "--repeats", "3", "--out", str(tmp_path / "l.json")]) == 0

    result = json.loads((tmp_path / "t.json").read_text())
    assert result["machine"]["threads"] == torch.get_num_threads() and result["machine"]["cpu"]
    assert result["settings"] == {
        "warmup": 0,
        "repeats": {"se_resnet32": 2},
        "device": "cpu",
        "amp": "none",
    }
    ours = result["rows"][1]
    assert result["goal"]["cost"] == pytest.approx(1 - ours["ratio_to_baseline"])
    p25, p75 = ours["ratio_p25"], ours["ratio_p75"]
    expected = "inconclusive" if p25 <= 0.85 <= p75 else ours["ratio_to_baseline"] >= 0.85
    assert result["goal"]["met"] == expected
    rows = json.loads((tmp_path / "l.json").read_text())["rows"]
    assert set(rows[0]) == {
        *("model", "num_classes", "image_size", "batch_size", "pair"),
        *("samples_ms", "median_ms", "p10_ms", "p90_ms"),
        *("ratio_to_baseline", "ratio_p25", "ratio_p75"),
    }
    assert "| model | input | batch | activation + gate | median images/s | best images/s |" in (
        caplog.text
    )
    ratio = f"{ours['ratio_to_baseline']:.2f}×"
    best = f"{ours['best_images_per_s']:.1f}"
    assert (
        f"| se_resnet32 | 8×8 | 2 | aglu+apa | {ours['images_per_s']:.1f} | {best} | {ratio} |"
        in (caplog.text)
    )
    assert "| activation + gate | median ms | vs relu+sigmoid |" in caplog.text

    # The README's throughput block: the table, the machine, then the goal's verdict.
    (tmp_path / "throughput.json").write_text((tmp_path / "t.json").read_text())
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import readme_tables

    block = readme_tables.render("throughput", tmp_path).splitlines()
    assert block[0].startswith("| model | input | batch |") and block[-3].startswith("_Measured")
    assert block[-1] == goal_line(result["goal"])
