"""Two CPU processes (DDP over gloo) match one process; each test image is scored once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import DEMO_CONFIG, TINY, requires_fashion_mnist, run_aglu

pytestmark = [pytest.mark.slow, requires_fashion_mnist]


def test_two_processes_match_one(tmp_path: Path) -> None:
    runs = {}
    for devices in ("1", "2"):
        out = tmp_path / f"devices{devices}"
        done = run_aglu(
            "train", DEMO_CONFIG, "--epochs", "2", "--devices", devices, "--out", out, *TINY
        )
        assert done.returncode == 0, done.stderr[-3000:]
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        runs[devices] = (records, json.loads((out / "metrics.json").read_text()))

    (one_records, one), (two_records, two) = runs["1"], runs["2"]
    # every one of the 100 test images (and 50 validation images) scored exactly once: the
    # module raises if the gathered indices are not each image once, so a finished run proves it
    assert one["num_samples"] == two["num_samples"] == 100
    assert [r["val_num_samples"] for r in two_records] == [50, 50]
    # the same global batches, split in halves: only batch-norm statistics (per half) and the
    # augmentation draws differ, so the losses agree closely and the scores within a few images
    for single, double in zip(one_records, two_records, strict=True):
        assert double["train_loss"] == pytest.approx(single["train_loss"], rel=0.1)
    assert abs(two["top1"] - one["top1"]) <= 15.0
    assert abs(two["top1_iif"] - one["top1_iif"]) <= 15.0
