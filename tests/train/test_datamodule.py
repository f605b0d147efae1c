"""Seeding of the data module: each process and loader worker of each epoch gets its own."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import torch

from aglu.train.datamodule import EpochSeededSampler, epoch_seed, seed_epoch


def _sampler_of_rank(rank: int, epoch: int, seed: int = 0) -> EpochSeededSampler:
    progress = SimpleNamespace(current=SimpleNamespace(processed=epoch))
    trainer = SimpleNamespace(global_rank=rank, fit_loop=SimpleNamespace(epoch_progress=progress))
    return EpochSeededSampler(sampler=None, trainer=trainer, seed=seed)


def test_rank_one_and_rank_zeros_first_worker_draw_different_numbers() -> None:
    seed_epoch(0, 1, rank=1)  # rank 1's main process in epoch 1
    main_of_rank_one = torch.rand(4)
    _sampler_of_rank(0, epoch=1).seed_worker(0)  # rank 0's loader worker 0 in epoch 1
    worker_of_rank_zero = torch.rand(4)
    assert not torch.equal(main_of_rank_one, worker_of_rank_zero)


def test_epoch_seeds_are_distinct_and_repeatable() -> None:
    keys = list(itertools.product(range(3), range(4), range(4), [None, 0, 1, 2]))
    seeds = [epoch_seed(*key) for key in keys]
    assert len(set(seeds)) == len(keys)
    assert seeds == [epoch_seed(*key) for key in keys]
    assert all(0 <= value < 2**32 for value in seeds)

    _sampler_of_rank(2, epoch=3, seed=5).seed_worker(1)
    first = torch.rand(3)
    seed_epoch(5, 3, 2, worker=1)
    assert torch.equal(torch.rand(3), first)
