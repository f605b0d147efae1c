"""The experiment config: YAML recipes, overrides, unknown keys and bad values."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from aglu.train.config import TrainConfig, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_overrides_and_shortcut_flags() -> None:
    overrides = ["--epochs", "3", "--out=runs/x", "--data.root=/some/path", "--seed", "1"]
    overrides += ["--model.act_layer=relu", "--devices", "1", "--optim.lr", "0.05"]
    config = load_config(CONFIGS / "fashion_mnist_lt.yaml", overrides)
    assert config.trainer.epochs == 3
    assert config.trainer.out == "runs/x"
    assert config.trainer.seed == 1
    assert config.trainer.devices == 1
    assert config.data.root == "/some/path"
    assert config.model.act_layer == "relu"
    assert config.optim.lr == 0.05
    assert config.model.gate_layer == "apa"  # untouched keys keep the file's value


def test_demo_config_is_the_documented_recipe() -> None:
    config = load_config(CONFIGS / "fashion_mnist_lt.yaml")
    model = config.model
    assert (model.name, model.act_layer, model.gate_layer, model.head) == (
        "se_resnet32",
        "aglu",
        "apa",
        "cosine",
    )
    assert (config.data.max_count, config.data.imbalance_factor) == (500, 0.01)


def test_cifar100_recipe_matches_reference() -> None:
    config = load_config(CONFIGS / "cifar100_lt.yaml")
    assert (config.data.batch_size, config.optim.lr, config.optim.warmup_epochs) == (512, 0.2, 3)
    assert (config.trainer.epochs, config.optim.weight_decay, config.data.mixup_alpha) == (
        500,
        1e-3,
        0.2,
    )
    assert (config.data.recipe, config.data.cutout_size, config.model.head) == (
        "cifar",
        16,
        "cosine",
    )


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_names_create_kwargs(path: Path) -> None:
    from aglu.models import create

    config = load_config(path)
    create_kwargs = set(inspect.signature(create).parameters) - {"kwargs"}
    assert set(config.to_dict()["model"]) <= create_kwargs


def test_unknown_yaml_key_lists_valid_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  name: resnet32\n  widht: 3\n")
    with pytest.raises(ValueError, match=r"unknown key model\.widht.*valid keys of model: name"):
        load_config(path)


def test_unknown_section_lists_valid_sections(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("optimiser:\n  lr: 0.1\n")
    with pytest.raises(ValueError, match="valid: model, data, optim, loss, trainer, eval"):
        load_config(path)


def test_unknown_override_lists_valid_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown key trainer\.epoch .*epochs"):
        load_config(None, ["--trainer.epoch=3"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("--trainer.epochs=abc", "trainer.epochs"),
        ("--trainer.epochs=0", "trainer.epochs=0 must be at least 1"),
        ("--trainer.precision=8-bit", "trainer.precision='8-bit' is not one of"),
        ("--optim.name=lion", "optim.name='lion' is not one of sgd, adamw"),
    ],
)
def test_bad_values_name_the_key(override: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(None, [override])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("--eval.num_bins=0", "eval.num_bins=0 must be at least 1"),
        ("--seed=-1", "trainer.seed=-1 must be in [0, 4294967296)"),
        ("--trainer.ema_decay=1.5", "trainer.ema_decay=1.5 must be in [0, 1)"),
        ("--trainer.ema_decay=1", "trainer.ema_decay=1.0 must be in [0, 1)"),
        ("--optim.warmup_epochs=-3", "optim.warmup_epochs=-3.0 must be finite and at least 0"),
        ("--optim.lr=-1", "optim.lr=-1.0 must be finite and greater than 0"),
        ("--optim.lr=0", "optim.lr=0.0 must be finite and greater than 0"),
        ("--optim.min_lr=-0.1", "optim.min_lr=-0.1 must be finite and at least 0"),
        ("--optim.momentum=1.2", "optim.momentum=1.2 must be in [0, 1)"),
        ("--optim.weight_decay=-1", "optim.weight_decay=-1.0 must be finite and at least 0"),
        ("--loss.label_smoothing=1", "loss.label_smoothing=1.0 must be in [0, 1)"),
        ("--data.mixup_alpha=-1", "data.mixup_alpha=-1.0 must be finite and at least 0"),
        ("--data.cutmix_alpha=.inf", "data.cutmix_alpha=inf must be finite and at least 0"),
        ("--data.repeats=0", "data.repeats=0 must be at least 1"),
        ("--data.num_workers=-1", "data.num_workers=-1 must be finite and at least 0"),
        ("--eval.val_samples=0", "eval.val_samples=0 must be at least 1 (or null)"),
        ("--eval.test_samples=-5", "eval.test_samples=-5 must be at least 1 (or null)"),
        ("--trainer.log_every_n_steps=0", "trainer.log_every_n_steps=0 must be at least 1"),
        ("--trainer.num_threads=0", "trainer.num_threads=0 must be at least 1 (or null)"),
        ("--trainer.gradient_clip_val=-1", "trainer.gradient_clip_val=-1.0 must be finite and"),
        (
            "--eval.few_threshold=200",
            "eval.few_threshold=200 must be at most eval.many_threshold=100",
        ),
    ],
)
def test_values_out_of_range_name_key_value_and_range(override: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        load_config(None, [override])
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_values_at_the_ends_of_their_ranges_are_accepted() -> None:
    overrides = ["--trainer.ema_decay=0.9999", "--optim.warmup_epochs=0", "--data.mixup_alpha=0"]
    overrides += ["--eval.few_threshold=100", "--eval.val_samples=null", "--optim.lr=1e-6"]
    config = load_config(None, [*overrides, "--trainer.gradient_clip_val=0"])
    assert config.trainer.ema_decay == 0.9999
    assert (config.eval.few_threshold, config.eval.many_threshold) == (100, 100)
    assert config.eval.val_samples is None and config.optim.lr == 1e-6


def test_missing_config_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_dumped_config_round_trips(tmp_path: Path) -> None:
    config = load_config(CONFIGS / "places_lt.yaml", ["--optim.train_only=[layer4]"])
    path = tmp_path / "config.yaml"
    path.write_text(config.dump())
    assert yaml.safe_load(path.read_text()).keys() == {
        "model",
        "data",
        "optim",
        "loss",
        "trainer",
        "eval",
    }
    assert load_config(path) == config
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.optim.train_only == ["layer4"]
