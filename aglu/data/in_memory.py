"""A dataset of small uint8 images held in memory as one tensor, and the long-tail subset."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from aglu.data.long_tail import long_tail_counts, long_tail_indices

__all__ = ["InMemoryImageDataset", "long_tail_subset"]


def long_tail_subset(
    labels: Tensor,
    num_classes: int,
    max_count: int,
    imbalance_factor: float,
    profile: str = "exp",
    seed: int = 0,
) -> tuple[Tensor, list[int]]:
    """Positions of the long-tailed training subset and its per-class counts.

    Args:
        labels: ``(N,)`` integer labels of the full training split.
        num_classes: number of classes.
        max_count: head-class count :math:`n_{\\max}`.
        imbalance_factor: 1/ρ in (0, 1].
        profile: ``"exp"`` or ``"step"``.
        seed: NumPy legacy seed of the per-class shuffle (0 reproduces the common split).

    Returns:
        ``(indices, counts)``: ``(M,)`` int64 positions (class 0's first) and the counts.
    """
    counts = long_tail_counts(num_classes, max_count, imbalance_factor, profile)
    indices = long_tail_indices(labels.tolist(), counts, seed=seed)
    return torch.from_numpy(indices), counts


class InMemoryImageDataset(Dataset):
    """Images held as one ``(N, C, H, W)`` uint8 tensor; an item is an index and a transform.

    Args:
        images: ``(N, C, H, W)`` uint8 tensor.
        targets: one label per image.
        num_classes: number of classes.
        class_counts: per-class counts of the *training* split (kept on evaluation splits too, for
            the IIF adjustment and shot groups).
        transform: applied to the ``(C, H, W)`` uint8 tensor; ``None`` returns it as is.
        classes: optional class names.

    Shape:
        - item: ``(image, target)`` with ``image`` of shape ``(C, H, W)`` (uint8 without transform).

    Example:
        >>> images = torch.zeros(3, 1, 2, 2, dtype=torch.uint8)
        >>> data = InMemoryImageDataset(images, [0, 1, 1], num_classes=2, class_counts=[1, 2])
        >>> image, target = data[2]
        >>> tuple(image.shape), target, len(data)
        ((1, 2, 2), 1, 3)
    """

    def __init__(
        self,
        images: Tensor,
        targets: Sequence[int],
        num_classes: int,
        class_counts: Sequence[int],
        transform: Callable[[Tensor], Any] | None = None,
        classes: Sequence[str] | None = None,
    ) -> None:
        if images.dim() != 4 or images.dtype != torch.uint8:
            raise ValueError(
                "images must be an (N, C, H, W) uint8 tensor; "
                f"got shape {tuple(images.shape)} and dtype {images.dtype}"
            )
        if len(targets) != images.shape[0]:
            raise ValueError(f"{images.shape[0]} images but {len(targets)} targets; pass one each")
        self.images = images
        self.targets = [int(t) for t in targets]
        self.num_classes = num_classes
        self.class_counts = [int(c) for c in class_counts]
        self.transform = transform
        self.classes = list(classes) if classes is not None else None

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]

    def extra_repr(self) -> str:
        return (
            f"num_images={len(self)}, num_classes={self.num_classes}, "
            f"head={max(self.class_counts)}, tail={min(self.class_counts)}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
