"""Long-tailed data: class profiles, datasets, transforms, batch mixing and DDP-aware samplers.

Needs the toolkit extra (``aglu[train]``: torchvision, NumPy, Pillow); knows nothing of the models.
"""

from aglu.data.cifar import CIFAR10LT, CIFAR100LT
from aglu.data.errors import DatasetNotFoundError
from aglu.data.fashion_mnist import FashionMNISTLT
from aglu.data.in_memory import InMemoryImageDataset
from aglu.data.long_tail import long_tail_counts, long_tail_indices
from aglu.data.mixing import build_mix
from aglu.data.registry import DATASETS, build_dataset
from aglu.data.samplers import (
    SAMPLERS,
    ClassPowerSampler,
    DistributedEvalSampler,
    InstanceSampler,
    RepeatedAugmentationSampler,
    build_sampler,
)
from aglu.data.text_list import TextListDataset
from aglu.data.transforms import RECIPES, Cutout, build_transforms

__all__ = [
    "CIFAR10LT",
    "CIFAR100LT",
    "DATASETS",
    "RECIPES",
    "SAMPLERS",
    "ClassPowerSampler",
    "Cutout",
    "DatasetNotFoundError",
    "DistributedEvalSampler",
    "FashionMNISTLT",
    "InMemoryImageDataset",
    "InstanceSampler",
    "RepeatedAugmentationSampler",
    "TextListDataset",
    "build_dataset",
    "build_mix",
    "build_sampler",
    "build_transforms",
    "long_tail_counts",
    "long_tail_indices",
]
