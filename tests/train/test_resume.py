"""Resume: a run killed with SIGKILL mid-epoch and resumed ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from aglu.train.evaluation import METRIC_NAMES

from .conftest import DEMO_CONFIG, TINY, requires_fashion_mnist, run_aglu, start_aglu

pytestmark = [pytest.mark.slow, requires_fashion_mnist]

EPOCHS = "3"


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _signal_in_second_epoch(out: Path, signum: int):
    """Start a run, send ``signum`` during its second epoch; returns the ended process."""
    process = start_aglu("train", DEMO_CONFIG, "--epochs", EPOCHS, "--out", out, *TINY)
    checkpoint = out / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 240
    while not checkpoint.exists():  # written at the end of epoch 1, after its record
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "epoch 1 never finished"
        time.sleep(0.05)
    time.sleep(0.5)  # into epoch 2 (5 steps of 16 images)
    process.send_signal(signum)
    process.wait(timeout=60)
    assert [r["epoch"] for r in _records(out)] == [1], "the signal came after epoch 2 ended"
    assert not (out / "metrics.json").exists()
    return process


def _kill_in_second_epoch(out: Path) -> None:
    assert _signal_in_second_epoch(out, signal.SIGKILL).returncode == -signal.SIGKILL


def test_ctrl_c_says_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = _signal_in_second_epoch(out, signal.SIGINT)
    error = process.stderr.read()
    assert process.returncode == 130, error[-3000:]
    assert "aglu train: interrupted; every finished epoch is kept" in error
    assert f"continue with `aglu train --resume {out}`" in error
    assert (out / "checkpoints" / "last.ckpt").is_file()


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    done = run_aglu("train", DEMO_CONFIG, "--epochs", EPOCHS, "--out", reference, *TINY)
    assert done.returncode == 0, done.stderr[-3000:]

    resumed = tmp_path / "resumed"
    _kill_in_second_epoch(resumed)
    done = run_aglu("train", "--resume", resumed)
    assert done.returncode == 0, done.stderr[-3000:]

    # no completed epoch lost or repeated, and each epoch trained on the same batches
    expected, got = _records(reference), _records(resumed)
    assert [r["epoch"] for r in got] == [1, 2, 3]
    for before, after in zip(expected, got, strict=True):
        assert after["train_loss"] == pytest.approx(before["train_loss"], rel=1e-6)
        for name, values in before["activation_params"].items():
            for key in ("lambda", "kappa"):
                assert after["activation_params"][name][key] == pytest.approx(values[key]), name
    final = json.loads((reference / "metrics.json").read_text())
    again = json.loads((resumed / "metrics.json").read_text())
    for name in (*METRIC_NAMES, *(f"{n}_iif" for n in METRIC_NAMES)):
        assert again[name] == pytest.approx(final[name], abs=1e-6), name
