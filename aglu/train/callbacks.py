"""Training callbacks: step timing and data wait, the per-epoch record, last-epoch validation."""

from __future__ import annotations

import logging
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar

from aglu.train.module import LongTailModule, activation_parameters
from aglu.train.run_folder import RunFolder

__all__ = ["EpochRecorder", "ProgressBar", "StepTimer", "TrainingStarted", "ValidateLastEpoch"]

logger = logging.getLogger(__name__)


class StepTimer(L.Callback):
    """Measure images per second and the share of step time spent waiting for data.

    The wait is the time from one step's end (or the epoch's start) to the next step's start: the
    time the loop spends getting the next batch from the loader. Images per second count the
    images of all processes.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.epoch_wait = 0.0
        self.epoch_images = 0
        self.epoch_start = self.last_end = time.perf_counter()

    @property
    def epoch_time(self) -> float:
        return max(self.last_end - self.epoch_start, 1e-9)

    @property
    def epoch_images_per_s(self) -> float:
        return self.epoch_images / self.epoch_time

    @property
    def epoch_wait_share(self) -> float:
        return self.epoch_wait / self.epoch_time

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._reset()  # a resumed run may skip the first on_train_epoch_start

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._reset()

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_index: int
    ) -> None:
        self.epoch_wait += time.perf_counter() - self.last_end

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_index: int,
    ) -> None:
        self.last_end = time.perf_counter()
        self.epoch_images += len(batch[1]) * trainer.world_size
        pl_module.log("img/s", self.epoch_images_per_s, prog_bar=True, logger=False)


class TrainingStarted(L.Callback):
    """Note when training begins (``started``): an error before it comes from the input.

    ``on_train_start`` runs after the checkpoint is restored and the loaders are built, on a
    fresh run and on a resumed one.
    """

    def __init__(self) -> None:
        self.started = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = True


class ProgressBar(TQDMProgressBar):
    """Lightning's progress bar showing the loss and images/s, without the logger's version."""

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        bar = self._train_progress_bar
        if bar is not None and not bar.disable:
            bar.fp.write("\n")  # end the bar's line before the epoch's summary
            bar.fp.flush()


def _format_summary(record: dict[str, Any], epochs: int) -> str:
    """One readable line per epoch."""
    parts = [
        f"epoch {record['epoch']:>3}/{epochs}",
        f"loss {record['train_loss']:.4f}",
        f"lr {record['lr']:.4g}",
    ]
    if "val_top1" in record:
        parts.append(f"val top-1 {record['val_top1']:.2f}% (IIF {record['val_top1_iif']:.2f}%)")
    parts += [
        f"{record['images_per_s']:.0f} img/s",
        f"data wait {100 * record['data_wait_share']:.1f}%",
        f"{record['epoch_time_s']:.1f} s",
    ]
    return " | ".join(parts)


class EpochRecorder(L.Callback):
    """Append one record per epoch to ``metrics.jsonl`` and log a one-line summary of it.

    A record holds ``epoch`` (1-based), ``step``, ``train_loss``, ``lr``, ``images_per_s``,
    ``data_wait_share``, ``epoch_time_s``, the validation metrics as ``val_<key>`` when the epoch
    was evaluated, and ``activation_params`` (λ and κ of every APA / AGLU module).
    """

    def __init__(self, run_folder: RunFolder, timer: StepTimer) -> None:
        self.run_folder = run_folder
        self.timer = timer

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: LongTailModule) -> None:
        train_loss = pl_module.epoch_train_loss()  # a collective: every rank takes part
        numbers = {
            "train_loss": train_loss,
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            "images_per_s": self.timer.epoch_images_per_s,
            "data_wait_share": self.timer.epoch_wait_share,
            "epoch_time_s": self.timer.epoch_time,
        }
        if not trainer.is_global_zero:
            return
        record: dict[str, Any] = {
            "epoch": trainer.current_epoch + 1,
            "step": trainer.global_step,
            **numbers,
        }
        # to the CSV and TensorBoard logs at every epoch's end, whatever log_every_n_steps says
        for run_logger in trainer.loggers:
            epoch_metrics = {f"epoch/{key}": value for key, value in numbers.items()}
            run_logger.log_metrics({**epoch_metrics, "epoch": record["epoch"]}, record["step"])
            run_logger.save()
        result = pl_module.val_result
        if result is not None and result.epoch == trainer.current_epoch:
            record.update({f"val_{key}": value for key, value in result.metrics.items()})
        record["activation_params"] = activation_parameters(pl_module.model)
        self.run_folder.append_epoch(record)
        logger.info(_format_summary(record, trainer.max_epochs))


class ValidateLastEpoch(L.Callback):
    """Validate every ``every_n_epochs`` epochs and always at the last one.

    Lightning's ``check_val_every_n_epoch`` alone skips the last epoch when it is not a multiple
    of the interval, and a run would then end without a validation score or a ``best`` checkpoint.
    The interval is set again before every batch (an epoch's first hook can be skipped on resume).

    Args:
        every_n_epochs: the regular validation interval in epochs.
    """

    def __init__(self, every_n_epochs: int) -> None:
        self.every_n_epochs = every_n_epochs

    def _set_interval(self, trainer: L.Trainer) -> None:
        last_epoch = (
            trainer.max_epochs is not None and trainer.current_epoch + 1 >= trainer.max_epochs
        )
        trainer.check_val_every_n_epoch = 1 if last_epoch else self.every_n_epochs

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._set_interval(trainer)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._set_interval(trainer)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_index: int
    ) -> None:
        self._set_interval(trainer)
