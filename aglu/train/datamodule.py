"""The Lightning data module: long-tailed training batches and exactly-once evaluation batches."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from aglu.train.config import DataConfig, EvalConfig

__all__ = [
    "EpochSeededSampler",
    "IndexedDataset",
    "LongTailDataModule",
    "balanced_subset",
    "build_datasets",
    "build_split",
    "epoch_seed",
    "seed_epoch",
]


def epoch_seed(seed: int, epoch: int, rank: int, worker: int | None = None) -> int:
    """A 32-bit seed for one process of one epoch, distinct for every (seed, epoch, rank, worker).

    ``worker`` is a loader worker's id, ``None`` for the process itself. NumPy's ``SeedSequence``
    mixes the four numbers, so no two processes share a seed (as a sum of scaled terms could).
    """
    entropy = [seed, epoch, rank, 0 if worker is None else worker + 1]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def seed_epoch(seed: int, epoch: int, rank: int, worker: int | None = None) -> None:
    """Seed Python's, NumPy's and torch's generators with :func:`epoch_seed`."""
    value = epoch_seed(seed, epoch, rank, worker)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


class EpochSeededSampler(Sampler[int]):
    """A training sampler whose epoch, and every random generator, follow the trainer's epoch.

    The epoch is read from the fit loop's progress when iteration starts (and each loader worker
    seeds itself from it, see :meth:`seed_worker`), not from ``trainer.current_epoch`` or hooks:
    after a resume from an end-of-epoch checkpoint Lightning creates the first iterator before
    ``current_epoch`` moves on, and skips that epoch's ``on_train_epoch_start``. An epoch's order,
    augmentations, mixing and dropout so depend only on (seed, epoch, rank), and a resumed run
    redoes its epochs exactly.
    """

    def __init__(self, sampler: Any, trainer: L.Trainer, seed: int) -> None:
        self.sampler, self.trainer, self.seed = sampler, trainer, seed

    @property
    def epoch(self) -> int:
        """The epoch about to run: epochs the fit loop has processed (also right after a resume)."""
        return self.trainer.fit_loop.epoch_progress.current.processed

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(self.epoch)

    def __iter__(self) -> Iterator[int]:
        epoch = self.epoch
        self.sampler.set_epoch(epoch)
        seed_epoch(self.seed, epoch, self.trainer.global_rank)  # the main process's generators
        return iter(self.sampler)

    def __len__(self) -> int:
        return len(self.sampler)

    def seed_worker(self, worker_id: int) -> None:
        """``worker_init_fn``: seed a loader worker from (seed, epoch, rank, worker)."""
        seed_epoch(self.seed, self.epoch, self.trainer.global_rank, worker_id)


class IndexedDataset(Dataset):
    """Yield ``(image, target, index)`` so that gathered predictions can be put back in order."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, int, int]:
        image, target = self.dataset[index]
        return image, target, index


def balanced_subset(targets: list[int], num_classes: int, size: int | None) -> list[int]:
    """The first ``size // num_classes`` positions of every class, in dataset order.

    ``None`` (or a size not smaller than the dataset) keeps every position.

    Example:
        >>> balanced_subset([0, 1, 0, 1, 0, 1], 2, 4)
        [0, 1, 2, 3]
    """
    if size is None or size >= len(targets):
        return list(range(len(targets)))
    per_class = size // num_classes
    if per_class < 1:
        raise ValueError(f"subset size {size} < {num_classes} classes; pass at least one per class")
    taken = [0] * num_classes
    kept = []
    for position, target in enumerate(targets):
        if taken[target] < per_class:
            taken[target] += 1
            kept.append(position)
    return kept


def build_split(data: DataConfig, *, train: bool) -> Dataset:
    """The training or evaluation split named by ``data``; ``DatasetNotFoundError`` if absent."""
    from aglu.data import build_dataset, build_transforms

    options: dict = {
        "max_count": data.max_count,
        "imbalance_factor": data.imbalance_factor,
        "profile": data.profile,
        "download": data.download,
    }
    for key in ("train_list", "eval_list", "image_root"):
        if getattr(data, key) is not None:
            options[key] = getattr(data, key)
    transform = build_transforms(
        data.recipe,
        train=train,
        image_size=data.image_size,
        resize_size=data.resize_size,
        cutout_size=data.cutout_size,
    )
    return build_dataset(data.name, data.root, train=train, transform=transform, **options)


def build_datasets(data: DataConfig) -> tuple[Dataset, Dataset]:
    """The training and test splits named by ``data``."""
    return build_split(data, train=True), build_split(data, train=False)


class LongTailDataModule(L.LightningDataModule):
    """Loaders over ready-made datasets, sharded over the processes of a distributed run.

    Training batches come from :func:`aglu.data.build_sampler` (``data.sampler``), so a resumed
    or distributed run sees the same images per epoch; ``data.batch_size`` is the total batch
    over all processes. Evaluation uses :class:`aglu.data.DistributedEvalSampler`, which gives
    every image to exactly one process, on a balanced subset of ``eval.val_samples`` images during
    training and ``eval.test_samples`` (``None``: all) at the end.

    Args:
        train_set: the long-tailed training split (``.targets``, ``.num_classes``).
        test_set: the balanced evaluation split.
        data: the data section of the config.
        evaluation: the eval section of the config.
        seed: seed of the training sampler.
    """

    def __init__(
        self,
        train_set: Dataset | None,
        test_set: Dataset,
        data: DataConfig,
        evaluation: EvalConfig,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.train_set, self.test_set = train_set, test_set
        self.data, self.evaluation, self.seed = data, evaluation, seed
        targets, num_classes = test_set.targets, test_set.num_classes
        self.val_indices = balanced_subset(targets, num_classes, evaluation.val_samples)
        self.test_indices = balanced_subset(targets, num_classes, evaluation.test_samples)

    def _world(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    def train_steps_per_epoch(self) -> int:
        """Optimiser steps per epoch, from the sampler's length (no loader iterator is made)."""
        world_size, rank = self._world()
        sampler = self._train_sampler(world_size, rank)
        return math.ceil(len(sampler) / (self.data.batch_size // world_size))

    def _train_sampler(self, world_size: int, rank: int) -> Any:
        from aglu.data import build_sampler

        return build_sampler(
            self.data.sampler,
            self.train_set.targets,
            num_replicas=world_size,
            rank=rank,
            seed=self.seed,
            repeats=self.data.repeats,
        )

    def train_dataloader(self) -> DataLoader:
        world_size, rank = self._world()
        if self.data.batch_size % world_size:
            raise ValueError(
                f"data.batch_size={self.data.batch_size} is not divisible by {world_size} "
                "processes; pass a multiple of the process count"
            )
        sampler = self._train_sampler(world_size, rank)
        seeded = EpochSeededSampler(sampler, self.trainer, self.seed)
        return DataLoader(
            self.train_set,
            batch_size=self.data.batch_size // world_size,
            sampler=seeded,
            num_workers=self.data.num_workers,
            worker_init_fn=seeded.seed_worker,
            persistent_workers=False,  # fresh workers per epoch: seeded from the epoch's RNG state
        )

    def _eval_loader(self, indices: list[int]) -> DataLoader:
        from aglu.data import DistributedEvalSampler

        world_size, rank = self._world()
        subset = Subset(IndexedDataset(self.test_set), indices)
        return DataLoader(
            subset,
            batch_size=self.evaluation.batch_size,
            sampler=DistributedEvalSampler(len(subset), num_replicas=world_size, rank=rank),
            num_workers=self.data.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader(self.val_indices)

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader(self.test_indices)
