"""Atomic files and checkpoints: a failed write never leaves a truncated file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from aglu.train.checkpoint import AtomicCheckpointIO, CorruptCheckpointError, read_checkpoint
from aglu.train.run_folder import RunFolder, atomic_write_text


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
