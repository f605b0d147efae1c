"""The order of a run's final files, and what a resume keeps of them (a tiny in-process run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from aglu.train.commands import train_main

from .conftest import DEMO_CONFIG, TINY, requires_fashion_mnist

pytestmark = [pytest.mark.slow, requires_fashion_mnist]


def _watch_figures(monkeypatch: pytest.MonkeyPatch, out: Path) -> list[dict]:
    """Record which final files exist each time the figures are drawn."""
    import aglu.train.figures

    seen: list[dict] = []
    draw = aglu.train.figures.draw_run_figures

    def watched(*args: object, **kwargs: object) -> None:
        per_class = out / "per_class_accuracy.json"
        seen.append(
            {
                "metrics.json": (out / "metrics.json").exists(),
                "per_class": json.loads(per_class.read_text()) if per_class.exists() else None,
            }
        )
        draw(*args, **kwargs)

    monkeypatch.setattr(aglu.train.figures, "draw_run_figures", watched)
    return seen


def test_metrics_json_comes_last_and_a_resume_drops_the_stale_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGLU_COMPILE", "0")
    out = tmp_path / "run"
    seen = _watch_figures(monkeypatch, out)
    assert train_main([str(DEMO_CONFIG), "--epochs", "1", "--out", str(out), *TINY]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1
    first_csv = (out / "logs" / "csv" / "metrics.csv").read_text()

    # a finished run trained further: its old metrics.json is gone before the new one is written
    assert train_main(["--resume", str(out), "--epochs", "2"]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2
    assert [s["metrics.json"] for s in seen] == [False, False]  # figures drawn before it
    assert all(s["per_class"] is not None for s in seen)  # per-class accuracy before them

    # each resumed part logs to a CSV folder of its own: the first part's log survives
    assert (out / "logs" / "csv" / "metrics.csv").read_text() == first_csv
    assert _csv_epochs(out / "logs" / "csv") == [1]
    assert _csv_epochs(out / "logs" / "csv-resume-1") == [2]


def _csv_epochs(folder: Path) -> list[int]:
    with (folder / "metrics.csv").open() as file:
        return [int(row["epoch"]) for row in csv.DictReader(file) if row.get("epoch/train_loss")]
