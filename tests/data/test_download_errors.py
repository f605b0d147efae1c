"""A failed download or a damaged data file: one line, naming the path and the fix, nothing left."""

import gzip
import urllib.error
from pathlib import Path

import pytest
import torchvision.datasets

from aglu.data import DatasetNotFoundError, build_dataset
from aglu.data.cifar import read_cifar_batch
from aglu.data.fashion_mnist import read_idx


def _offline(class_name):
    """A torchvision dataset class that starts a download as torchvision does, then fails."""

    def fail(root, train=True, download=False):
        raw = Path(root) / class_name / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        (raw / "partial.gz").write_bytes(b"\x1f\x8b")  # what a broken-off download leaves
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    return fail


@pytest.mark.parametrize("root_exists", [False, True])
def test_fashion_mnist_download_without_network(tmp_path, monkeypatch, root_exists):
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", _offline("FashionMNIST"))
    root = tmp_path / "new" / "data"
    if root_exists:
        root.mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError) as caught:
        build_dataset("fashion_mnist_lt", root, train=True, download=True)
    message = str(caught.value)
    assert "\n" not in message and str(root) in message
    assert "downloading Fashion-MNIST failed (URLError:" in message
    assert "apt-get install dataset-fashion-mnist" in message
    if root_exists:  # a folder that was there stays, without what the download left
        assert root.is_dir() and not (root / "FashionMNIST").exists()
    else:  # the folders the download created are gone
        assert not (tmp_path / "new").exists()


def test_cifar_download_without_network(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _offline("cifar-10-batches-py"))
    root = tmp_path / "cifar"
    with pytest.raises(
        DatasetNotFoundError, match=r"downloading CIFAR10 failed \(URLError"
    ) as caught:
        build_dataset("cifar10_lt", root, train=True, download=True)
    assert "cs.toronto.edu" in str(caught.value)
    assert not root.exists()


def test_truncated_idx_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + bytes(100))[:20])  # cut mid-stream
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is truncated or corrupt"):
        read_idx(str(path))


def test_truncated_cifar_batch_is_a_one_line_error(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(b"\x80\x04\x95")  # the start of a pickle, cut off
    with pytest.raises(ValueError, match=r"data_batch_1 is truncated or not a CIFAR batch"):
        read_cifar_batch(str(path), "labels")
