"""`aglu analyze` builds its data from a run's full data section exactly as `aglu train` does."""

from dataclasses import asdict

import pytest

from aglu.analysis.datasets import build_analysis_dataset
from aglu.train.config import DataConfig


def test_full_engine_data_section_gives_the_balanced_test_split():
    # every key the engine saves (resize_size, cutout_size, batch sizes, ...) must be accepted
    section = asdict(DataConfig(name="fashion_mnist_lt", max_count=500, imbalance_factor=0.01))
    dataset = build_analysis_dataset(None, {"data": section})
    assert len(dataset) == 10_000
    assert list(dataset.class_counts) == [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]
    image, label = dataset[0]
    assert tuple(image.shape) == (1, 32, 32) and 0 <= label < 10


def test_unknown_data_key_names_it_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown keys \['colour'\].*valid keys"):
        build_analysis_dataset(None, {"data": {"name": "fashion_mnist_lt", "colour": 1}})
