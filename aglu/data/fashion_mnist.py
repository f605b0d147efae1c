"""Fashion-MNIST-LT: a long-tailed training subset of Fashion-MNIST over the real idx files."""

from __future__ import annotations

import functools
import gzip
import logging
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from aglu.data.errors import DatasetNotFoundError, download_or_explain
from aglu.data.in_memory import InMemoryImageDataset, long_tail_subset
from aglu.data.long_tail import check_imbalance_factor

__all__ = [
    "DEBIAN_FASHION_MNIST_ROOT",
    "LOCAL_FASHION_MNIST_ROOT",
    "FashionMNISTLT",
    "find_fashion_mnist_file",
    "read_idx",
]

logger = logging.getLogger(__name__)

DEBIAN_FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")
# Where scripts/get_fashion_mnist.sh downloads with torchvision when the Debian package is missing.
LOCAL_FASHION_MNIST_ROOT = Path("data")
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
HOW_TO_GET = (
    "install it with `apt-get install dataset-fashion-mnist` (files in "
    f"{DEBIAN_FASHION_MNIST_ROOT}) or pass download=True (--data.download=true) to fetch it"
)
_IDX_DTYPES = {0x08: np.uint8}


@functools.lru_cache(maxsize=8)
def read_idx(path: str) -> Tensor:
    """Decode an idx file (gzipped or not) into a uint8 tensor; cached, so call it freely.

    Args:
        path: the ``*-idx?-ubyte[.gz]`` file.

    The returned tensor is shared between callers: treat it as read-only.
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (EOFError, OSError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise ValueError(
            f"{path} is truncated or corrupt ({type(error).__name__}); delete it and fetch the "
            "data again (--data.download=true, or reinstall dataset-fashion-mnist)"
        ) from None
    if len(raw) < 4:
        raise ValueError(f"{path} is too short for an idx file ({len(raw)} bytes); fetch it again")
    zero, zero_too, dtype_code, num_dims = raw[0], raw[1], raw[2], raw[3]
    if zero or zero_too or dtype_code not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an unsigned-byte idx file (magic {raw[:4].hex()})")
    shape = tuple(int.from_bytes(raw[4 + 4 * d : 8 + 4 * d], "big") for d in range(num_dims))
    offset = 4 + 4 * num_dims
    array = np.frombuffer(raw, dtype=_IDX_DTYPES[dtype_code], offset=offset)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {array.size} values but its header says shape {shape}")
    return torch.from_numpy(array.reshape(shape).copy())


def find_fashion_mnist_file(root: Path, name: str) -> Path | None:
    """Find ``name`` (e.g. ``train-images-idx3-ubyte``) in the Debian or torchvision layout."""
    for folder in (root, root / "FashionMNIST" / "raw"):
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
    return None


def _default_root(download: bool) -> Path:
    """``root=None``: the Debian folder, else ``./data`` (torchvision's layout) if it has the data.

    With neither, ``./data`` when downloading (the Debian folder is not writable) and otherwise
    the Debian folder, whose path the not-found error then names.
    """
    local = LOCAL_FASHION_MNIST_ROOT.absolute()  # absolute: read_idx caches by path
    for root in (DEBIAN_FASHION_MNIST_ROOT, local):
        if find_fashion_mnist_file(root, "train-images-idx3-ubyte") is not None:
            return root
    return local if download else DEBIAN_FASHION_MNIST_ROOT


def _load_split(root: Path, train: bool, download: bool) -> tuple[Tensor, Tensor]:
    """Return ``(images (N, 1, 28, 28), labels (N,))`` of one split, downloading if allowed."""
    stem = "train" if train else "t10k"
    names = (f"{stem}-images-idx3-ubyte", f"{stem}-labels-idx1-ubyte")
    paths = [find_fashion_mnist_file(root, name) for name in names]
    if None in paths and download:
        from torchvision.datasets import FashionMNIST

        logger.info("downloading Fashion-MNIST into %s", root)
        download_or_explain(
            lambda: FashionMNIST(str(root), train=train, download=True),
            root,
            "Fashion-MNIST",
            "without a network, install it with `apt-get install dataset-fashion-mnist`",
        )
        paths = [find_fashion_mnist_file(root, name) for name in names]
    if None in paths:
        missing = root / f"{names[paths.index(None)]}.gz"
        raise DatasetNotFoundError(missing, HOW_TO_GET)
    images, labels = (read_idx(str(path)) for path in paths)
    if images.dim() != 3 or labels.shape != images.shape[:1]:
        raise ValueError(
            f"{paths[0]} and {paths[1]} do not match: {images.shape} vs {labels.shape}"
        )
    return images.unsqueeze(1), labels.long()  # (N, 28, 28) -> (N, 1, 28, 28)


class FashionMNISTLT(InMemoryImageDataset):
    """Fashion-MNIST with a long-tailed training split and the full, balanced test split.

    The training split keeps :func:`~aglu.data.long_tail_counts` images per class, chosen by the
    common CIFAR-LT procedure (see :func:`~aglu.data.long_tail_indices`); by default
    ``max_count=500`` and ρ = 100 give 500, 299, 179, 107, 64, 38, 23, 13, 8, 5 images (1,236). The
    test split keeps all 10,000 images (1,000 per class). Decoded files are cached in memory, each
    dataset holds its own copy of its images, and items are ``(1, 28, 28)`` uint8 tensors before
    ``transform``.

    Args:
        root: folder with the four ``*-ubyte.gz`` files (the Debian layout) or torchvision's
            ``FashionMNIST/raw`` beneath it; ``None`` means the Debian package's folder, or
            ``./data`` (where ``scripts/get_fashion_mnist.sh`` downloads) when that lacks the data.
        train: training split (long-tailed) or test split (balanced).
        transform: applied to each ``(1, 28, 28)`` uint8 tensor.
        max_count: head-class count; ``None`` means 500.
        imbalance_factor: 1/ρ in (0, 1]; ``None`` means 0.01.
        profile: ``"exp"`` or ``"step"``.
        download: fetch the files with torchvision into ``root`` when missing.
        seed: NumPy legacy seed of the subset selection.

    Attributes:
        class_counts: per-class counts of the long-tailed *training* split (on both splits).
        indices: positions of the kept images in the full split.
    """

    default_max_count = 500
    default_imbalance_factor = 0.01

    def __init__(
        self,
        root: str | Path | None = None,
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        max_count: int | None = None,
        imbalance_factor: float | None = None,
        profile: str = "exp",
        download: bool = False,
        seed: int = 0,
    ) -> None:
        root = _default_root(download) if root is None else Path(root)
        max_count = self.default_max_count if max_count is None else max_count
        if imbalance_factor is None:
            imbalance_factor = self.default_imbalance_factor
        imbalance_factor = check_imbalance_factor(imbalance_factor)

        train_images, train_labels = _load_split(root, train=True, download=download)
        indices, counts = long_tail_subset(
            train_labels, len(CLASSES), max_count, imbalance_factor, profile, seed
        )
        if train:
            images, labels = train_images[indices], train_labels[indices]  # indexing copies
        else:
            images, labels = _load_split(root, train=False, download=download)
            images = images.clone()  # own copy: items must not be views of read_idx's cache
            indices = torch.arange(len(labels))
        super().__init__(images, labels.tolist(), len(CLASSES), counts, transform, CLASSES)
        self.indices = indices
        self.root = root
        self.train = train
