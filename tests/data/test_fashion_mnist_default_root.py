"""``root=None`` for Fashion-MNIST-LT: the Debian folder first, then ``./data`` (torchvision)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from aglu.data import DatasetNotFoundError, build_dataset
from aglu.data import fashion_mnist as fashion_mnist_module
from aglu.data.fashion_mnist import DEBIAN_FASHION_MNIST_ROOT, FashionMNISTLT

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

pytestmark = pytest.mark.skipif(
    not (DEBIAN_FASHION_MNIST_ROOT / FILES[0]).is_file(),
    reason="Fashion-MNIST is not installed (make data)",
)


@pytest.fixture
def no_debian_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in ``tmp_path`` as if the Debian package were missing; returns the missing folder."""
    missing = tmp_path / "no-debian-package"
    monkeypatch.setattr(fashion_mnist_module, "DEBIAN_FASHION_MNIST_ROOT", missing)
    monkeypatch.chdir(tmp_path)
    return missing


def test_none_falls_back_to_the_download_folder(tmp_path: Path, no_debian_folder: Path) -> None:
    raw = tmp_path / "data" / "FashionMNIST" / "raw"  # where scripts/get_fashion_mnist.sh puts it
    raw.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(DEBIAN_FASHION_MNIST_ROOT / name, raw / name)
    train = build_dataset("fashion_mnist_lt", None, train=True)
    test = build_dataset("fashion_mnist_lt", None, train=False)
    assert train.root == tmp_path / "data"
    assert len(train) == 1236 and len(test) == 10_000
    reference = FashionMNISTLT(DEBIAN_FASHION_MNIST_ROOT, train=True)
    assert train.targets == reference.targets
    assert torch.equal(train.images, reference.images)


def test_none_without_any_copy_names_the_debian_folder(no_debian_folder: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"--data\.download=true") as caught:
        build_dataset("fashion_mnist_lt", None, train=True)
    assert str(no_debian_folder) in str(caught.value)
