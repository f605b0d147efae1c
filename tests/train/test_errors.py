"""Bad input: a one-line error, exit code 2, and no run files written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from aglu.train.commands import eval_main, train_main
from aglu.train.config import load_config
from aglu.train.run_folder import RunFolder

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
    assert "--data.download=true" in message  # the flag a command-line user passes
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


def test_eval_of_a_corrupt_checkpoint_names_the_other_one(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "last.ckpt").write_bytes(b"PK\x03\x04 truncated by a crash")
    assert eval_main([str(tmp_path / "run")]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert "last.ckpt" in message and "corrupt or truncated" in message
    assert message.endswith("score the other one with --checkpoint best")
    assert "resume" not in message  # the training advice does not fit an evaluation

    assert eval_main([str(checkpoints / "last.ckpt")]) == 2  # a file: --checkpoint does not apply
    message = _one_line_error(capsys.readouterr().err)
    assert message.endswith("pass another checkpoint, e.g. RUN/checkpoints/best.ckpt")


def test_eval_of_a_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert eval_main([str(tmp_path / "nope")]) == 2
    assert "nope" in _one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("override", "valid"),
    [
        ("--model.name=resnet99", "se_resnet32"),
        ("--model.act_layer=swishy", "aglu"),
        ("--model.gate_layer=foo", "apa"),
        ("--model.head=foo", "cosine"),
        ("--loss.name=focal", "gumbel_bce"),
        ("--data.sampler=foo", "class_balanced"),
        ("--eval.iif=foo", "normit"),
    ],
)
def test_unknown_names_fail_before_the_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture, override: str, valid: str
) -> None:
    out = tmp_path / "run"
    assert train_main([str(DEMO_CONFIG), "--out", str(out), override]) == 2
    message = _one_line_error(capsys.readouterr().err)
    key, value = override.removeprefix("--").split("=")
    assert f"{key}={value!r} is not one of" in message and valid in message
    assert not out.exists()


@pytest.mark.parametrize("below", [False, True])
def test_out_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture, below: bool) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me\n")
    out = existing / "run" if below else existing
    assert train_main([str(DEMO_CONFIG), "--out", str(out)]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert str(out) in message and "pass a folder path" in message
    assert ("below the file" in message) == below
    assert existing.read_text() == "keep me\n"


def test_yaml_syntax_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("model:\n  name: se_resnet32\n  head: [cosine\ntrainer:\n  epochs: 1\n")
    out = tmp_path / "run"
    assert train_main([str(config), "--out", str(out)]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert f"YAML syntax error in {config}, line 4" in message
    assert not out.exists()


def _run_without_weights(tmp_path: Path, *overrides: str) -> RunFolder:
    """A run folder as a kill leaves it: config.yaml, perhaps a checkpoint with empty weights."""
    folder = RunFolder(tmp_path / "run")
    config = load_config(DEMO_CONFIG, [*TINY, *overrides, "--out", str(folder.root)])
    folder.create(config.dump())
    return folder


def _fake_checkpoint(folder: RunFolder, epoch: int = 0) -> None:
    config = load_config(folder.config)
    state = {"state_dict": {}, "epoch": epoch, "hyper_parameters": {"config": config.to_dict()}}
    torch.save(state, folder.last_checkpoint)


def test_eval_rejects_a_bad_iif_variant_first(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = _run_without_weights(tmp_path)
    _fake_checkpoint(folder)
    assert eval_main([str(folder.root), "--iif", "foo"]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert "eval.iif='foo' is not one of" in message and "rel" in message


@pytest.mark.parametrize("command", ["resume", "eval"])
def test_model_keys_cannot_change(
    tmp_path: Path, capsys: pytest.CaptureFixture, command: str
) -> None:
    folder = _run_without_weights(tmp_path)
    _fake_checkpoint(folder)
    before = folder.config.read_text()
    if command == "resume":
        code = train_main(["--resume", str(folder.root), "--model.act_layer=relu"])
    else:
        code = eval_main([str(folder.root), "--model.act_layer=relu"])
    assert code == 2
    message = _one_line_error(capsys.readouterr().err)
    assert f"model keys cannot change on {command}" in message
    assert "model.act_layer='relu' (the run has 'aglu')" in message
    assert folder.config.read_text() == before


def test_eval_best_before_any_validation(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = _run_without_weights(tmp_path)
    _fake_checkpoint(folder)
    assert eval_main([str(folder.root), "--checkpoint", "best"]) == 2
    assert "no validation epoch has run yet" in _one_line_error(capsys.readouterr().err)


@requires_fashion_mnist
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["--trainer.strategy=dpp"], "trainer.strategy='dpp' is not one of auto, ddp"),
        (["--eval.val_samples=5"], "subset size 5 < 10 classes"),
        (["--trainer.init_checkpoint=NOPE"], "trainer.init_checkpoint="),
        (["--data.batch_size=15", "--devices", "2"], "data.batch_size=15 is not divisible by 2"),
        (["--data.cutmix_alpha=-1"], "data.cutmix_alpha=-1.0 must be finite and at least 0"),
    ],
)
def test_bad_input_found_before_the_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture, overrides: list[str], expected: str
) -> None:
    out = tmp_path / "run"
    overrides = [arg.replace("NOPE", str(tmp_path / "nope")) for arg in overrides]
    assert train_main([str(DEMO_CONFIG), "--out", str(out), *TINY, *overrides]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert expected in message
    if "init_checkpoint" in expected:
        assert f"{tmp_path / 'nope'}' not found" in message
    assert not out.exists()


@requires_fashion_mnist
def test_lightning_trainer_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lightning
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    def refuse(**kwargs: object) -> None:
        raise MisconfigurationException("`Trainer(devices=3)` is not valid here")

    monkeypatch.setattr(lightning, "Trainer", refuse)
    out = tmp_path / "run"
    assert train_main([str(DEMO_CONFIG), "--out", str(out), *TINY]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert (
        message
        == "aglu train: error: invalid trainer settings: `Trainer(devices=3)` is not valid here"
    )
    assert not out.exists()


@requires_fashion_mnist
@pytest.mark.parametrize("out_exists", [False, True])
def test_bad_input_found_by_lightning_removes_the_new_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, out_exists: bool
) -> None:
    # a check that only fails once fit has begun, before training: the safety net
    from aglu.train.datamodule import LongTailDataModule

    def refuse(self: LongTailDataModule) -> None:
        raise ValueError("data.sampler cannot shard these images")

    monkeypatch.setattr(LongTailDataModule, "train_dataloader", refuse)
    out = tmp_path / "run"
    if out_exists:
        out.mkdir()
    assert train_main([str(DEMO_CONFIG), "--out", str(out), "--epochs", "1", *TINY]) == 2
    assert _one_line_error(capsys.readouterr().err) == (
        "aglu train: error: data.sampler cannot shard these images"
    )
    assert out.exists() == out_exists
    assert not out.exists() or list(out.iterdir()) == []


@requires_fashion_mnist
def test_fresh_run_into_an_unfinished_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = _run_without_weights(tmp_path)
    folder.append_epoch({"epoch": 1, "train_loss": 2.0})
    _fake_checkpoint(folder)
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.root.rglob("*") if p.is_file()
    }
    assert train_main([str(DEMO_CONFIG), "--out", str(folder.root), *TINY]) == 2
    message = _one_line_error(capsys.readouterr().err)
    out = folder.root
    assert message == (
        f"aglu train: error: {out} holds files; pass another --out or `aglu train --resume {out}`"
    )
    after = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.root.rglob("*") if p.is_file()
    }
    assert after == before


@pytest.mark.parametrize(
    ("override", "changed"),
    [
        ("--seed=3", "trainer.seed=3 (the run has 0)"),
        ("--data.batch_size=32", "data.batch_size=32 (the run has 16)"),
        ("--optim.lr=0.5", "optim.lr=0.5 (the run has 0.1)"),
        ("--out=elsewhere", "trainer.out='elsewhere' (the run has "),
    ],
)
def test_resume_allows_only_length_and_hardware_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture, override: str, changed: str
) -> None:
    folder = _run_without_weights(tmp_path)
    _fake_checkpoint(folder)
    before = folder.config.read_text()
    assert train_main(["--resume", str(folder.root), "--epochs", "4", override]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert message.startswith(f"aglu train: error: {changed}")
    assert "cannot change on resume (only trainer.epochs, trainer.devices, " in message
    assert "drop the override or train a new run" in message
    assert folder.config.read_text() == before
