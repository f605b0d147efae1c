"""DDP-aware training samplers and the exactly-once evaluation sampler, ranks run in-process."""

import collections
import math

import pytest
import torch

from aglu.data import SAMPLERS, DistributedEvalSampler, build_sampler

# 3 classes with 600, 150 and 24 samples, interleaved.
TARGETS = [0] * 600 + [1] * 150 + [2] * 24
TARGETS = [TARGETS[(7 * i) % len(TARGETS)] for i in range(len(TARGETS))]  # 7 is coprime to 774
N = len(TARGETS)


def _draws(name, world_size, epoch=0, seed=0, **kwargs):
    samplers = [
        build_sampler(name, TARGETS, num_replicas=world_size, rank=rank, seed=seed, **kwargs)
        for rank in range(world_size)
    ]
    for sampler in samplers:
        sampler.set_epoch(epoch)
    return [list(sampler) for sampler in samplers]


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_each_rank_draws_about_n_over_world_size(name, world_size):
    draws = _draws(name, world_size)
    expected = math.ceil(N / world_size)
    assert [len(d) for d in draws] == [expected] * world_size
    sampler = build_sampler(name, TARGETS, num_replicas=world_size, rank=world_size - 1)
    assert len(sampler) == expected
    assert all(0 <= index < N for draw in draws for index in draw)


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("world_size", [2, 3])
def test_ranks_draw_different_samples(name, world_size):
    # Repeated augmentation gives every rank the same images when repeats is a multiple of the
    # world size (by design, tested below); any other repeats gives different draws.
    draws = _draws(name, world_size, repeats=world_size + 1)
    for first in range(world_size):
        for second in range(first + 1, world_size):
            assert draws[first] != draws[second]


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_instance_sampler_covers_every_sample_once_per_epoch(world_size):
    draws = _draws("instance", world_size)
    counts = collections.Counter(index for draw in draws for index in draw)
    assert set(counts) == set(range(N))
    padding = math.ceil(N / world_size) * world_size - N  # 774 = 2 * 387 = 3 * 258: none
    assert sum(counts.values()) == N + padding and padding == 0


def test_instance_sampler_pads_by_wrapping():
    draws = [list(build_sampler("instance", [0] * 10, num_replicas=3, rank=r)) for r in range(3)]
    counts = collections.Counter(index for draw in draws for index in draw)
    assert set(counts) == set(range(10)) and sum(counts.values()) == 12
    assert sorted(counts.values()) == [1] * 8 + [2] * 2


@pytest.mark.parametrize("name", SAMPLERS)
def test_set_epoch_changes_the_draw_and_is_reproducible(name):
    assert _draws(name, 2, epoch=0) != _draws(name, 2, epoch=1)
    assert _draws(name, 2, epoch=5) == _draws(name, 2, epoch=5)
    assert _draws(name, 2, seed=1) != _draws(name, 2, seed=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("class_balanced", [1 / 3, 1 / 3, 1 / 3]),
        # √600 : √150 : √24 = 10√6 : 5√6 : 2√6 = 10 : 5 : 2
        ("sqrt", [10 / 17, 5 / 17, 2 / 17]),
    ],
)
def test_class_frequencies_follow_the_sampling_power(name, expected):
    sampler = build_sampler(name, TARGETS)
    torch.testing.assert_close(
        sampler.class_probabilities(), torch.tensor(expected, dtype=torch.float64)
    )
    counts = collections.Counter()
    for epoch in range(20):  # 20 * 774 = 15,480 draws
        sampler.set_epoch(epoch)
        counts.update(TARGETS[index] for index in sampler)
    total = sum(counts.values())
    for label, probability in enumerate(expected):
        standard_error = math.sqrt(probability * (1 - probability) / total)
        assert abs(counts[label] / total - probability) < 5 * standard_error


def test_class_balanced_draws_within_a_class_uniformly():
    sampler = build_sampler("class_balanced", TARGETS)
    draws = collections.Counter()
    for epoch in range(20):
        sampler.set_epoch(epoch)
        draws.update(index for index in sampler if TARGETS[index] == 2)
    assert len(draws) == 24  # every tail sample shows up
    mean = sum(draws.values()) / 24
    assert max(draws.values()) < 2 * mean and min(draws.values()) > mean / 2


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_repeated_augmentation_copies_land_on_consecutive_ranks(world_size):
    repeats = 3
    draws = _draws("repeated_augmentation", world_size, repeats=repeats)
    # Rebuild the global order: position p went to rank p % world_size.
    order = [draws[p % world_size][p // world_size] for p in range(len(draws[0]) * world_size)]
    full_groups = len(order) // repeats
    for group in range(full_groups):
        chunk = order[group * repeats : (group + 1) * repeats]
        assert len(set(chunk)) == 1  # one image, `repeats` copies in a row
    distinct = [order[group * repeats] for group in range(full_groups)]
    assert len(set(distinct)) == full_groups  # no image repeated beyond its copies


def test_repeated_augmentation_with_world_size_equal_to_repeats_gives_each_rank_every_image():
    draws = _draws("repeated_augmentation", 3, repeats=3)
    assert draws[0] == draws[1] == draws[2]  # same images, augmented independently per rank
    assert len(set(draws[0])) == len(draws[0]) == N // 3


def test_distributed_eval_counts_every_sample_once():
    samplers = [DistributedEvalSampler(10_000, num_replicas=3, rank=rank) for rank in range(3)]
    draws = [list(sampler) for sampler in samplers]
    assert [len(sampler) for sampler in samplers] == [len(d) for d in draws] == [3334, 3333, 3333]
    seen = [index for draw in draws for index in draw]
    assert len(seen) == 10_000 and sorted(seen) == list(range(10_000))


@pytest.mark.parametrize("length", [0, 1, 2, 7, 100])
@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_distributed_eval_without_padding(length, world_size):
    draws = [list(DistributedEvalSampler(length, world_size, rank)) for rank in range(world_size)]
    assert sorted(index for draw in draws for index in draw) == list(range(length))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: build_sampler("oversample", [0, 1]), "unknown sampler 'oversample'"),
        (lambda: build_sampler("instance", [0, 1], num_replicas=2, rank=2), "rank=2"),
        (lambda: build_sampler("instance", [0, 1], num_replicas=0), "num_replicas=0"),
        (lambda: build_sampler("sqrt", []), "at least one"),
        (lambda: build_sampler("sqrt", [0, -1]), "negative label"),
        (lambda: build_sampler("repeated_augmentation", [0], repeats=0), "repeats=0"),
        (lambda: DistributedEvalSampler(10, num_replicas=3, rank=-1), "rank=-1"),
    ],
)
def test_bad_sampler_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _fake_process_group(monkeypatch, world_size, rank):
    """Make ``torch.distributed`` report an initialised group of ``world_size`` at ``rank``."""
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda group=None: world_size)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda group=None: rank)


@pytest.mark.parametrize("name", SAMPLERS)
def test_default_world_reads_an_initialised_process_group(name, monkeypatch):
    world_size = 3
    expected = _draws(name, world_size, repeats=2)  # explicit num_replicas and rank
    draws = []
    for rank in range(world_size):
        _fake_process_group(monkeypatch, world_size, rank)
        sampler = build_sampler(name, TARGETS, repeats=2)  # num_replicas and rank left out
        assert (sampler.num_replicas, sampler.rank) == (world_size, rank)
        assert len(sampler) == N // world_size == 258
        draws.append(list(sampler))
    assert draws == expected
    assert draws[0] != draws[1] != draws[2] != draws[0]


def test_default_instance_sampler_splits_the_epoch_across_a_process_group(monkeypatch):
    draws = []
    for rank in range(2):
        _fake_process_group(monkeypatch, 2, rank)
        draws.append(list(build_sampler("instance", TARGETS)))
    assert len(draws[0]) == len(draws[1]) == N // 2
    assert sorted(draws[0] + draws[1]) == list(range(N))  # each sample on exactly one rank


def test_default_eval_sampler_reads_an_initialised_process_group(monkeypatch):
    draws = []
    for rank in range(3):
        _fake_process_group(monkeypatch, 3, rank)
        draws.append(list(DistributedEvalSampler(10)))
    assert draws == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]


def test_default_world_without_a_process_group_is_one_process(monkeypatch):
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    sampler = build_sampler("instance", TARGETS)
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (1, 0, N)
    assert sorted(sampler) == list(range(N))
    assert list(DistributedEvalSampler(4)) == [0, 1, 2, 3]
