"""Per-image augmentation recipes through torchvision.transforms.v2, and Cutout."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

__all__ = ["RECIPES", "Cutout", "build_transforms"]

RECIPES = ("fashion_mnist", "cifar", "imagenet", "randaugment", "trivialaugment")
FASHION_MNIST_MEAN, FASHION_MNIST_STD = (0.2860,), (0.3530,)
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class Cutout(v2.Transform):
    """Zero a ``size`` x ``size`` square centred anywhere in the image, clipped at the borders.

    DeVries & Taylor (2017): unlike :class:`~torchvision.transforms.v2.RandomErasing`, the centre
    may sit near an edge, so less than the full square can fall inside the image.

    Args:
        size: side of the square in pixels (16 in the CIFAR recipe).

    Shape:
        - Input: ``(..., C, H, W)`` image tensor.
        - Output: same shape; a new tensor, the input is left untouched.

    Example:
        >>> out = Cutout(4)(torch.ones(1, 8, 8))
        >>> 4 <= int((out == 0).sum()) <= 16
        True
    """

    _transformed_types = (tv_tensors.Image, torch.Tensor)

    def __init__(self, size: int = 16) -> None:
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"Cutout size={size!r} must be a positive number of pixels")
        self.size = size

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        height, width = v2.query_size(flat_inputs)
        centre_y = int(torch.randint(height, ()))
        centre_x = int(torch.randint(width, ()))
        half = self.size // 2
        return {
            "top": max(centre_y - half, 0),
            "bottom": min(centre_y - half + self.size, height),
            "left": max(centre_x - half, 0),
            "right": min(centre_x - half + self.size, width),
        }

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        out = inpt.clone()
        out[..., params["top"] : params["bottom"], params["left"] : params["right"]] = 0
        return out

    def extra_repr(self) -> str:
        return f"size={self.size}"


def _finish(mean: Sequence[float], std: Sequence[float]) -> list[Callable[[Any], Any]]:
    """uint8 image -> normalised float32 tensor."""
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std), v2.ToPureTensor()]


def build_transforms(
    recipe: str,
    *,
    train: bool,
    image_size: int | None = None,
    resize_size: int | None = None,
    random_erasing: float = 0.0,
    cutout_size: int = 16,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> Callable[[Any], torch.Tensor]:
    """A per-image transform: PIL image or uint8 ``(C, H, W)`` tensor in, normalised floats out.

    Recipes (training side; evaluation only resizes, crops and normalises):

    - ``fashion_mnist``: pad 28 -> 32, random crop 32 with padding 4, horizontal flip.
    - ``cifar``: random crop 32 with padding 4, flip, AutoAugment (CIFAR-10 policy), Cutout.
    - ``imagenet``: random resized crop, flip, AutoAugment (ImageNet policy).
    - ``randaugment`` / ``trivialaugment``: random resized crop, flip, RandAugment / TrivialAugment.

    The two small recipes first centre-crop the image to ``image_size`` (zero-padding it where it
    is smaller; no rescaling), in training and evaluation alike. ImageNet-style evaluation resizes
    the short side to ``resize_size`` and centre-crops ``image_size``.

    Args:
        recipe: one of :data:`RECIPES`.
        train: training augmentation or the deterministic evaluation transform.
        image_size: crop size; ``None`` means 32 for ``fashion_mnist``/``cifar`` and 224 otherwise.
        resize_size: evaluation resize of the ImageNet-style recipes; ``None`` means
            ``image_size / 0.875`` (256 for 224).
        random_erasing: probability of :class:`~torchvision.transforms.v2.RandomErasing` after
            normalisation (training only; 0 disables it).
        cutout_size: Cutout square of the ``cifar`` recipe; 0 disables it.
        mean, std: normalisation; ``None`` means the dataset's usual statistics.

    Example:
        >>> transform = build_transforms("fashion_mnist", train=True)
        >>> out = transform(torch.zeros(1, 28, 28, dtype=torch.uint8))
        >>> tuple(out.shape), out.dtype
        ((1, 32, 32), torch.float32)
    """
    if recipe not in RECIPES:
        raise ValueError(
            f"unknown transform recipe {recipe!r}; known recipes: {', '.join(RECIPES)}"
        )
    if not 0.0 <= random_erasing <= 1.0:
        raise ValueError(
            f"random_erasing={random_erasing!r} is a probability; pass a value in [0, 1]"
        )
    small = recipe in ("fashion_mnist", "cifar")
    image_size = (32 if small else 224) if image_size is None else image_size
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size={image_size!r} must be a positive number of pixels")
    if recipe == "fashion_mnist":
        mean, std = mean or FASHION_MNIST_MEAN, std or FASHION_MNIST_STD
    elif recipe == "cifar":
        mean, std = mean or CIFAR_MEAN, std or CIFAR_STD
    else:
        mean, std = mean or IMAGENET_MEAN, std or IMAGENET_STD

    steps: list[Callable[[Any], Any]] = [v2.ToImage()]
    if small:
        # Crops a larger image, pads a smaller one with zeros (28 -> 32 for Fashion-MNIST); a no-op
        # at the image's own size, so CIFAR at 32 is untouched. Training and evaluation see the same
        # view; training then shifts it by up to 4 pixels.
        steps.append(v2.CenterCrop(image_size))
        if train:
            steps += [v2.RandomCrop(image_size, padding=4), v2.RandomHorizontalFlip()]
            if recipe == "cifar":
                steps.append(v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10))
    elif train:
        steps += [v2.RandomResizedCrop(image_size, antialias=True), v2.RandomHorizontalFlip()]
        steps.append(
            {
                "imagenet": lambda: v2.AutoAugment(v2.AutoAugmentPolicy.IMAGENET),
                "randaugment": v2.RandAugment,
                "trivialaugment": v2.TrivialAugmentWide,
            }[recipe]()
        )
    else:
        resize_size = round(image_size / 0.875) if resize_size is None else resize_size
        steps += [v2.Resize(resize_size, antialias=True), v2.CenterCrop(image_size)]

    steps += _finish(mean, std)
    if train and recipe == "cifar" and cutout_size:
        steps.append(Cutout(cutout_size))
    if train and random_erasing > 0:
        steps.append(v2.RandomErasing(p=random_erasing, value=0))
    return v2.Compose(steps)
