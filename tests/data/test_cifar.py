"""CIFAR-10-LT and CIFAR-100-LT over a tiny fixture in torchvision's on-disk layout."""

import pickle

import numpy as np
import pytest
import torch

from aglu.data import CIFAR10LT, CIFAR100LT, DatasetNotFoundError, build_dataset, long_tail_counts


def _images(first_index, count):
    """``count`` CIFAR rows whose first pixel bytes encode their global index."""
    rows = np.zeros((count, 3072), dtype=np.uint8)
    indices = np.arange(first_index, first_index + count)
    rows[:, 0], rows[:, 1] = indices // 256, indices % 256
    rows[:, 1024] = 7  # first green value: checks the (3, 32, 32) plane layout
    return rows


def _dump(path, data, label_key, labels):
    with open(path, "wb") as handle:
        pickle.dump({"data": data, label_key: list(labels), "filenames": []}, handle)


@pytest.fixture(scope="module")
def cifar10_root(tmp_path_factory):
    """CIFAR-10 layout: 5 training batches, 20 images per class in all; 3 test images per class."""
    root = tmp_path_factory.mktemp("cifar10")
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    labels = np.random.default_rng(0).permutation(np.repeat(np.arange(10), 20))
    for batch in range(5):
        part = labels[batch * 40 : (batch + 1) * 40]
        _dump(folder / f"data_batch_{batch + 1}", _images(batch * 40, 40), "labels", part)
    _dump(folder / "test_batch", _images(0, 30), "labels", np.repeat(np.arange(10), 3))
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, handle)
    return root, labels


@pytest.fixture(scope="module")
def cifar100_root(tmp_path_factory):
    """CIFAR-100 layout: 8 training images per class, 1 test image per class."""
    root = tmp_path_factory.mktemp("cifar100")
    folder = root / "cifar-100-python"
    folder.mkdir()
    labels = np.tile(np.arange(100), 8)
    _dump(folder / "train", _images(0, 800), "fine_labels", labels)
    _dump(folder / "test", _images(0, 100), "fine_labels", np.arange(100))
    return root, labels


def _global_index(image):
    return int(image[0, 0, 0]) * 256 + int(image[0, 0, 1])


def test_cifar10_lt_keeps_the_profile_and_the_right_images(cifar10_root):
    root, labels = cifar10_root
    data = build_dataset("cifar10_lt", root, train=True, imbalance_factor=0.1)
    expected = long_tail_counts(10, 20, 0.1)  # max_count defaults to the full class
    assert expected == [20, 15, 11, 9, 7, 5, 4, 3, 2, 2]  # 20 · 0.1^(c/9), floored
    assert data.class_counts == expected and len(data) == sum(expected)
    assert np.bincount(data.targets, minlength=10).tolist() == expected
    assert data.classes == [f"class{i}" for i in range(10)]
    for position in range(len(data)):
        image, label = data[position]
        assert image.shape == (3, 32, 32) and image.dtype == torch.uint8
        assert int(image[1, 0, 0]) == 7
        source = _global_index(image)
        assert source == int(data.indices[position]) and labels[source] == label


def test_cifar10_lt_selection_is_the_common_seed_0_split(cifar10_root):
    root, labels = cifar10_root
    data = CIFAR10LT(root, train=True, imbalance_factor=0.1)
    np_state = np.random.RandomState(0)
    expected = []
    for label, count in enumerate(long_tail_counts(10, 20, 0.1)):
        class_indices = np.where(labels == label)[0]
        np_state.shuffle(class_indices)
        expected += class_indices[:count].tolist()
    assert data.indices.tolist() == expected


def test_cifar10_test_split_is_complete(cifar10_root):
    root, _ = cifar10_root
    data = CIFAR10LT(root, train=False, imbalance_factor=0.1)
    assert len(data) == 30 and np.bincount(data.targets).tolist() == [3] * 10
    assert data.class_counts == long_tail_counts(10, 20, 0.1)


def test_cifar100_lt(cifar100_root):
    root, _ = cifar100_root
    data = build_dataset("cifar100_lt", root, train=True, max_count=8, imbalance_factor=0.125)
    expected = long_tail_counts(100, 8, 0.125)
    assert data.num_classes == 100 and data.class_counts == expected
    assert np.bincount(data.targets, minlength=100).tolist() == expected
    assert expected[0] == 8 and expected[-1] == 1
    test = CIFAR100LT(root / "cifar-100-python", train=False, imbalance_factor=0.125)
    assert len(test) == 100 and test.class_counts == expected  # the folder itself works too


def test_missing_cifar_names_path_and_download(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download=True") as caught:
        build_dataset("cifar10_lt", tmp_path, train=True)
    assert str(tmp_path / "cifar-10-batches-py") in str(caught.value)


@pytest.mark.parametrize("imbalance_factor", [0.0, 2.0, -1.0])
def test_bad_imbalance_factor_raises_before_reading(tmp_path, imbalance_factor):
    with pytest.raises(ValueError, match="imbalance_factor"):
        build_dataset("cifar100_lt", tmp_path, train=True, imbalance_factor=imbalance_factor)


def test_asking_for_more_than_a_class_holds_raises(cifar10_root):
    root, _ = cifar10_root
    with pytest.raises(ValueError, match="lower max_count"):
        CIFAR10LT(root, train=True, max_count=21, imbalance_factor=0.1)
