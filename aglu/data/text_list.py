"""Datasets from `relative/path label` list files: ImageNet-LT, Places-LT, iNaturalist 2018."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.v2.functional import pil_to_tensor

from aglu.data.errors import DatasetNotFoundError

__all__ = ["TEXT_LIST_SPECS", "TextListDataset", "TextListSpec", "frequency_order", "read_list"]


@dataclass(frozen=True)
class TextListSpec:
    """Where a text-list dataset's lists live and how many classes it has."""

    num_classes: int
    train_list: str
    eval_list: str
    how_to_get: str


TEXT_LIST_SPECS = {
    "imagenet_lt": TextListSpec(
        1000,
        "ImageNet_LT_train.txt",
        "ImageNet_LT_test.txt",
        "put the ImageNet-LT lists (Liu et al., 2019) there and the ImageNet images beneath root",
    ),
    "places_lt": TextListSpec(
        365,
        "Places_LT_train.txt",
        "Places_LT_test.txt",
        "put the Places-LT lists (Liu et al., 2019) there and the Places-365 images beneath root",
    ),
    "inaturalist2018": TextListSpec(
        8142,
        "iNaturalist18_train.txt",
        "iNaturalist18_val.txt",
        "put the iNaturalist 2018 lists there and the competition images beneath root",
    ),
}


def read_list(path: Path, num_classes: int) -> tuple[list[str], list[int]]:
    """Parse ``relative/path label`` lines; a bad line raises ``ValueError`` naming file and line.

    Blank lines are skipped. Labels must be integers in ``[0, num_classes)``.
    """
    paths, labels = [], []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fields = line.rsplit(maxsplit=1)
            if len(fields) != 2:
                raise ValueError(
                    f"{path}:{line_number}: expected `relative/path label`, got {line!r}"
                )
            try:
                label = int(fields[1])
            except ValueError:
                raise ValueError(
                    f"{path}:{line_number}: label {fields[1]!r} is not an integer"
                ) from None
            if not 0 <= label < num_classes:
                raise ValueError(
                    f"{path}:{line_number}: label {label} is outside [0, {num_classes}); "
                    "fix the list or pass the right num_classes"
                )
            paths.append(fields[0].strip())
            labels.append(label)
    return paths, labels


def frequency_order(labels: Sequence[int], num_classes: int) -> tuple[list[int], list[int]]:
    """Map original labels to ranks by descending frequency, ties broken by the original label.

    Returns:
        ``(class_map, counts)``: ``class_map[original] = new`` and the counts in the new order.

    Example:
        >>> frequency_order([2, 2, 0, 1, 1, 3, 3], 4)
        ([3, 0, 1, 2], [2, 2, 2, 1])
    """
    counts = [0] * num_classes
    for label in labels:
        counts[label] += 1
    order = sorted(range(num_classes), key=lambda label: (-counts[label], label))
    class_map = [0] * num_classes
    for new, original in enumerate(order):
        class_map[original] = new
    return class_map, [counts[original] for original in order]


class TextListDataset(Dataset):
    """Images named in a ``relative/path label`` list, with classes ranked by training frequency.

    Class ``0`` is the most frequent class of the *training* list (ties go to the smaller original
    label); the evaluation list is mapped through the same ranking, so ``class_counts`` is
    non-increasing on both splits. Images are opened with PIL as RGB; ``transform`` receives the
    PIL image, and without one the item is a ``(3, H, W)`` uint8 tensor.

    Args:
        root: the dataset folder; list paths are relative to it unless absolute.
        train_list: the training list (defines the class ranking and ``class_counts``).
        eval_list: the evaluation list, or ``None`` to serve the training list.
        num_classes: number of classes; a label outside ``[0, num_classes)`` is an error.
        train: serve the training list (``True``) or ``eval_list`` (``False``).
        transform: applied to each PIL image.
        image_root: folder the image paths are relative to; ``None`` means ``root``.
        how_to_get: the hint shown when a file is missing.

    Attributes:
        class_map: ``class_map[original_label]`` is the label served.
        samples: ``(path, label)`` pairs of the served split, labels already remapped.
    """

    def __init__(
        self,
        root: str | Path,
        train_list: str | Path,
        eval_list: str | Path | None,
        num_classes: int,
        *,
        train: bool = True,
        transform: Callable[[Image.Image], Any] | None = None,
        image_root: str | Path | None = None,
        how_to_get: str = "put the list files and images there",
    ) -> None:
        self.root = Path(root)
        self.image_root = self.root if image_root is None else Path(image_root)
        for folder in (self.root, self.image_root):
            if not folder.is_dir():
                raise DatasetNotFoundError(folder, how_to_get)
        if not train and eval_list is None:
            raise ValueError("train=False needs eval_list; pass the evaluation list file")

        train_path = self._list_path(train_list, how_to_get)
        train_paths, train_labels = read_list(train_path, num_classes)
        self.class_map, self.class_counts = frequency_order(train_labels, num_classes)
        if train:
            paths, labels = train_paths, train_labels
        else:
            paths, labels = read_list(self._list_path(eval_list, how_to_get), num_classes)
        self.samples = [(p, self.class_map[y]) for p, y in zip(paths, labels, strict=True)]
        self.targets = [label for _, label in self.samples]
        self.num_classes = num_classes
        self.transform = transform
        self.train = train

    def _list_path(self, name: str | Path, how_to_get: str) -> Path:
        path = self.root / name  # an absolute name stays absolute
        if not path.is_file():
            raise DatasetNotFoundError(path, how_to_get)
        return path

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        relative_path, target = self.samples[index]
        with Image.open(self.image_root / relative_path) as file:
            image = file.convert("RGB")
        if self.transform is not None:
            return self.transform(image), target
        return pil_to_tensor(image), target

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_images={len(self)}, num_classes={self.num_classes}, "
            f"train={self.train}, root={str(self.root)!r})"
        )
