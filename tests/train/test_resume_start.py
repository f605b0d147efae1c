"""What ``aglu train --resume`` does to the run folder before it trains (training stubbed out)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
import yaml

from aglu.train.commands import train_main
from aglu.train.config import load_config
from aglu.train.run_folder import RunFolder

from .conftest import DEMO_CONFIG, TINY, requires_fashion_mnist

pytestmark = requires_fashion_mnist


class TrainingStarted(Exception):
    """Raised where Lightning's fit would start: the run folder is ready by then."""


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    import lightning

    def stop(*args: object, **kwargs: object) -> None:
        raise TrainingStarted

    monkeypatch.setattr(lightning.Trainer, "fit", stop)


def _killed_run(tmp_path: Path, epochs_recorded: int) -> RunFolder:
    """A run of 3 epochs killed after ``epochs_recorded`` epoch records."""
    folder = RunFolder(tmp_path / "run")
    config = load_config(DEMO_CONFIG, [*TINY, "--epochs", "3", "--out", str(folder.root)])
    folder.create(config.dump())
    for epoch in range(1, epochs_recorded + 1):
        folder.append_epoch({"epoch": epoch, "train_loss": 2.0 / epoch})
    (folder.logs / "csv").mkdir(parents=True)
    (folder.logs / "csv" / "hparams.yaml").write_text("{}\n")
    return folder


def _saved_epochs(folder: RunFolder) -> int:
    return yaml.safe_load(folder.config.read_text())["trainer"]["epochs"]


@pytest.mark.usefixtures("no_training")
def test_resume_without_a_checkpoint_starts_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # killed in epoch 1 after its record, before its checkpoint: nothing of it is kept
    folder = _killed_run(tmp_path, epochs_recorded=1)
    caplog.set_level(logging.INFO, logger="aglu.train.commands")
    with pytest.raises(TrainingStarted):
        train_main(["--resume", str(folder.root), "--epochs", "2"])
    assert "has no checkpoint yet: starting the run afresh from epoch 0" in caplog.text
    assert folder.read_epochs() == []
    assert not (folder.logs / "csv" / "hparams.yaml").exists()
    assert _saved_epochs(folder) == 2
    assert load_config(folder.config).trainer.out == str(folder.root)


@pytest.mark.usefixtures("no_training")
def test_resume_rewrites_the_config_and_drops_unsaved_epochs(tmp_path: Path) -> None:
    folder = _killed_run(tmp_path, epochs_recorded=2)
    config = load_config(folder.config)
    # Lightning's "epoch" is 0-based: this checkpoint was saved at the end of epoch 1
    checkpoint = {"state_dict": {}, "epoch": 0, "hyper_parameters": {"config": config.to_dict()}}
    torch.save(checkpoint, folder.last_checkpoint)
    with pytest.raises(TrainingStarted):
        train_main(["--resume", str(folder.root), "--epochs", "2"])
    assert [record["epoch"] for record in folder.read_epochs()] == [1]
    assert _saved_epochs(folder) == 2
    assert folder.last_checkpoint.is_file()  # the checkpoint to resume from is kept
    assert json.loads(folder.metrics_jsonl.read_text().splitlines()[0])["train_loss"] == 2.0


def _finished_run(tmp_path: Path) -> RunFolder:
    """A finished run of 3 epochs: records, checkpoint, metrics.json and per-class accuracy."""
    folder = _killed_run(tmp_path, epochs_recorded=3)
    config = load_config(folder.config)
    checkpoint = {"state_dict": {}, "epoch": 2, "hyper_parameters": {"config": config.to_dict()}}
    torch.save(checkpoint, folder.last_checkpoint)
    folder.write_json(folder.metrics_json, {"top1": 50.0, "epochs": 3})
    folder.write_json(folder.per_class_json, {"accuracy": [50.0] * 10})
    return folder


@pytest.mark.usefixtures("no_training")
def test_training_a_finished_run_further_drops_its_final_results(tmp_path: Path) -> None:
    folder = _finished_run(tmp_path)
    with pytest.raises(TrainingStarted):
        train_main(["--resume", str(folder.root), "--epochs", "5"])
    assert not folder.metrics_json.exists() and not folder.per_class_json.exists()
    assert [record["epoch"] for record in folder.read_epochs()] == [1, 2, 3]


@pytest.mark.usefixtures("no_training")
def test_a_refused_resume_keeps_the_final_results(tmp_path: Path) -> None:
    folder = _finished_run(tmp_path)
    assert train_main(["--resume", str(folder.root), "--epochs", "5", "--seed", "7"]) == 2
    assert json.loads(folder.metrics_json.read_text()) == {"top1": 50.0, "epochs": 3}
    assert folder.per_class_json.is_file()
