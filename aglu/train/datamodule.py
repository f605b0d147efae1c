"""The Lightning data module: long-tailed training batches and exactly-once evaluation batches."""

from __future__ import annotations

from typing import Any

import lightning as L
from torch.utils.data import DataLoader, Dataset, Subset

from aglu.train.config import DataConfig, EvalConfig

__all__ = ["IndexedDataset", "LongTailDataModule", "balanced_subset", "build_datasets"]


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


def build_datasets(data: DataConfig) -> tuple[Dataset, Dataset]:
    """The training and test splits named by ``data`` (``DatasetNotFoundError`` if absent)."""
    from aglu.data import build_dataset, build_transforms

    common: dict = {
        "max_count": data.max_count,
        "imbalance_factor": data.imbalance_factor,
        "profile": data.profile,
        "download": data.download,
    }
    for key in ("train_list", "eval_list", "image_root"):
        if getattr(data, key) is not None:
            common[key] = getattr(data, key)
    sizes = {
        "image_size": data.image_size,
        "resize_size": data.resize_size,
        "cutout_size": data.cutout_size,
    }
    train_transform = build_transforms(data.recipe, train=True, **sizes)
    eval_transform = build_transforms(data.recipe, train=False, **sizes)
    train_set = build_dataset(data.name, data.root, train=True, transform=train_transform, **common)
    test_set = build_dataset(data.name, data.root, train=False, transform=eval_transform, **common)
    return train_set, test_set


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

    def train_dataloader(self) -> DataLoader:
        from aglu.data import build_sampler

        world_size, rank = self._world()
        if self.data.batch_size % world_size:
            raise ValueError(
                f"data.batch_size={self.data.batch_size} is not divisible by {world_size} "
                "processes; pass a multiple of the process count"
            )
        sampler = build_sampler(
            self.data.sampler,
            self.train_set.targets,
            num_replicas=world_size,
            rank=rank,
            seed=self.seed,
            repeats=self.data.repeats,
        )
        return DataLoader(
            self.train_set,
            batch_size=self.data.batch_size // world_size,
            sampler=sampler,
            num_workers=self.data.num_workers,
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
