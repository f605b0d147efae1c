"""Bad input: a one-line error, exit code 2, and no run files written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from aglu.train.commands import eval_main, train_main

from .conftest import DEMO_CONFIG, TINY, requires_fashion_mnist


def _one_line_error(captured: str) -> str:
    lines = [line for line in captured.splitlines() if line.startswith("aglu ")]
    assert len(lines) == 1, captured
    return lines[0]


def test_missing_dataset_names_path_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    code = train_main(
        [str(DEMO_CONFIG), "--out", str(out), "--data.root", str(tmp_path / "nowhere")]
    )
    assert code == 2
    message = _one_line_error(capsys.readouterr().err)
    assert str(tmp_path / "nowhere") in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_asked_where_there_is_none(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    code = train_main([str(DEMO_CONFIG), "--out", str(out), "--trainer.accelerator=gpu"])
    assert code == 2
    message = _one_line_error(capsys.readouterr().err)
    assert "no CUDA GPU is visible" in message and "--trainer.accelerator=cpu" in message
    assert not out.exists()


def test_unknown_key_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    assert train_main([str(DEMO_CONFIG), "--out", str(out), "--model.activation=relu"]) == 2
    assert "valid keys of model: name, num_classes" in _one_line_error(capsys.readouterr().err)
    assert not out.exists()


@requires_fashion_mnist
def test_corrupt_checkpoint_on_resume(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from aglu.train.config import load_config
    from aglu.train.run_folder import RunFolder

    folder = RunFolder(tmp_path / "run")
    folder.create(load_config(DEMO_CONFIG, TINY).dump())
    folder.append_epoch({"epoch": 1, "train_loss": 2.0})
    folder.last_checkpoint.write_bytes(b"PK\x03\x04 truncated by a crash")
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.root.rglob("*") if p.is_file()
    }

    assert train_main(["--resume", str(folder.root)]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert "last.ckpt" in message and "corrupt or truncated" in message
    after = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.root.rglob("*") if p.is_file()
    }
    assert after == before  # nothing overwritten, nothing added


def test_eval_of_a_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert eval_main([str(tmp_path / "nope")]) == 2
    assert "nope" in _one_line_error(capsys.readouterr().err)
