"""Shared pieces of the training tests: the tiny real-data recipe and a subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "configs" / "fashion_mnist_lt.yaml"
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# A few real Fashion-MNIST batches: 20 head-class images at ρ = 10 (78 images: 20, 15, 11, 9, 7,
# 5, 4, 3, 2, 2), 100 test images; shot groups scaled down so that each has classes.
TINY = [
    "--eval.many_threshold=15",
    "--eval.few_threshold=5",
    "--data.max_count=20",
    "--data.imbalance_factor=0.1",
    "--data.batch_size=16",
    "--data.num_workers=1",
    "--eval.val_samples=50",
    "--eval.test_samples=100",
    "--trainer.eval_every_n_epochs=1",
    "--trainer.num_threads=1",
    "--trainer.progress_bar=false",
]

requires_fashion_mnist = pytest.mark.skipif(
    not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST is not installed (make data)",
)


def aglu_env() -> dict[str, str]:
    """The environment of a test subprocess: eager kernels (no compile time), one thread."""
    return {**os.environ, "AGLU_COMPILE": "0", "OMP_NUM_THREADS": "1"}


def run_aglu(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m aglu ARGS`` and return the finished process (output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "aglu", *map(str, args)],
        cwd=REPO,
        env=aglu_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_aglu(*args: str) -> subprocess.Popen:
    """Start ``python -m aglu ARGS`` without waiting."""
    return subprocess.Popen(
        [sys.executable, "-m", "aglu", *map(str, args)],
        cwd=REPO,
        env=aglu_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny finished run (2 epochs) shared by the run-folder and eval tests.

    Validation is due every 5 epochs, so only the forced last-epoch validation runs, and steps
    are logged every 50 (more than the run has): the logs then hold only the per-epoch numbers.
    """
    if not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST is not installed (make data)")
    out = tmp_path_factory.mktemp("runs") / "tiny"
    sparse = ["--trainer.eval_every_n_epochs=5", "--trainer.log_every_n_steps=50"]
    done = run_aglu("train", DEMO_CONFIG, "--epochs", "2", "--out", out, *TINY, *sparse)
    assert done.returncode == 0, done.stderr[-3000:]
    return out
