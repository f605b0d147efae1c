"""Atomic files and checkpoints: a failed write never leaves a truncated file behind."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from aglu.atomic_files import atomic_write_text
from aglu.train.checkpoint import AtomicCheckpointIO, CorruptCheckpointError, read_checkpoint
from aglu.train.run_folder import RunFolder


def test_atomic_write_keeps_old_file_when_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "metrics.json"
    atomic_write_text(path, "old")

    def fail(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary left


def test_checkpoint_io_round_trip_and_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints" / "last.ckpt"
    state = {"state_dict": {"model.weight": torch.arange(4.0)}, "epoch": 3}
    AtomicCheckpointIO().save_checkpoint(state, path)
    loaded = read_checkpoint(path)
    assert loaded["epoch"] == 3
    assert torch.equal(loaded["state_dict"]["model.weight"], torch.arange(4.0))

    path.write_bytes(path.read_bytes()[:40])  # truncated, as a kill mid-write with plain saving
    with pytest.raises(CorruptCheckpointError, match=r"last\.ckpt.* corrupt or truncated"):
        read_checkpoint(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.ckpt"):
        read_checkpoint(tmp_path / "missing.ckpt")


def test_epoch_records_are_trimmed_for_a_resume(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.create("model: {}\n")
    for epoch in (1, 2, 3):
        folder.append_epoch({"epoch": epoch, "train_loss": 1.0 / epoch})
    with folder.metrics_jsonl.open("a") as file:
        file.write('{"epoch": 4, "trai')  # a line cut by a kill
    assert [r["epoch"] for r in folder.read_epochs()] == [1, 2, 3]
    folder.keep_epochs_up_to(2)
    assert [r["epoch"] for r in folder.read_epochs()] == [1, 2]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)], ids=["022", "027"])
def test_atomic_files_get_the_usual_mode(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "config.yaml", "model: {}\n")
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, tmp_path / "last.ckpt")
    finally:
        os.umask(previous)
    for name in ("config.yaml", "last.ckpt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


def _strict_loads(text: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"bare {constant} in the JSON text")

    return json.loads(text, parse_constant=refuse)


def test_run_json_files_write_nan_as_null(tmp_path: Path) -> None:
    # an empty shot group scores NaN; strict JSON readers (jq, JavaScript) reject a bare NaN
    folder = RunFolder(tmp_path)
    folder.write_json(folder.metrics_json, {"few": math.nan, "top1": 81.25, "ece": math.inf})
    assert _strict_loads(folder.metrics_json.read_text()) == {
        "few": None,
        "top1": 81.25,
        "ece": None,
    }
    folder.append_epoch({"epoch": 1, "val_few": math.nan, "activation_params": {"a": [math.nan]}})
    folder.keep_epochs_up_to(1)
    record = _strict_loads(folder.metrics_jsonl.read_text())
    assert record == {"epoch": 1, "val_few": None, "activation_params": {"a": [None]}}


def test_results_table_shows_a_missing_shot_group_as_a_dash() -> None:
    from aglu.train.commands import _results_table
    from aglu.train.evaluation import METRIC_NAMES

    metrics = {name: 50.0 for name in METRIC_NAMES}
    metrics.update({f"{name}_iif": 60.0 for name in METRIC_NAMES})
    metrics["few"], metrics["few_iif"] = math.nan, None  # in memory / read from metrics.json
    lines = _results_table(metrics, "rel").splitlines()
    assert lines[1].split() == ["top-1", "50.00%", "60.00%"]
    assert lines[5].split() == ["few", "–", "–"]
