"""On SLURM: no automatic requeue, and ``aglu eval`` loads no stray ``hpc_ckpt_*`` file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aglu.train.commands import _build_trainer, eval_main
from aglu.train.config import load_config
from aglu.train.evaluation import METRIC_NAMES
from aglu.train.run_folder import RunFolder


@pytest.fixture
def on_slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-task SLURM job step, as ``srun`` sets it up."""
    variables = {
        "SLURM_NTASKS": "1",
        "SLURM_JOB_NAME": "train",
        "SLURM_JOB_ID": "1234",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
        "SLURM_NODELIST": "localhost",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("on_slurm")
def test_lightning_does_not_requeue_on_slurm(tmp_path: Path) -> None:
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    assert SLURMEnvironment.detect()
    config = load_config(None, ["--trainer.progress_bar=false"])
    trainer = _build_trainer(config, RunFolder(tmp_path), [], logs=False)
    environment = trainer._accelerator_connector.cluster_environment
    assert isinstance(environment, SLURMEnvironment)
    assert environment.auto_requeue is False


@pytest.mark.slow
@pytest.mark.usefixtures("on_slurm")
def test_eval_on_slurm_ignores_hpc_checkpoints(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a stray file where Lightning looks for one (its root folder was the current folder)
    (tmp_path / "hpc_ckpt_1.ckpt").write_bytes(b"not a checkpoint")
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "eval.json"
    assert eval_main([str(finished_run), "--output", str(output), "--trainer.num_threads=1"]) == 0
    saved = json.loads((finished_run / "metrics.json").read_text())
    again = json.loads(output.read_text())
    for name in (*METRIC_NAMES, *(f"{n}_iif" for n in METRIC_NAMES)):
        assert again[name] == pytest.approx(saved[name], abs=1e-5), name
