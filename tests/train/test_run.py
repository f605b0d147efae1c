"""A tiny real Fashion-MNIST run: what it leaves behind, and `aglu eval` reproducing it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml

from aglu.train import load_model
from aglu.train.commands import eval_main
from aglu.train.evaluation import METRIC_NAMES

pytestmark = pytest.mark.slow


def test_run_folder_layout(finished_run: Path) -> None:
    config = yaml.safe_load((finished_run / "config.yaml").read_text())
    assert list(config) == ["model", "data", "optim", "loss", "trainer", "eval"]
    assert set(config["model"]) == {
        "name",
        "num_classes",
        "in_chans",
        "act_layer",
        "gate_layer",
        "head",
    }
    assert config["trainer"]["out"] == str(finished_run)
    for name in ("last.ckpt", "best.ckpt"):
        assert (finished_run / "checkpoints" / name).stat().st_size > 100_000
    # validation was due every 5 epochs: the last epoch (0-based 1) was validated all the same
    best = torch.load(finished_run / "checkpoints" / "best.ckpt", weights_only=False)
    assert best["epoch"] == 1
    assert list((finished_run / "logs" / "tensorboard").glob("events.out.tfevents.*"))
    assert not list(finished_run.rglob("*.tmp"))
    run_files = [finished_run / "config.yaml", finished_run / "metrics.json"]
    for path in run_files + sorted((finished_run / "figures").glob("*.png")):
        assert path.stat().st_mode & 0o044 == 0o044, path  # readable by others, not 0600
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["iif_variant"] == "rel"
    figures = sorted(p.name for p in (finished_run / "figures").glob("*.png"))
    assert figures == [
        "activation_params.png",
        "confusion_matrix.png",
        "per_class_accuracy.png",
        "reliability_diagram.png",
    ]


def test_logs_hold_every_epoch(finished_run: Path) -> None:
    # 5 steps per epoch and log_every_n_steps=50: per-step logging alone would write no rows
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    records = [
        json.loads(line) for line in (finished_run / "metrics.jsonl").read_text().splitlines()
    ]
    with (finished_run / "logs" / "csv" / "metrics.csv").open() as file:
        rows = [row for row in csv.DictReader(file) if row.get("epoch/train_loss")]
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    for row, record in zip(rows, records, strict=True):
        assert float(row["epoch/train_loss"]) == pytest.approx(record["train_loss"], rel=1e-6)
        assert float(row["epoch/lr"]) == pytest.approx(record["lr"], rel=1e-6)
    events = EventAccumulator(str(finished_run / "logs" / "tensorboard"))
    events.Reload()
    losses = [event.value for event in events.Scalars("epoch/train_loss")]
    assert losses == pytest.approx([record["train_loss"] for record in records], rel=1e-6)


def test_epoch_records_hold_the_learned_parameters(finished_run: Path) -> None:
    records = [
        json.loads(line) for line in (finished_run / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["epoch"] for r in records] == [1, 2]
    assert "val_top1" not in records[0]  # not a multiple of eval_every_n_epochs=5
    assert records[1]["val_num_samples"] == 50  # the last epoch is always validated
    params = records[-1]["activation_params"]
    # SE-ResNet-32 with AGLU and APA gates: 1 stem + 15 blocks x (2 AGLU + 1 APA gate) = 46 modules
    assert len(params) == 46
    model, _ = load_model(finished_run)
    modules = dict(model.named_modules())
    for name, values in params.items():
        assert values["lambda"] == pytest.approx(modules[name].lambda_.tolist(), abs=1e-7)
        assert values["kappa"] == pytest.approx(modules[name].kappa.tolist(), abs=1e-7)


def test_final_metrics(finished_run: Path) -> None:
    metrics = json.loads((finished_run / "metrics.json").read_text())
    for name in METRIC_NAMES:
        assert 0.0 <= metrics[name] <= 100.0
        assert 0.0 <= metrics[f"{name}_iif"] <= 100.0
    assert metrics["num_samples"] == 100
    assert metrics["epochs"] == 2
    assert 0.0 <= metrics["data_wait_share"] < 1.0 and metrics["images_per_s"] > 0
    per_class = json.loads((finished_run / "per_class_accuracy.json").read_text())
    assert per_class["train_counts"] == [20, 15, 11, 9, 7, 5, 4, 3, 2, 2]
    # 10 test images per class: top-1 is the mean of the per-class accuracies
    assert sum(per_class["accuracy"]) / 10 == pytest.approx(metrics["top1"])
    assert sum(per_class["accuracy_iif"]) / 10 == pytest.approx(metrics["top1_iif"])
    # many: the class with 20 images; few: the four with fewer than 5
    assert metrics["many"] == pytest.approx(per_class["accuracy"][0])
    assert metrics["few"] == pytest.approx(sum(per_class["accuracy"][6:]) / 4)


def test_eval_reproduces_metrics_json(finished_run: Path, tmp_path: Path) -> None:
    output = tmp_path / "eval.json"
    assert eval_main([str(finished_run), "--output", str(output), "--trainer.num_threads=1"]) == 0
    saved = json.loads((finished_run / "metrics.json").read_text())
    again = json.loads(output.read_text())
    for name in (*METRIC_NAMES, *(f"{n}_iif" for n in METRIC_NAMES), "num_samples"):
        # the run trained with eager kernels, this process scores with the fused ones: 1e-5 points
        assert again[name] == pytest.approx(saved[name], abs=1e-5), name


def test_eval_with_another_iif_variant(finished_run: Path, tmp_path: Path) -> None:
    output = tmp_path / "eval.json"
    checkpoint = finished_run / "checkpoints" / "last.ckpt"
    assert eval_main([str(checkpoint), "--iif", "smooth", "--output", str(output)]) == 0
    again = json.loads(output.read_text())
    saved = json.loads((finished_run / "metrics.json").read_text())
    assert again["iif_variant"] == "smooth"
    assert again["top1"] == pytest.approx(saved["top1"], abs=1e-9)  # the raw scores do not change


def test_load_model_gives_the_trained_weights(finished_run: Path) -> None:
    model, config = load_model(finished_run)
    assert not model.training and config["model"]["act_layer"] == "aglu"
    state = torch.load(finished_run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, state[f"model.{name}"]), name
