"""``aglu train`` and ``aglu eval``: check the input, run Lightning, write the run folder."""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["eval_main", "train_main"]

logger = logging.getLogger(__name__)

RUN_DIR_ENV = "AGLU_RUN_DIR"  # the parent's run folder, for processes launched by Lightning

TRAIN_USAGE = """\
usage: aglu train CONFIG [--epochs N] [--out DIR] [--seed N] [--devices N] [--section.key=VALUE ...]
       aglu train --resume RUN_DIR [overrides]

Train a model from a YAML experiment file (see configs/). Any config key can be overridden as
--section.key=VALUE, e.g. --data.root=PATH --model.act_layer=relu --trainer.accelerator=gpu.
Sections: model, data, optim, loss, trainer, eval. `aglu train --help-config` lists every key."""

EVAL_USAGE = """\
usage: aglu eval RUN_DIR_OR_CHECKPOINT [--iif VARIANT] [--checkpoint last|best] [--output FILE]
                 [--devices N] [--section.key=VALUE ...]

Score a trained run on its evaluation split, with and without the IIF logit offset."""

USER_ERRORS = (ValueError, TypeError, FileNotFoundError)


def _take(argv: list[str], flag: str) -> str | None:
    """Remove ``flag VALUE`` or ``flag=VALUE`` from ``argv`` and return VALUE (None if absent)."""
    for index, arg in enumerate(argv):
        if arg == flag:
            if index + 1 >= len(argv):
                raise ValueError(f"{flag} needs a value")
            value = argv[index + 1]
            del argv[index : index + 2]
            return value
        if arg.startswith(flag + "="):
            del argv[index]
            return arg.split("=", 1)[1]
    return None


def _is_global_zero() -> bool:
    from lightning.pytorch.utilities import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0


def _check_accelerator(config: Any) -> None:
    """Fail early, with the fix, when GPUs are asked for where there are none (or too few)."""
    import torch

    trainer = config.trainer
    if trainer.accelerator not in ("gpu", "cuda"):
        return
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if available == 0:
        raise ValueError(
            f"trainer.accelerator={trainer.accelerator!r} but no CUDA GPU is visible; "
            "pass --trainer.accelerator=cpu"
        )
    if trainer.devices > available:
        raise ValueError(
            f"trainer.devices={trainer.devices} but only {available} GPU(s) are visible; "
            f"pass --devices {available} or fewer"
        )


def _check_model_matches_data(config: Any, dataset: Any) -> None:
    if config.model.num_classes != dataset.num_classes:
        raise ValueError(
            f"model.num_classes={config.model.num_classes} but {config.data.name} has "
            f"{dataset.num_classes} classes; pass --model.num_classes={dataset.num_classes}"
        )


def _check_model_unchanged(saved: Any, config: Any, command: str) -> None:
    """Refuse overrides of model keys on resume or eval: the weights fit only the saved model."""
    changed = [
        f"model.{key}={value!r} (the run has {getattr(saved.model, key)!r})"
        for key, value in vars(config.model).items()
        if value != getattr(saved.model, key)
    ]
    if changed:
        raise ValueError(
            f"model keys cannot change on {command}: {', '.join(changed)}; drop the override "
            "or train a new run"
        )


# Keys a resumed run may change: how long it runs and on what hardware, not what it computes.
RESUME_OVERRIDES = (
    "trainer.epochs",
    "trainer.devices",
    "trainer.num_nodes",
    "trainer.num_threads",
    "trainer.progress_bar",
    "trainer.accelerator",
    "trainer.log_every_n_steps",
)


def _check_resume_overrides(saved: Any, config: Any) -> None:
    """Refuse overrides on resume besides :data:`RESUME_OVERRIDES` (model keys: see above)."""
    changed = [
        f"{section}.{key}={value!r} (the run has {getattr(getattr(saved, section), key)!r})"
        for section, values in vars(config).items()
        if section != "model"
        for key, value in vars(values).items()
        if f"{section}.{key}" not in RESUME_OVERRIDES
        and value != getattr(getattr(saved, section), key)
    ]
    if changed:
        raise ValueError(
            f"{', '.join(changed)} cannot change on resume (only "
            f"{', '.join(RESUME_OVERRIDES)} can); drop the override or train a new run"
        )


def _check_out(out: Path) -> None:
    """Refuse an output folder that is a file or lies below one."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "is a file" if folder == out else f"is below the file {str(folder)!r}"
                raise ValueError(f"--out {str(out)!r} {where}; pass a folder path")
            return


def _check_output_file(output: Path) -> None:
    """Refuse an ``aglu eval --output`` that is a folder or lies below a file."""
    if output.is_dir():
        raise ValueError(f"--output {str(output)!r} is a folder; pass a file path")
    for folder in output.parents:
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(
                    f"--output {str(output)!r} is below the file {str(folder)!r}; pass a file path"
                )
            return


def _quiet_lightning() -> None:
    """Let Lightning's messages reach the terminal once (through the root logger), tips dropped."""
    for name in ("lightning.pytorch", "lightning.fabric"):
        lightning_logger = logging.getLogger(name)
        lightning_logger.handlers.clear()
        lightning_logger.propagate = True
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)


def _csv_log_version(run_folder: Any, resuming: bool) -> str:
    """``csv``, or on resume the next free ``csv-resume-N``.

    Lightning's CSV writer deletes the ``metrics.csv`` of a folder it finds non-empty: each
    resumed part of a run so logs to a folder of its own, and none is lost.
    """
    if not resuming:
        return "csv"
    number = 1
    while (run_folder.logs / f"csv-resume-{number}").exists():
        number += 1
    return f"csv-resume-{number}"


def _build_trainer(
    config: Any, run_folder: Any, callbacks: list, *, logs: bool, csv_version: str = "csv"
) -> Any:
    import lightning as L
    import torch
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    from aglu.train.callbacks import ValidateLastEpoch
    from aglu.train.checkpoint import AtomicCheckpointIO

    trainer_config = config.trainer
    _quiet_lightning()
    if trainer_config.num_threads:
        torch.set_num_threads(trainer_config.num_threads)
    strategy = trainer_config.strategy
    if strategy == "auto" and trainer_config.devices * trainer_config.num_nodes > 1:
        strategy = "ddp"  # one process per device, launched as a script (or by torchrun / SLURM)
    loggers: Any = False
    if logs:
        from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

        loggers = [
            TensorBoardLogger(run_folder.logs, name="", version="tensorboard"),
            CSVLogger(run_folder.logs, name="", version=csv_version),
        ]
    plugins: list = [AtomicCheckpointIO()]
    if SLURMEnvironment.detect():  # no requeue without --resume, no hpc_ckpt_* files
        plugins.append(SLURMEnvironment(auto_requeue=False))
    return L.Trainer(
        accelerator="gpu" if trainer_config.accelerator == "cuda" else trainer_config.accelerator,
        devices=trainer_config.devices,
        num_nodes=trainer_config.num_nodes,
        strategy=strategy,
        precision=trainer_config.precision,
        max_epochs=trainer_config.epochs,
        deterministic=trainer_config.deterministic,
        gradient_clip_val=trainer_config.gradient_clip_val,
        check_val_every_n_epoch=trainer_config.eval_every_n_epochs,
        num_sanity_val_steps=0,
        log_every_n_steps=trainer_config.log_every_n_steps,
        enable_progress_bar=trainer_config.progress_bar,
        enable_model_summary=False,
        use_distributed_sampler=False,
        logger=loggers,
        callbacks=[*callbacks, ValidateLastEpoch(trainer_config.eval_every_n_epochs)],
        plugins=plugins,
        default_root_dir=str(run_folder.root),
    )


def _results_table(metrics: dict[str, Any], iif_variant: str) -> str:
    """The final metrics as a small table, raw against IIF-adjusted."""
    from aglu.train.evaluation import METRIC_NAMES

    def cell(value: float | None, width: int) -> str:
        # a shot group without classes has no score: NaN in memory, null in metrics.json
        if value is None or not math.isfinite(value):
            return f"{'–':>{width + 1}}"
        return f"{value:>{width}.2f}%"

    titles = {"top1": "top-1", "top5": "top-5", "ece": "ECE"}
    lines = [f"{'metric':<8}{'raw':>9}{'IIF (' + iif_variant + ')':>14}"]
    for name in METRIC_NAMES:
        raw, adjusted = metrics.get(name), metrics.get(name + "_iif")
        lines.append(f"{titles.get(name, name):<8}{cell(raw, 8)}{cell(adjusted, 13)}")
    return "\n".join(lines)


def _throughput(records: list[dict[str, Any]]) -> dict[str, float]:
    """Images per second and data-wait share over every recorded epoch (resumed ones included)."""
    seconds = sum(record["epoch_time_s"] for record in records)
    images = sum(record["images_per_s"] * record["epoch_time_s"] for record in records)
    waited = sum(record["data_wait_share"] * record["epoch_time_s"] for record in records)
    return {
        "images_per_s": images / seconds if seconds else 0.0,
        "data_wait_share": waited / seconds if seconds else 0.0,
        "train_time_s": seconds,
    }


def _prepare_train(argv: list[str]) -> dict[str, Any]:
    """Everything that can fail on bad input, before any file is written."""
    from aglu.losses import iif_offsets
    from aglu.train.checkpoint import read_checkpoint
    from aglu.train.config import load_config
    from aglu.train.datamodule import build_datasets
    from aglu.train.run_folder import RunFolder, default_run_dir

    resume = _take(argv, "--resume")
    checkpoint = None
    if resume is not None:
        run_folder = RunFolder(resume)
        if not run_folder.config.is_file():
            raise FileNotFoundError(f"{resume!r} has no config.yaml; pass the folder of a run")
        config, saved = load_config(run_folder.config, argv), load_config(run_folder.config)
        _check_model_unchanged(saved, config, "resume")
        _check_resume_overrides(saved, config)
        # no checkpoint yet (killed in its first epoch): the run starts afresh in its folder
        if run_folder.last_checkpoint.exists():
            checkpoint = read_checkpoint(run_folder.last_checkpoint)
    else:
        if not argv or argv[0].startswith("-"):
            raise ValueError("missing CONFIG; run e.g. `aglu train configs/fashion_mnist_lt.yaml`")
        config_path, overrides = argv[0], argv[1:]
        config = load_config(config_path, overrides)
        if not _is_global_zero() and os.environ.get(RUN_DIR_ENV):
            out = Path(os.environ[RUN_DIR_ENV])
        else:
            out = Path(config.trainer.out) if config.trainer.out else default_run_dir(config_path)
        _check_out(out)
        config.trainer.out = str(out)
        run_folder = RunFolder(out)
        if _is_global_zero() and run_folder.metrics_json.exists():
            raise ValueError(
                f"{str(out)!r} already holds a finished run; pass another --out or --resume it"
            )
        if _is_global_zero() and out.is_dir() and any(out.iterdir()):  # two runs would mix
            raise ValueError(
                f"{out} holds files; pass another --out or `aglu train --resume {out}`"
            )
    _check_accelerator(config)
    _check_batch_split(config)
    train_set, test_set = build_datasets(config.data)
    _check_model_matches_data(config, train_set)
    iif_offsets(train_set.class_counts, config.eval.iif)  # rejects a bad variant or empty class
    plan = {
        "config": config,
        "run_folder": run_folder,
        "created": not run_folder.root.exists(),
        "checkpoint": checkpoint,
        "resume": resume is not None,
    }
    return {**plan, **_build_parts(config, run_folder, train_set, test_set, checkpoint)}


def _check_batch_split(config: Any) -> None:
    """Each process loads ``data.batch_size / processes`` images: the split must be even."""
    processes = config.trainer.devices * config.trainer.num_nodes
    if config.data.batch_size % processes:
        raise ValueError(
            f"data.batch_size={config.data.batch_size} is not divisible by {processes} "
            "processes (trainer.devices x trainer.num_nodes); pass a multiple of the process count"
        )


def _load_init_checkpoint(module: Any, path: str) -> None:
    """Start from the weights of ``trainer.init_checkpoint``, naming the key when it fails."""
    from aglu.train.module import load_initial_weights

    try:
        copied = load_initial_weights(module.model, path)
    except USER_ERRORS as error:
        raise type(error)(f"trainer.init_checkpoint={path!r}: {error}") from None
    logger.info("initialised %d tensors from %s", copied, path)


def _build_parts(
    config: Any, run_folder: Any, train_set: Any, test_set: Any, checkpoint: dict | None
) -> dict[str, Any]:
    """The module, data module and trainer: built before any file is written, as they can fail."""
    import lightning as L
    from lightning.fabric.utilities.exceptions import MisconfigurationException
    from lightning.pytorch.callbacks import ModelCheckpoint

    from aglu.train.callbacks import EpochRecorder, ProgressBar, StepTimer, TrainingStarted
    from aglu.train.datamodule import LongTailDataModule
    from aglu.train.module import LongTailModule

    L.seed_everything(config.trainer.seed, workers=True, verbose=False)
    module = LongTailModule(config.to_dict(), train_set.class_counts)
    if config.trainer.init_checkpoint and checkpoint is None:
        _load_init_checkpoint(module, config.trainer.init_checkpoint)
    data = LongTailDataModule(
        train_set, test_set, config.data, config.eval, seed=config.trainer.seed
    )
    timer, started = StepTimer(), TrainingStarted()
    callbacks = [
        started,
        timer,
        EpochRecorder(run_folder, timer),
        ModelCheckpoint(
            dirpath=run_folder.checkpoints,
            filename="last",
            save_on_train_epoch_end=True,
            enable_version_counter=False,
        ),
        ModelCheckpoint(
            dirpath=run_folder.checkpoints,
            filename="best",
            monitor="val/top1_iif",  # eval.iif always names a variant (checked in the config)
            mode="max",
            save_on_train_epoch_end=False,
            enable_version_counter=False,
        ),
    ]
    if config.trainer.progress_bar:
        callbacks.insert(0, ProgressBar())  # before EpochRecorder: its line ends the bar's
    try:
        csv_version = _csv_log_version(run_folder, resuming=checkpoint is not None)
        trainer = _build_trainer(config, run_folder, callbacks, logs=True, csv_version=csv_version)
    except MisconfigurationException as error:  # Lightning's own check of the trainer settings
        raise ValueError(f"invalid trainer settings: {error}") from None
    return {"module": module, "data": data, "trainer": trainer, "started": started}


def _prepare_folder(plan: dict[str, Any]) -> None:
    """Create the run folder, or trim a resumed one to what its checkpoint holds."""
    config, run_folder, checkpoint = plan["config"], plan["run_folder"], plan["checkpoint"]
    if checkpoint is not None:  # drop records of epochs the checkpoint does not hold
        run_folder.keep_epochs_up_to(checkpoint["epoch"] + 1)
        run_folder.clear_final_results()  # a finished run trained further: they would be stale
    elif plan["resume"]:
        logger.info(
            "%s has no checkpoint yet: starting the run afresh from epoch 0", run_folder.root
        )
        run_folder.clear_results()
    run_folder.create(config.dump())  # written again on resume: config.yaml matches the run


def _undo_fresh_run(plan: dict[str, Any]) -> None:
    """Remove what a fresh run wrote before training started (its folder, if this call made it)."""
    import shutil

    root = plan["run_folder"].root
    if plan["resume"] or not _is_global_zero():
        return
    if plan["created"]:
        shutil.rmtree(root, ignore_errors=True)
        return
    for path in root.iterdir():  # an existing empty --out: empty it again
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _train(plan: dict[str, Any]) -> int:
    from aglu.train.figures import draw_run_figures

    config, run_folder, checkpoint = plan["config"], plan["run_folder"], plan["checkpoint"]
    module, trainer = plan["module"], plan["trainer"]
    os.environ[RUN_DIR_ENV] = str(run_folder.root)
    try:
        if _is_global_zero():
            _prepare_folder(plan)
        ckpt_path = str(run_folder.last_checkpoint) if checkpoint is not None else None
        trainer.fit(module, datamodule=plan["data"], ckpt_path=ckpt_path)
    except SystemExit:  # Lightning's answer to Ctrl-C (KeyboardInterrupt): exit 1, no word
        if not trainer.interrupted:
            raise
        print(
            f"aglu train: interrupted; every finished epoch is kept: continue with "
            f"`aglu train --resume {run_folder.root}`",
            file=sys.stderr,
        )
        return 130  # the shell's code for a command ended by SIGINT
    except USER_ERRORS as error:
        if plan["started"].started:  # not bad input: a failure while training
            raise
        _undo_fresh_run(plan)
        return _fail("train", error)
    trainer.test(module, datamodule=plan["data"], verbose=False)
    if not trainer.is_global_zero:
        return 0

    result = module.test_result
    records = run_folder.read_epochs()
    metrics = {**result.metrics, **_throughput(records), "epochs": len(records)}
    metrics["iif_variant"] = config.eval.iif
    run_folder.write_json(run_folder.per_class_json, result.per_class)
    draw_run_figures(run_folder.figures, result, records, num_bins=config.eval.num_bins)
    run_folder.write_json(run_folder.metrics_json, metrics)  # last: it marks the run finished
    logger.info(
        "results on %d test images:\n%s",
        result.metrics["num_samples"],
        _results_table(metrics, config.eval.iif),
    )
    logger.info(
        "training: %.0f images/s, data wait %.1f%% of step time, %.0f s",
        metrics["images_per_s"],
        100 * metrics["data_wait_share"],
        metrics["train_time_s"],
    )
    logger.info("run folder: %s", run_folder.root)
    return 0


def _fail(command: str, error: BaseException) -> int:
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"aglu {command}: error: {message}", file=sys.stderr)
    return 2


def train_main(argv: list[str]) -> int:
    """Run ``aglu train``; returns the exit code (2 on bad input, with a one-line message).

    On SLURM, Lightning's automatic requeue is off (it would restart the job without
    ``--resume`` and from its own ``hpc_ckpt_*`` files): a requeued job should run
    ``aglu train --resume RUN_DIR``.
    """
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(TRAIN_USAGE)
        return 0 if argv else 2
    if argv[0] == "--help-config":
        from aglu.train.config import TrainConfig

        print(TrainConfig().dump())
        return 0
    try:
        plan = _prepare_train(argv)
    except USER_ERRORS as error:
        return _fail("train", error)
    return _train(plan)


def _prepare_eval(argv: list[str]) -> dict[str, Any]:
    from aglu.train.checkpoint import read_checkpoint, resolve_checkpoint
    from aglu.train.config import TrainConfig, expand_shortcuts, load_config
    from aglu.train.datamodule import build_datasets

    iif = _take(argv, "--iif")
    which = _take(argv, "--checkpoint") or "last"
    output = _take(argv, "--output")
    if not argv or argv[0].startswith("-"):
        raise ValueError("missing RUN_DIR_OR_CHECKPOINT; run e.g. `aglu eval runs/NAME`")
    if output is not None:
        _check_output_file(Path(output))
    path = resolve_checkpoint(argv[0], which)
    if Path(argv[0]).is_dir():
        fix = f"score the other one with --checkpoint {'best' if which == 'last' else 'last'}"
    else:
        fix = "pass another checkpoint, e.g. RUN/checkpoints/best.ckpt"
    checkpoint = read_checkpoint(path, fix=fix)
    saved = checkpoint.get("hyper_parameters", {}).get("config")
    if saved is None:
        raise ValueError(f"{str(path)!r} has no config; pass a checkpoint written by aglu train")
    overrides = expand_shortcuts(argv[1:]) + ([f"--eval.iif={iif}"] if iif is not None else [])
    saved_config = config = TrainConfig.from_dict(saved)
    if overrides:
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
            file.write(config.dump())
            file.flush()
            config = load_config(file.name, overrides)
        _check_model_unchanged(saved_config, config, "eval")
    _check_accelerator(config)
    _, test_set = build_datasets(config.data)
    _check_model_matches_data(config, test_set)
    return {"config": config, "checkpoint": checkpoint, "test_set": test_set, "output": output}


def _evaluate(plan: dict[str, Any]) -> int:
    import tempfile

    from aglu.atomic_files import atomic_write_text
    from aglu.train.datamodule import LongTailDataModule
    from aglu.train.module import LongTailModule
    from aglu.train.run_folder import RunFolder, strict_json

    config, checkpoint = plan["config"], plan["checkpoint"]
    module = LongTailModule(config.to_dict(), plan["test_set"].class_counts)
    module.load_state_dict(checkpoint["state_dict"])
    data = LongTailDataModule(None, plan["test_set"], config.data, config.eval)
    started = time.perf_counter()
    # an empty root folder: on SLURM, Lightning would load any hpc_ckpt_* file it finds there
    with tempfile.TemporaryDirectory(prefix="aglu-eval-") as root:
        trainer = _build_trainer(config, RunFolder(root), [], logs=False)
        trainer.test(module, datamodule=data, verbose=False)
    if not trainer.is_global_zero:
        return 0
    result = module.test_result
    logger.info(
        "results on %d test images (%.1f s):\n%s",
        result.metrics["num_samples"],
        time.perf_counter() - started,
        _results_table(result.metrics, config.eval.iif),
    )
    if plan["output"]:
        payload = {**result.metrics, "iif_variant": config.eval.iif}
        atomic_write_text(plan["output"], strict_json(payload, indent=2) + "\n")
        logger.info("metrics written to %s", plan["output"])
    return 0


def eval_main(argv: list[str]) -> int:
    """Run ``aglu eval``; returns the exit code (2 on bad input, with a one-line message)."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(EVAL_USAGE)
        return 0 if argv else 2
    try:
        plan = _prepare_eval(argv)
    except USER_ERRORS as error:
        return _fail("eval", error)
    return _evaluate(plan)
