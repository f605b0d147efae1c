"""One real tiny study run through `aglu train` on Fashion-MNIST-LT (about 30 s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aglu.bench.study import study_main

REPO = Path(__file__).resolve().parents[2]
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
TINY = [
    "--data.max_count=100",  # the rarest class keeps 1 image at ρ = 100
    "--data.batch_size=16",
    "--eval.val_samples=50",
    "--eval.test_samples=100",
    "--trainer.num_threads=1",
    "--trainer.progress_bar=false",
]


@pytest.mark.slow
@pytest.mark.skipif(
    not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST is not installed (make data)",
)
def test_tiny_real_study_trains_reads_metrics_and_skips_on_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv("AGLU_COMPILE", "0")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    config = str(REPO / "configs" / "fashion_mnist_lt.yaml")
    argv = ["--config", config, "--variants", "aglu+apa", "--seeds", "1", "--epochs", "1"]
    argv += ["--out", str(tmp_path), "--", *TINY]
    assert study_main(argv) == 0

    run_dir = tmp_path / "aglu+apa-rho100-seed1"
    resolved = (run_dir / "config.yaml").read_text()
    assert "act_layer: aglu" in resolved and "gate_layer: apa" in resolved
    assert "imbalance_factor: 0.01" in resolved
    metrics = json.loads((run_dir / "metrics.json").read_text())
    study = json.loads((tmp_path / "study.json").read_text())
    (row,) = study["aggregate"]
    assert row["metrics"]["top1"] == {"mean": metrics["top1"], "std": None, "n": 1}
    assert row["metrics"]["ece_iif"]["mean"] == metrics["ece_iif"]
    assert study["runs"][0]["wall_s"] > 0

    assert study_main(argv) == 0  # finished: skipped, not trained again
    log = (tmp_path / "logs" / "aglu+apa-rho100-seed1.log").read_text()
    assert log.count("$ ") == 1
