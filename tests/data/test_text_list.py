"""Text-list datasets (ImageNet-LT / Places-LT / iNaturalist-2018 format) on generated PNGs."""

import re

import pytest
import torch
from PIL import Image

from aglu.data import DatasetNotFoundError, TextListDataset, build_dataset, build_transforms

# Original labels with training counts 0: 1, 1: 3, 2: 3, 3: 2, 4: 0 -> ranks 1, 2, 3, 0, 4.
TRAIN = [("a/0.png", 0), ("b/0.png", 1), ("b/1.png", 1), ("b/2.png", 1)]
TRAIN += [("c/0.png", 2), ("c/1.png", 2), ("c/2.png", 2), ("d/0.png", 3), ("d/1.png", 3)]
EVAL = [("val/0.png", 4), ("val/1.png", 0), ("val/2.png", 3), ("val/3.png", 1)]


def _write(root, name, samples):
    lines = [f"{path} {label}" for path, label in samples]
    (root / name).write_text("\n".join(lines) + "\n\n")  # a trailing blank line is allowed


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("imagenet_lt")
    for number, (path, _) in enumerate(TRAIN + EVAL):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (6, 4), color=(number, 100, 200)).save(root / path)
    _write(root, "ImageNet_LT_train.txt", TRAIN)
    _write(root, "ImageNet_LT_test.txt", EVAL)
    return root


def test_classes_reindexed_by_descending_training_frequency(root):
    data = build_dataset("imagenet_lt", root, train=True, num_classes=5)
    assert data.class_map == [3, 0, 1, 2, 4]  # ties (1 and 2) keep original order
    assert data.class_counts == [3, 3, 2, 1, 0]
    assert data.targets == [3, 0, 0, 0, 1, 1, 1, 2, 2]
    assert len(data) == 9 and data.num_classes == 5


def test_evaluation_list_uses_the_training_map(root):
    data = build_dataset("imagenet_lt", root, train=False, num_classes=5)
    assert data.targets == [4, 3, 2, 0]
    assert data.class_counts == [3, 3, 2, 1, 0]
    image, label = data[1]
    assert label == 3 and image.shape == (3, 4, 6) and image.dtype == torch.uint8
    assert image[:, 0, 0].tolist() == [len(TRAIN) + 1, 100, 200]  # the pixels of val/1.png


def test_transform_receives_the_image(root):
    transform = build_transforms("imagenet", train=False, image_size=8, resize_size=10)
    data = TextListDataset(
        root, "ImageNet_LT_train.txt", "ImageNet_LT_test.txt", 5, train=True, transform=transform
    )
    image, label = data[0]
    assert image.shape == (3, 8, 8) and image.dtype == torch.float32 and label == 3


def test_label_outside_range_names_file_and_line(root, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a/0.png 0\nb/0.png 1\nc/0.png 5\n")
    with pytest.raises(ValueError, match=r"bad\.txt:3: label 5 is outside \[0, 5\)"):
        TextListDataset(root, bad, None, 5)
    bad.write_text("a/0.png -1\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: label -1"):
        TextListDataset(root, bad, None, 5)
    bad.write_text("a/0.png 0\na/0.png x\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2: label 'x' is not an integer"):
        TextListDataset(root, bad, None, 5)
    bad.write_text("a/0.png\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: expected"):
        TextListDataset(root, bad, None, 5)


def test_default_class_count_rejects_nothing_in_range(root):
    data = build_dataset("places_lt", root, train=True, train_list="ImageNet_LT_train.txt")
    assert data.num_classes == 365 and len(data.class_counts) == 365
    assert data.class_counts[:5] == [3, 3, 2, 1, 0]


def test_missing_files_raise_dataset_not_found(root, tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"iNaturalist18_train\.txt"):
        build_dataset("inaturalist2018", root, train=True)
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "none"))):
        build_dataset("imagenet_lt", tmp_path / "none", train=True)


def test_published_lists_refuse_extra_imbalance(root):
    with pytest.raises(ValueError, match="long-tailed as published"):
        build_dataset("imagenet_lt", root, train=True, imbalance_factor=0.1)
