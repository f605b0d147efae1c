"""Fashion-MNIST-LT on the real Debian files."""

import collections
import gzip

import pytest
import torch

from aglu.data import DatasetNotFoundError, FashionMNISTLT, build_dataset, build_transforms
from aglu.data.fashion_mnist import DEBIAN_FASHION_MNIST_ROOT, read_idx

FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
pytestmark = pytest.mark.skipif(
    not all((DEBIAN_FASHION_MNIST_ROOT / name).is_file() for name in FILES),
    reason="Fashion-MNIST not installed (make data, or apt-get install dataset-fashion-mnist)",
)


def test_real_files_decode_to_the_published_sizes():
    train_images = read_idx(str(DEBIAN_FASHION_MNIST_ROOT / FILES[0]))
    train_labels = read_idx(str(DEBIAN_FASHION_MNIST_ROOT / FILES[1]))
    test_images = read_idx(str(DEBIAN_FASHION_MNIST_ROOT / FILES[2]))
    assert train_images.shape == (60_000, 28, 28) and train_images.dtype == torch.uint8
    assert test_images.shape == (10_000, 28, 28)
    assert torch.bincount(train_labels).tolist() == [6000] * 10


def test_long_tailed_training_split():
    data = build_dataset("fashion_mnist_lt", None, train=True)
    expected = [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]
    assert len(data) == 1236 and data.num_classes == 10
    assert data.class_counts == expected
    counted = collections.Counter(data.targets)
    assert [counted[c] for c in range(10)] == expected

    # Each kept image is the full split's image at the recorded position, with the same label.
    full_images = read_idx(str(DEBIAN_FASHION_MNIST_ROOT / FILES[0]))
    full_labels = read_idx(str(DEBIAN_FASHION_MNIST_ROOT / FILES[1]))
    for position in (0, 700, 1235):
        image, label = data[position]
        source = int(data.indices[position])
        assert torch.equal(image, full_images[source].unsqueeze(0))
        assert label == int(full_labels[source])
    assert len(set(data.indices.tolist())) == 1236


def test_test_split_stays_balanced_and_carries_training_counts():
    data = FashionMNISTLT(train=False)
    assert len(data) == 10_000
    assert collections.Counter(data.targets) == dict.fromkeys(range(10), 1000)
    assert data.class_counts == [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]
    image, label = data[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.uint8 and isinstance(label, int)


def test_profile_arguments_reach_the_subset():
    data = FashionMNISTLT(train=True, max_count=100, imbalance_factor=0.1, profile="step")
    assert data.class_counts == [100] * 5 + [10] * 5 and len(data) == 550


def test_torchvision_layout_with_plain_idx_files(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES:
        with gzip.open(DEBIAN_FASHION_MNIST_ROOT / name, "rb") as source:
            (raw / name.removesuffix(".gz")).write_bytes(source.read())
    data = build_dataset("fashion_mnist_lt", tmp_path, train=True)
    reference = FashionMNISTLT(train=True)
    assert data.targets == reference.targets
    assert torch.equal(data.images, reference.images)


def test_missing_folder_names_path_and_how_to_get_it(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as caught:
        build_dataset("fashion_mnist_lt", missing, train=True)
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert str(missing) in message and "\n" not in message
    assert "apt-get install dataset-fashion-mnist" in message and "download=True" in message


def test_loader_batches_with_the_recipe_transform():
    data = FashionMNISTLT(train=True, transform=build_transforms("fashion_mnist", train=True))
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    images, labels = next(iter(loader))
    assert images.shape == (64, 1, 32, 32) and images.dtype == torch.float32
    assert labels.dtype == torch.int64 and labels.max() < 10


def _first_image_from_disk(name):
    """Image 0 of an idx3 file, decoded here without ``read_idx`` (so without its cache)."""
    with gzip.open(DEBIAN_FASHION_MNIST_ROOT / name, "rb") as handle:
        raw = handle.read(16 + 28 * 28)
    return torch.tensor(list(raw[16:]), dtype=torch.uint8).view(1, 28, 28)


@pytest.mark.parametrize("train", [True, False])
def test_in_place_transform_leaves_later_datasets_intact(train):
    def zero_in_place(image):
        return image.zero_()

    try:
        changed = FashionMNISTLT(train=train, transform=zero_in_place)
        for position in range(3):
            assert int(changed[position][0].count_nonzero()) == 0
        fresh = FashionMNISTLT(train=train)
        source = int(fresh.indices[0])  # test split: 0; training split: its first kept image
        name = FILES[0] if train else FILES[2]
        expected = read_idx(str(DEBIAN_FASHION_MNIST_ROOT / name))[source].unsqueeze(0)
        image, _ = fresh[0]
        assert int(image.count_nonzero()) > 0
        assert torch.equal(image, expected)
        if not train:
            assert torch.equal(image, _first_image_from_disk(FILES[2]))
    finally:
        read_idx.cache_clear()  # a failure must not leave a corrupted cache to later tests
