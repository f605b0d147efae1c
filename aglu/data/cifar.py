"""CIFAR-10-LT and CIFAR-100-LT over torchvision's on-disk CIFAR layout (Cao et al., 2019)."""

from __future__ import annotations

import functools
import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from aglu.data.errors import DatasetNotFoundError, download_or_explain
from aglu.data.in_memory import InMemoryImageDataset, long_tail_subset
from aglu.data.long_tail import check_imbalance_factor

__all__ = ["CIFAR10LT", "CIFAR100LT", "read_cifar_batch"]

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=16)
def read_cifar_batch(path: str, label_key: str) -> tuple[Tensor, Tensor]:
    """Decode one CIFAR pickle into ``(images (N, 3, 32, 32) uint8, labels (N,) int64)``; cached.

    The returned tensors are shared between callers: treat them as read-only.
    """
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="latin1")
        data = np.asarray(batch["data"], dtype=np.uint8)
    except (EOFError, OSError, pickle.UnpicklingError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is truncated or not a CIFAR batch ({type(error).__name__}); delete the "
            "folder and fetch the data again (--data.download=true)"
        ) from None
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())  # rows are R, G, B planes
    labels = torch.as_tensor(batch[label_key], dtype=torch.long)
    return images, labels


def _read_names(path: Path, key: str) -> list[str] | None:
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        return list(pickle.load(handle, encoding="latin1")[key])


class _CIFARLT(InMemoryImageDataset):
    """Shared loading for the CIFAR-LT datasets; subclasses name the files."""

    folder: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    label_key: str
    meta_file: str
    meta_key: str
    num_classes_total: int
    torchvision_class: str
    default_imbalance_factor = 0.01

    def __init__(
        self,
        root: str | Path,
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        max_count: int | None = None,
        imbalance_factor: float | None = None,
        profile: str = "exp",
        download: bool = False,
        seed: int = 0,
    ) -> None:
        self.root = Path(root)
        if imbalance_factor is None:
            imbalance_factor = self.default_imbalance_factor
        imbalance_factor = check_imbalance_factor(imbalance_factor)

        folder = self._folder(download)
        train_images, train_labels = self._read(folder, self.train_files)
        if max_count is None:
            max_count = int(torch.bincount(train_labels, minlength=self.num_classes_total).max())
        indices, counts = long_tail_subset(
            train_labels, self.num_classes_total, max_count, imbalance_factor, profile, seed
        )
        if train:
            images, labels = train_images[indices], train_labels[indices]
        else:
            images, labels = self._read(folder, self.test_files)
            indices = torch.arange(len(labels))
        classes = _read_names(folder / self.meta_file, self.meta_key)
        super().__init__(
            images, labels.tolist(), self.num_classes_total, counts, transform, classes
        )
        self.indices = indices
        self.train = train

    def _folder(self, download: bool) -> Path:
        """The folder holding the pickles: ``root/<folder>`` or ``root`` itself."""
        for folder in (self.root / self.folder, self.root):
            if all((folder / name).is_file() for name in self.train_files + self.test_files):
                return folder
        if download:
            import torchvision.datasets

            logger.info("downloading %s into %s", self.torchvision_class, self.root)
            dataset_class = getattr(torchvision.datasets, self.torchvision_class)
            download_or_explain(
                lambda: [
                    dataset_class(str(self.root), train=t, download=True) for t in (True, False)
                ],
                self.root,
                self.torchvision_class,
                "without a network, unpack the python version from "
                "https://www.cs.toronto.edu/~kriz/cifar.html there",
            )
            return self.root / self.folder
        raise DatasetNotFoundError(
            self.root / self.folder,
            f"pass download=True (--data.download=true) to fetch it, or unpack the python version "
            f"of {self.torchvision_class} from https://www.cs.toronto.edu/~kriz/cifar.html there",
        )

    def _read(self, folder: Path, names: tuple[str, ...]) -> tuple[Tensor, Tensor]:
        parts = [read_cifar_batch(str(folder / name), self.label_key) for name in names]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


class CIFAR10LT(_CIFARLT):
    """CIFAR-10 with the common long-tailed training split (CIFAR-10-LT) and the balanced test.

    ``max_count=None`` keeps 5,000 head-class images; ρ = 100 gives 12,406 training images. Items
    are ``(3, 32, 32)`` uint8 tensors before ``transform``.

    Args:
        root: folder holding ``cifar-10-batches-py`` (torchvision's layout), or that folder itself.
        train: training split (long-tailed) or test split (balanced).
        transform: applied to each ``(3, 32, 32)`` uint8 tensor.
        max_count: head-class count; ``None`` means the full per-class count (5,000).
        imbalance_factor: 1/ρ in (0, 1]; ``None`` means 0.01.
        profile: ``"exp"`` or ``"step"``.
        download: fetch the data with torchvision into ``root`` when missing.
        seed: NumPy legacy seed of the subset selection (0 is the common split).
    """

    folder = "cifar-10-batches-py"
    train_files = tuple(f"data_batch_{i}" for i in range(1, 6))
    test_files = ("test_batch",)
    label_key = "labels"
    meta_file = "batches.meta"
    meta_key = "label_names"
    num_classes_total = 10
    torchvision_class = "CIFAR10"


class CIFAR100LT(_CIFARLT):
    """CIFAR-100 with the common long-tailed training split (CIFAR-100-LT) and the balanced test.

    ``max_count=None`` keeps 500 head-class images; ρ = 100 gives 10,847 training images.

    Args:
        root: folder holding ``cifar-100-python`` (torchvision's layout), or that folder itself.
        train: training split (long-tailed) or test split (balanced).
        transform: applied to each ``(3, 32, 32)`` uint8 tensor.
        max_count: head-class count; ``None`` means the full per-class count (500).
        imbalance_factor: 1/ρ in (0, 1]; ``None`` means 0.01.
        profile: ``"exp"`` or ``"step"``.
        download: fetch the data with torchvision into ``root`` when missing.
        seed: NumPy legacy seed of the subset selection (0 is the common split).
    """

    folder = "cifar-100-python"
    train_files = ("train",)
    test_files = ("test",)
    label_key = "fine_labels"
    meta_file = "meta"
    meta_key = "fine_label_names"
    num_classes_total = 100
    torchvision_class = "CIFAR100"
