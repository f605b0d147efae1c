"""Datasets by name: ``build_dataset("fashion_mnist_lt", root, train=True)`` and friends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from aglu.data.cifar import CIFAR10LT, CIFAR100LT
from aglu.data.fashion_mnist import FashionMNISTLT
from aglu.data.text_list import TEXT_LIST_SPECS, TextListDataset

__all__ = ["DATASETS", "build_dataset"]

DATASETS = ("fashion_mnist_lt", "cifar10_lt", "cifar100_lt", *TEXT_LIST_SPECS)
_IN_MEMORY = {
    "fashion_mnist_lt": FashionMNISTLT,
    "cifar10_lt": CIFAR10LT,
    "cifar100_lt": CIFAR100LT,
}


def build_dataset(
    name: str,
    root: str | Path | None,
    *,
    train: bool,
    transform: Callable[[Any], Any] | None = None,
    max_count: int | None = None,
    imbalance_factor: float | None = None,
    profile: str = "exp",
    download: bool = False,
    **kwargs: Any,
) -> Dataset:
    """Build a long-tailed dataset by name.

    Every dataset has ``.targets`` (list of int), ``.num_classes`` and ``.class_counts`` (the
    per-class counts of the *training* split, on the evaluation split too).

    ``fashion_mnist_lt``, ``cifar10_lt`` and ``cifar100_lt`` cut a long-tailed training split from a
    balanced one (:func:`~aglu.data.long_tail_counts`; ``None`` means the dataset's default:
    Fashion-MNIST-LT 500 images at ρ = 100, CIFAR-LT the full class at ρ = 100). ``imagenet_lt``,
    ``places_lt`` and ``inaturalist2018`` read the published list files, which are long-tailed
    already; they take ``train_list``, ``eval_list`` and ``image_root`` keyword arguments.

    Args:
        name: one of :data:`DATASETS`.
        root: the data folder; ``None`` is allowed for ``fashion_mnist_lt`` (the Debian folder).
        train: the training split or the evaluation split.
        transform: per-image transform, e.g. from :func:`~aglu.data.build_transforms`.
        max_count: head-class count of the long-tailed training split.
        imbalance_factor: 1/ρ in (0, 1].
        profile: ``"exp"`` or ``"step"``.
        download: fetch Fashion-MNIST or CIFAR with torchvision when missing.
        **kwargs: further arguments of the dataset class (``seed``; for the lists ``train_list``,
            ``eval_list``, ``image_root``).

    Example::

        train = build_dataset("fashion_mnist_lt", None, train=True)  # 1,236 images, 500 ... 5
        test = build_dataset("fashion_mnist_lt", None, train=False)  # 10,000 images, balanced

        >>> build_dataset("mnist_lt", "data", train=True)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
          ...
        ValueError: unknown dataset 'mnist_lt'; known datasets: fashion_mnist_lt, cifar10_lt, ...
    """
    if name in _IN_MEMORY:
        if root is None and name != "fashion_mnist_lt":
            raise ValueError(f"{name} needs root, the folder holding torchvision's CIFAR files")
        return _IN_MEMORY[name](
            root,
            train=train,
            transform=transform,
            max_count=max_count,
            imbalance_factor=imbalance_factor,
            profile=profile,
            download=download,
            **kwargs,
        )
    if name not in TEXT_LIST_SPECS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    if max_count is not None or imbalance_factor not in (None, 1.0) or profile != "exp" or download:
        raise ValueError(
            f"{name} is long-tailed as published and cannot be downloaded; "
            "leave max_count, imbalance_factor, profile and download unset"
        )
    if root is None:
        raise ValueError(f"{name} needs root, the folder with its list files and images")
    spec = TEXT_LIST_SPECS[name]
    return TextListDataset(
        root,
        kwargs.pop("train_list", spec.train_list),
        kwargs.pop("eval_list", spec.eval_list),
        kwargs.pop("num_classes", spec.num_classes),
        train=train,
        transform=transform,
        how_to_get=spec.how_to_get,
        **kwargs,
    )
