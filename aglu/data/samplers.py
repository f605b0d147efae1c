"""DDP-aware samplers: instance, class-balanced, square-root, repeated augmentation, evaluation."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor
from torch.utils.data import Sampler

__all__ = [
    "SAMPLERS",
    "ClassPowerSampler",
    "DistributedEvalSampler",
    "EpochSampler",
    "InstanceSampler",
    "RepeatedAugmentationSampler",
    "build_sampler",
]

SAMPLERS = ("instance", "class_balanced", "sqrt", "repeated_augmentation")


def _world(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """Validate ``(num_replicas, rank)``; ``None`` reads them from an initialised process group."""
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    if num_replicas is None:
        num_replicas = torch.distributed.get_world_size() if distributed else 1
    if rank is None:
        rank = torch.distributed.get_rank() if distributed else 0
    if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
        raise ValueError(
            f"num_replicas={num_replicas!r} must be a positive integer (the world size)"
        )
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
        raise ValueError(f"rank={rank!r} must be an integer in [0, num_replicas={num_replicas})")
    return num_replicas, rank


class EpochSampler(Sampler[int]):
    """Base of the training samplers: one global draw per epoch, dealt to ranks round-robin.

    Every rank builds the same global order of ``num_samples * num_replicas`` indices from a
    generator seeded by ``(seed, epoch)`` and keeps positions ``rank, rank + num_replicas, ...``;
    so each rank yields ``num_samples = ceil(length / num_replicas)`` indices and ranks never share
    a position. Subclasses define :meth:`global_order`.

    Args:
        length: number of samples of the dataset.
        num_replicas: world size. Default: ``None``, the process group's world size when
            ``torch.distributed`` is initialised, else 1.
        rank: this process's rank. Default: ``None``, the process group's rank when
            initialised, else 0.
        seed: base seed, the same on every rank.
    """

    def __init__(
        self,
        length: int,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int = 0,
    ) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"the dataset has {length!r} samples; a sampler needs at least one")
        self.length = length
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.seed = int(seed)
        self.epoch = 0
        self.num_samples = math.ceil(length / self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """Use the draw of ``epoch``; call it before each epoch with the same value on all ranks."""
        self.epoch = int(epoch)

    def global_order(self, generator: torch.Generator) -> Tensor:
        """The epoch's indices for all ranks together, at least ``num_samples * num_replicas``."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = self.global_order(generator)
        total = self.num_samples * self.num_replicas
        if order.numel() < total:  # wrap around so that every rank yields as many indices
            order = order.repeat(math.ceil(total / order.numel()))
        yield from order[self.rank : total : self.num_replicas].tolist()

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(length={self.length}, num_replicas={self.num_replicas}, "
            f"rank={self.rank}, seed={self.seed}, epoch={self.epoch})"
        )


class InstanceSampler(EpochSampler):
    """Every sample once per epoch in a fresh random order (plain shuffling, split across ranks).

    Example:
        >>> ranks = [list(InstanceSampler(6, num_replicas=2, rank=r)) for r in range(2)]
        >>> sorted(ranks[0] + ranks[1])
        [0, 1, 2, 3, 4, 5]
    """

    def global_order(self, generator: torch.Generator) -> Tensor:
        return torch.randperm(self.length, generator=generator)


class ClassPowerSampler(EpochSampler):
    r"""Draw with replacement so that class c comes up with probability :math:`\propto n_c^q`.

    Within a class every sample is equally likely. ``q = 0`` is class-balanced sampling,
    ``q = 1/2`` square-root sampling and ``q = 1`` instance sampling with replacement.

    Args:
        targets: the label of every sample.
        power: the exponent q ≥ 0.
        num_replicas, rank, seed: as in :class:`EpochSampler`.

    Example:
        >>> sampler = ClassPowerSampler([0, 0, 0, 1], power=0.0)
        >>> sampler.class_probabilities()
        tensor([0.5000, 0.5000], dtype=torch.float64)
    """

    def __init__(
        self,
        targets: Sequence[int],
        power: float,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(len(targets), num_replicas, rank, seed)
        if not (math.isfinite(power) and power >= 0):
            raise ValueError(f"power={power!r} must be finite and ≥ 0 (0 balanced, 0.5 sqrt)")
        labels = torch.as_tensor(list(targets), dtype=torch.long)
        if labels.min() < 0:
            raise ValueError(
                f"targets hold a negative label ({int(labels.min())}); pass labels ≥ 0"
            )
        self.power = float(power)
        self.class_counts = torch.bincount(labels).double()
        nonzero_counts = self.class_counts.clamp(min=1)
        self.class_mass = torch.where(self.class_counts > 0, nonzero_counts**self.power, 0.0)
        self.sample_weights = (self.class_mass / nonzero_counts)[labels]  # (N,)

    def class_probabilities(self) -> Tensor:
        """The probability of drawing each class, ``(num_classes,)`` float64."""
        return self.class_mass / self.class_mass.sum()

    def global_order(self, generator: torch.Generator) -> Tensor:
        total = self.num_samples * self.num_replicas
        return torch.multinomial(self.sample_weights, total, replacement=True, generator=generator)


class RepeatedAugmentationSampler(EpochSampler):
    """Repeated augmentation (Hoffer et al., 2020; DeiT): each drawn image comes ``repeats`` times.

    The global order is a random permutation with every index repeated ``repeats`` times in a row,
    dealt round-robin, so the copies of one image land on consecutive ranks (and are augmented
    independently there). Each rank keeps its first ``ceil(length / num_replicas)`` indices, so an
    epoch costs as much as a plain one and covers about ``1 / repeats`` of the distinct images.

    Args:
        length: number of samples of the dataset.
        repeats: copies per image (3 in DeiT; the iNaturalist recipe uses 4).
        num_replicas, rank, seed: as in :class:`EpochSampler`.
    """

    def __init__(
        self,
        length: int,
        repeats: int = 3,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(length, num_replicas, rank, seed)
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ValueError(f"repeats={repeats!r} must be a positive integer (copies per image)")
        self.repeats = repeats

    def global_order(self, generator: torch.Generator) -> Tensor:
        order = torch.randperm(self.length, generator=generator).repeat_interleave(self.repeats)
        return order  # (length * repeats,): i0, i0, i0, i1, i1, i1, ...


class DistributedEvalSampler(Sampler[int]):
    """Deal ``range(length)`` to ranks without padding: every sample is scored exactly once.

    Rank r yields ``r, r + num_replicas, r + 2 * num_replicas, ...`` in order, so ranks may differ
    by one sample; gather results with a size-aware collective (or sum metric states).

    Args:
        length: number of evaluation samples.
        num_replicas, rank: as in :class:`EpochSampler` (``None``: from the process group when
            initialised, else 1 and 0).

    Example:
        >>> [len(DistributedEvalSampler(10_000, 3, rank)) for rank in range(3)]
        [3334, 3333, 3333]
    """

    def __init__(
        self, length: int, num_replicas: int | None = None, rank: int | None = None
    ) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError(f"length={length!r} must be a non-negative number of samples")
        self.length = length
        self.num_replicas, self.rank = _world(num_replicas, rank)

    def set_epoch(self, epoch: int) -> None:
        """Accepted for symmetry with the training samplers; the order never changes."""

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.length, self.num_replicas))

    def __len__(self) -> int:
        return len(range(self.rank, self.length, self.num_replicas))


def build_sampler(
    name: str,
    targets: Sequence[int],
    *,
    num_replicas: int | None = None,
    rank: int | None = None,
    seed: int = 0,
    repeats: int = 3,
) -> EpochSampler:
    """A training sampler by name: ``instance``, ``class_balanced``, ``sqrt`` or
    ``repeated_augmentation``.

    Each rank yields ``ceil(len(targets) / num_replicas)`` indices per epoch; call
    ``set_epoch(epoch)`` before every epoch. With Lightning, pass it to the ``DataLoader`` and set
    ``Trainer(use_distributed_sampler=False)``, since it already splits work across ranks: left
    at ``None``, ``num_replicas`` and ``rank`` come from the process group Lightning sets up.

    Args:
        name: one of :data:`SAMPLERS`.
        targets: the label of every training sample.
        num_replicas: world size. Default: ``None``, the process group's world size when
            ``torch.distributed`` is initialised, else 1.
        rank: this process's rank. Default: ``None``, the process group's rank when
            initialised, else 0.
        seed: base seed, the same on every rank.
        repeats: copies per image for ``repeated_augmentation``.

    Example:
        >>> sampler = build_sampler("class_balanced", [0, 0, 0, 1], num_replicas=2, rank=1)
        >>> len(sampler), type(sampler).__name__
        (2, 'ClassPowerSampler')
    """
    if name == "instance":
        return InstanceSampler(len(targets), num_replicas, rank, seed)
    if name == "class_balanced":
        return ClassPowerSampler(targets, 0.0, num_replicas, rank, seed)
    if name == "sqrt":
        return ClassPowerSampler(targets, 0.5, num_replicas, rank, seed)
    if name == "repeated_augmentation":
        return RepeatedAugmentationSampler(len(targets), repeats, num_replicas, rank, seed)
    raise ValueError(f"unknown sampler {name!r}; known samplers: {', '.join(SAMPLERS)}")
