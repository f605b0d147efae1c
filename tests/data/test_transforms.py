"""Augmentation recipes, Cutout, and MixUp/CutMix batches."""

import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from aglu.data import RECIPES, Cutout, build_mix, build_transforms
from aglu.data.transforms import CIFAR_MEAN, CIFAR_STD, FASHION_MNIST_MEAN, FASHION_MNIST_STD


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("train", [True, False])
def test_every_recipe_returns_normalised_float_images(recipe, train):
    channels = 1 if recipe == "fashion_mnist" else 3
    size = 28 if recipe == "fashion_mnist" else 32
    image_size = None if recipe in ("fashion_mnist", "cifar") else 24
    transform = build_transforms(recipe, train=train, image_size=image_size)
    image = torch.randint(0, 256, (channels, size, size), dtype=torch.uint8)
    out = transform(image)
    expected_size = 32 if image_size is None else 24
    assert type(out) is torch.Tensor and out.dtype == torch.float32
    assert out.shape == (channels, expected_size, expected_size)


def test_fashion_mnist_eval_pads_to_32_and_normalises_exactly():
    image = torch.arange(784, dtype=torch.int64).remainder(256).to(torch.uint8).view(1, 28, 28)
    out = build_transforms("fashion_mnist", train=False)(image)
    mean, std = FASHION_MNIST_MEAN[0], FASHION_MNIST_STD[0]
    expected = torch.full((1, 32, 32), (0.0 - mean) / std, dtype=torch.float64)
    expected[:, 2:30, 2:30] = (image.double() / 255 - mean) / std
    torch.testing.assert_close(out.double(), expected, rtol=0, atol=1e-6)


def test_cifar_eval_is_plain_normalisation_and_accepts_pil():
    pixel = (255, 0, 51)
    out = build_transforms("cifar", train=False)(Image.new("RGB", (32, 32), color=pixel))
    for channel in range(3):
        value = (pixel[channel] / 255 - CIFAR_MEAN[channel]) / CIFAR_STD[channel]
        torch.testing.assert_close(out[channel], torch.full((32, 32), value), atol=1e-6, rtol=0)


def _cifar_image():
    """A (3, 32, 32) uint8 image whose every pixel differs from its neighbours."""
    return torch.arange(3 * 32 * 32).remainder(251).to(torch.uint8).view(3, 32, 32)


def _normalised(image, mean=CIFAR_MEAN, std=CIFAR_STD):
    mean = torch.tensor(mean, dtype=torch.float64)[:, None, None]
    std = torch.tensor(std, dtype=torch.float64)[:, None, None]
    return (image.double() / 255 - mean) / std


def test_cifar_eval_centre_crops_to_image_size():
    image = _cifar_image()
    out = build_transforms("cifar", train=False, image_size=24)(image)
    assert out.shape == (3, 24, 24)
    expected = _normalised(image[:, 4:28, 4:28])  # (32 - 24) / 2 = 4 pixels off each side
    torch.testing.assert_close(out.double(), expected, rtol=0, atol=1e-6)


def test_cifar_eval_pads_to_a_larger_image_size():
    image = _cifar_image()
    out = build_transforms("cifar", train=False, image_size=40)(image)
    padded = torch.zeros(3, 40, 40, dtype=torch.uint8)
    padded[:, 4:36, 4:36] = image  # zero border of (40 - 32) / 2 = 4
    torch.testing.assert_close(out.double(), _normalised(padded), rtol=0, atol=1e-6)


@pytest.mark.parametrize("image_size", [16, 24, 48, 64])
def test_cifar_train_crops_image_size_around_the_eval_view(image_size):
    torch.manual_seed(0)
    transform = build_transforms("cifar", train=True, image_size=image_size)
    centre, random_crop = transform.transforms[1], transform.transforms[2]
    assert isinstance(centre, v2.CenterCrop) and centre.size == (image_size, image_size)
    assert isinstance(random_crop, v2.RandomCrop) and random_crop.size == (image_size, image_size)
    assert random_crop.padding == [4, 4, 4, 4]
    assert transform(_cifar_image()).shape == (3, image_size, image_size)


def test_cifar_train_at_32_draws_the_same_as_plain_random_crop_padding_4():
    plain = v2.Compose(
        [
            v2.ToImage(),
            v2.RandomCrop(32, padding=4),
            v2.RandomHorizontalFlip(),
            v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(CIFAR_MEAN, CIFAR_STD),
            v2.ToPureTensor(),
            Cutout(16),
        ]
    )
    recipe = build_transforms("cifar", train=True)
    for seed in range(5):
        torch.manual_seed(seed)
        expected = plain(_cifar_image())
        torch.manual_seed(seed)
        torch.testing.assert_close(recipe(_cifar_image()), expected, rtol=0, atol=0)


def test_imagenet_eval_resizes_then_centre_crops():
    image = torch.zeros(3, 64, 128, dtype=torch.uint8)
    image[:, :, 64:] = 255  # left half black, right half white
    out = build_transforms("imagenet", train=False, image_size=16, resize_size=20)(image)
    assert out.shape == (3, 16, 16)  # short side 64 -> 20 (20 x 40), centre crop 16
    assert out[0, :, 0].max() < 0 < out[0, :, -1].min()  # still dark left, bright right
    assert build_transforms("randaugment", train=False, image_size=224).transforms[1].size == [256]


def test_cifar_train_applies_cutout_and_leaves_input_untouched():
    torch.manual_seed(0)
    transform = build_transforms("cifar", train=True)
    assert any(isinstance(step, Cutout) and step.size == 16 for step in transform.transforms)
    image = torch.full((3, 32, 32), 255, dtype=torch.uint8)
    before = image.clone()
    transform(image)
    assert torch.equal(image, before)


@pytest.mark.parametrize("seed", range(20))
def test_cutout_zeroes_one_clipped_square(seed):
    torch.manual_seed(seed)
    out = Cutout(16)(torch.ones(3, 32, 32))
    rows = (out[0] == 0).any(dim=1).nonzero().flatten()
    cols = (out[0] == 0).any(dim=0).nonzero().flatten()
    height, width = len(rows), len(cols)
    assert 8 <= height <= 16 and 8 <= width <= 16  # the centre may sit on the border
    assert int((out[0] == 0).sum()) == height * width  # one filled rectangle
    assert torch.equal(out[0] == 0, out[2] == 0)


def test_random_erasing_probability_one_erases():
    torch.manual_seed(0)
    transform = build_transforms("trivialaugment", train=True, image_size=32, random_erasing=1.0)
    out = transform(torch.full((3, 40, 40), 255, dtype=torch.uint8))
    assert (out == 0).any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"recipe": "autoaugment"}, "unknown transform recipe 'autoaugment'"),
        ({"random_erasing": 1.5}, "random_erasing=1.5"),
        ({"image_size": 0}, "image_size=0"),
    ],
)
def test_bad_transform_arguments(kwargs, match):
    arguments = {"recipe": "cifar", **kwargs}
    with pytest.raises(ValueError, match=match):
        build_transforms(arguments.pop("recipe"), train=True, **arguments)


def test_no_mixing_returns_none():
    assert build_mix(0.0, 0.0, num_classes=10) is None


def test_mixup_mixes_images_and_labels_with_the_same_weight():
    torch.manual_seed(0)
    images, labels = torch.rand(6, 3, 4, 4, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 4, 0])
    mixed, targets = build_mix(0.2, 0.0, num_classes=5)(images, labels)
    weight = targets[1, 1].item()  # sample 1 keeps `weight` of itself and 1 - weight of sample 0
    assert 0.0 <= weight <= 1.0
    torch.testing.assert_close(targets.sum(1), torch.ones(6, dtype=targets.dtype))
    partner = images.roll(1, dims=0)
    torch.testing.assert_close(mixed, weight * images + (1 - weight) * partner)
    assert targets[1, 0].item() == pytest.approx(1 - weight)


def test_cutmix_label_weight_is_the_pasted_area():
    torch.manual_seed(3)
    images = torch.zeros(4, 1, 10, 10)
    images[1] = 1.0  # sample 2 takes its patch from sample 1 (a roll by one)
    labels = torch.tensor([0, 1, 2, 3])
    mixed, targets = build_mix(0.0, 1.0, num_classes=4)(images, labels)
    pasted_fraction = mixed[2].mean().item()
    assert 0.0 < pasted_fraction < 1.0
    assert targets[2, 1].item() == pytest.approx(pasted_fraction)
    assert targets[2, 2].item() == pytest.approx(1 - pasted_fraction)


def test_both_alphas_pick_one_of_the_two():
    mix = build_mix(0.2, 1.0, num_classes=3)
    _, targets = mix(torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]))
    assert targets.shape == (4, 3)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((-0.1, 0.0, 10), ValueError),
        ((0.2, float("inf"), 10), ValueError),
        ((0.2, 0, 1), ValueError),
    ],
)
def test_bad_mixing_arguments(args, error):
    with pytest.raises(error):
        build_mix(*args)
