"""The Lightning module: a model of :func:`aglu.models.create`, its loss, optimiser and scores."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from aglu.train.config import TrainConfig
from aglu.train.evaluation import EvalResult, evaluate_logits

__all__ = ["LongTailModule", "activation_parameters", "load_initial_weights", "warmup_cosine"]


def activation_parameters(model: nn.Module) -> dict[str, dict[str, list[float]]]:
    """``{module name: {"lambda": [...], "kappa": [...]}}`` for each APA / AGLU module."""
    found = {}
    for name, module in model.named_modules():
        lambda_, kappa = getattr(module, "lambda_", None), getattr(module, "kappa", None)
        if isinstance(lambda_, Tensor) and isinstance(kappa, Tensor):
            found[name] = {
                "lambda": lambda_.detach().float().cpu().tolist(),
                "kappa": kappa.detach().float().cpu().tolist(),
            }
    return found


def load_initial_weights(model: nn.Module, run_dir_or_checkpoint: str) -> int:
    """Copy every tensor of a trained ``aglu train`` model whose name and shape match.

    A new classifier head (another class count) keeps its fresh initialisation. Returns the number
    of tensors copied.
    """
    from aglu.train.checkpoint import load_model

    source, _ = load_model(run_dir_or_checkpoint)
    own = model.state_dict()
    matching = {
        name: tensor
        for name, tensor in source.state_dict().items()
        if name in own and own[name].shape == tensor.shape
    }
    model.load_state_dict(matching, strict=False)
    return len(matching)


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Learning-rate multiplier: linear warm-up to 1, then a cosine decay to ``min_ratio``.

    Example:
        >>> [round(warmup_cosine(s, 10, 2, 0.0), 3) for s in (0, 1, 2, 6, 10)]
        [0.333, 0.667, 1.0, 0.5, 0.0]
    """
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _gather(tensors: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Concatenate per-process tensors from every process (a no-op in a single process).

    TODO(#4): every process receives all logits, though only rank 0 writes results. On the
    iNaturalist 2018 test split that is 24,426 images x 8,142 classes x 4 bytes = 0.8 GB per
    process, held twice while pickled parts are concatenated (about 1.6 GB), so about 13 GB of
    host memory on a node of 8 processes (ImageNet-LT: 50,000 x 1,000 x 4 = 0.2 GB each).
    Gathering to rank 0 and broadcasting the few scores the others log would keep 1.6 GB on one.
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return tensors
    gathered: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(gathered, tensors)
    return tuple(torch.cat(parts) for parts in zip(*gathered, strict=True))


class LongTailModule(L.LightningModule):
    """Train a classifier with a long-tail loss and score it with and without the IIF offset.

    The network lives in ``self.model`` (checkpoint keys ``model.*``); with ``trainer.ema_decay``
    an exponential moving average of it (``ema.*``) is what validation and testing score.

    Args:
        config: the run's config as nested dicts (saved in the checkpoint's hyper-parameters).
        class_counts: training images per class (for the loss, the IIF offset and shot groups).
    """

    def __init__(self, config: dict[str, dict[str, Any]], class_counts: list[int]) -> None:
        super().__init__()
        from aglu.data import build_mix
        from aglu.losses import build_loss
        from aglu.models import create

        self.save_hyperparameters()
        self.config = TrainConfig.from_dict(config)
        self.class_counts = list(class_counts)
        self.model = create(**config["model"])
        if self.config.optim.train_only is not None:  # fine-tuning: the rest stays as it is
            prefixes = tuple(self.config.optim.train_only)
            for name, parameter in self.model.named_parameters():
                parameter.requires_grad_(name.startswith(prefixes))
        loss = self.config.loss
        self.criterion = build_loss(
            loss.name,
            class_counts=self.class_counts,
            label_smoothing=loss.label_smoothing,
            drw_start_epoch=loss.drw_start_epoch,
        )
        self.mix = build_mix(  # None when both alphas are 0
            self.config.data.mixup_alpha,
            self.config.data.cutmix_alpha,
            self.config.model.num_classes,
        )
        self.ema = None
        if self.config.trainer.ema_decay:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            self.ema = AveragedModel(
                self.model,
                multi_avg_fn=get_ema_multi_avg_fn(self.config.trainer.ema_decay),
                use_buffers=True,
            )
            self.ema.requires_grad_(False)
        self.train_loss_sum = torch.zeros((), dtype=torch.float64)
        self.train_sample_count = 0
        self._eval_outputs: list[tuple[Tensor, Tensor, Tensor]] = []
        self.val_result: EvalResult | None = None
        self.test_result: EvalResult | None = None

    def forward(self, images: Tensor) -> Tensor:
        return self.model(images)

    @property
    def scored_model(self) -> nn.Module:
        """The network that evaluation scores: the EMA when there is one."""
        return self.ema.module if self.ema is not None else self.model

    # training
    def on_train_batch_start(self, batch: Any, batch_index: int) -> None:
        # at an epoch's first batch rather than in on_train_epoch_start, which Lightning skips
        # for the first epoch after a resume from an end-of-epoch checkpoint
        if batch_index == 0:
            if hasattr(self.criterion, "set_epoch"):
                self.criterion.set_epoch(self.current_epoch)
            self.train_loss_sum = torch.zeros((), dtype=torch.float64)
            self.train_sample_count = 0
            self._freeze_frozen_modules()  # Lightning set every module to train mode again

    def _freeze_frozen_modules(self) -> None:
        """Put modules whose parameters are all frozen (``optim.train_only``) in eval mode.

        Their batch-norm layers then normalise with the trained statistics and leave them as
        they are, instead of re-estimating them from the fine-tuning batches.
        """
        for module in self.model.modules():
            parameters = list(module.parameters())
            if parameters and not any(parameter.requires_grad for parameter in parameters):
                module.eval()

    def training_step(self, batch: tuple[Tensor, Tensor], batch_index: int) -> Tensor:
        images, targets = batch
        if self.mix is not None:
            images, targets = self.mix(images, targets)
        loss = self.criterion(self.model(images), targets)
        self.log("train/loss", loss.detach(), prog_bar=True)
        self.train_loss_sum += loss.detach().double().cpu() * images.shape[0]
        self.train_sample_count += images.shape[0]
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_index: int) -> None:
        if self.ema is not None:
            self.ema.update_parameters(self.model)

    def epoch_train_loss(self) -> float:
        """Mean training loss of the current epoch over all processes."""
        totals = torch.stack([self.train_loss_sum, torch.tensor(float(self.train_sample_count))])
        totals = self.trainer.strategy.reduce(totals.to(self.device), reduce_op="sum").cpu()
        return float(totals[0] / totals[1].clamp(min=1))

    def configure_optimizers(self) -> dict[str, Any]:
        from aglu.optim import param_groups

        optim = self.config.optim
        groups = param_groups(self.model, weight_decay=optim.weight_decay)
        groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
        groups = [group for group in groups if group["params"]]
        if optim.name == "sgd":
            optimizer = torch.optim.SGD(
                groups, lr=optim.lr, momentum=optim.momentum, nesterov=optim.nesterov
            )
        else:
            optimizer = torch.optim.AdamW(groups, lr=optim.lr)
        # from the data module, not trainer.estimated_stepping_batches: that builds a loader
        # iterator before a checkpoint is restored, and Lightning reuses it for the first epoch
        steps_per_epoch = self.trainer.datamodule.train_steps_per_epoch()
        total_steps = max(1, steps_per_epoch * self.config.trainer.epochs)
        warmup_steps = round(optim.warmup_epochs * steps_per_epoch)
        min_ratio = optim.min_lr / optim.lr if optim.lr else 0.0
        if optim.schedule == "cosine":
            schedule = lambda step: warmup_cosine(step, total_steps, warmup_steps, min_ratio)  # noqa: E731
        else:
            schedule = lambda step: min(1.0, (step + 1) / (warmup_steps + 1))  # noqa: E731
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    # evaluation
    def _score(self, batch: tuple[Tensor, Tensor, Tensor]) -> None:
        images, targets, indices = batch
        logits = self.scored_model(images).float()
        self._eval_outputs.append((indices.cpu(), logits.cpu(), targets.cpu()))

    def _gathered_result(self, expected: int) -> EvalResult:
        """Gather every process's scores, check each image was scored once, and evaluate."""
        outputs, self._eval_outputs = self._eval_outputs, []
        if outputs:
            indices, logits, targets = (torch.cat(parts) for parts in zip(*outputs, strict=True))
        else:
            empty = torch.zeros(0, dtype=torch.long)
            indices, logits = empty, torch.zeros(0, self.config.model.num_classes)
            targets = empty
        indices, logits, targets = _gather((indices, logits, targets))
        order = torch.argsort(indices)
        indices, logits, targets = indices[order], logits[order], targets[order]
        if len(indices) != expected or bool((indices[1:] == indices[:-1]).any()):
            raise RuntimeError(
                f"{len(indices)} scores ({len(indices.unique())} distinct) for {expected} images"
            )
        evaluation = self.config.eval
        return evaluate_logits(
            logits,
            targets,
            self.class_counts,
            iif_variant=evaluation.iif,
            num_bins=evaluation.num_bins,
            many_threshold=evaluation.many_threshold,
            few_threshold=evaluation.few_threshold,
        )

    def on_validation_epoch_start(self) -> None:
        self._eval_outputs = []

    def validation_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_index: int) -> None:
        self._score(batch)

    def on_validation_epoch_end(self) -> None:
        expected = len(self.trainer.val_dataloaders.dataset)
        self.val_result = self._gathered_result(expected)
        self.val_result.epoch = self.current_epoch
        for key in ("top1", "top1_iif"):
            self.log(f"val/{key}", self.val_result.metrics[key], sync_dist=True)  # same on all

    def on_test_epoch_start(self) -> None:
        self._eval_outputs = []

    def test_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_index: int) -> None:
        self._score(batch)

    def on_test_epoch_end(self) -> None:
        self.test_result = self._gathered_result(len(self.trainer.test_dataloaders.dataset))
