"""The experiment config: typed dataclass sections, YAML files, ``--section.key=value``."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "SHORTCUT_FLAGS",
    "DataConfig",
    "EvalConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "TrainConfig",
    "TrainerConfig",
    "load_config",
]


@dataclass
class ModelConfig:
    """Keyword arguments of :func:`aglu.models.create`, nothing else."""

    name: str = "se_resnet32"
    num_classes: int = 10
    in_chans: int = 3
    act_layer: str = "aglu"
    gate_layer: str = "apa"
    head: str = "cosine"


@dataclass
class DataConfig:
    """The dataset for :func:`aglu.data.build_dataset` and how batches are drawn from it.

    ``root=None`` is the Debian package's folder for Fashion-MNIST; ``None`` for ``max_count`` and
    ``imbalance_factor`` (1/ρ) means the dataset's default. ``train_list``, ``eval_list`` and
    ``image_root`` reach the list-file datasets only. ``batch_size`` is the total over all
    processes; each process loads ``batch_size / world_size``.
    """

    name: str = "fashion_mnist_lt"
    root: str | None = None
    max_count: int | None = None
    imbalance_factor: float | None = None
    profile: str = "exp"
    download: bool = False
    train_list: str | None = None
    eval_list: str | None = None
    image_root: str | None = None
    recipe: str = "fashion_mnist"
    image_size: int | None = None
    resize_size: int | None = None
    cutout_size: int = 16
    batch_size: int = 128
    num_workers: int = 1
    sampler: str = "instance"
    repeats: int = 3
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0


@dataclass
class OptimConfig:
    """SGD or AdamW with a per-step cosine schedule after a linear warm-up.

    ``train_only`` lists parameter-name prefixes (e.g. ``["layer4", "head"]``) to train; the rest
    stays frozen. ``None`` trains everything.
    """

    name: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    train_only: list[str] | None = None
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    schedule: str = "cosine"


@dataclass
class LossConfig:
    """Arguments of :func:`aglu.losses.build_loss`."""

    name: str = "ce"
    label_smoothing: float = 0.0
    drw_start_epoch: int | None = None


@dataclass
class TrainerConfig:
    """How Lightning's Trainer runs: hardware, precision, length, seed, output folder.

    ``num_threads`` sets torch's CPU threads per process (``None``: torch's default); on a busy
    machine one thread per process avoids threads waiting on each other. ``init_checkpoint`` starts
    from trained weights: a run folder or ``.ckpt`` of ``aglu train`` (tensors whose name and
    shape match; a new head keeps its initialisation).
    """

    epochs: int = 10
    seed: int = 0
    out: str | None = None
    accelerator: str = "cpu"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    deterministic: bool = True
    num_threads: int | None = None
    gradient_clip_val: float | None = None
    init_checkpoint: str | None = None
    ema_decay: float | None = None
    eval_every_n_epochs: int = 1
    progress_bar: bool = True
    log_every_n_steps: int = 10


@dataclass
class EvalConfig:
    """Evaluation: the IIF variant, calibration bins, shot thresholds and evaluation subsets.

    ``val_samples`` images of the balanced test split (the same classes-balanced subset every
    time) are scored during training; ``test_samples`` (``None``: all) at the end and by
    ``aglu eval``.
    """

    iif: str = "rel"
    num_bins: int = 15
    many_threshold: int = 100
    few_threshold: int = 20
    batch_size: int = 500
    val_samples: int | None = 1000
    test_samples: int | None = None


SECTIONS: dict[str, type] = {
    "model": ModelConfig,
    "data": DataConfig,
    "optim": OptimConfig,
    "loss": LossConfig,
    "trainer": TrainerConfig,
    "eval": EvalConfig,
}

# Flags that stand for a config key: ``--epochs 3`` is ``--trainer.epochs=3``.
SHORTCUT_FLAGS = {
    "--epochs": "trainer.epochs",
    "--out": "trainer.out",
    "--seed": "trainer.seed",
    "--devices": "trainer.devices",
}


@dataclass
class TrainConfig:
    """The whole experiment: one dataclass per section, saved as the run's ``config.yaml``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The config as plain nested dicts (what ``config.yaml`` holds)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, sections: dict[str, dict[str, Any]]) -> TrainConfig:
        """Rebuild a config from :meth:`to_dict`'s output (a run's ``config.yaml``)."""
        _check_keys(sections, "the config")
        return _parse(sections, [])

    def dump(self) -> str:
        """The config as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _field_names(section: str) -> list[str]:
    return [f.name for f in dataclasses.fields(SECTIONS[section])]


def _check_keys(sections: Any, source: str) -> None:
    """Reject unknown sections and keys with the list of valid ones."""
    if not isinstance(sections, dict):
        raise ValueError(f"{source} must be a mapping of sections {', '.join(SECTIONS)}")
    for section, values in sections.items():
        if section not in SECTIONS:
            raise ValueError(
                f"unknown config section {section!r} in {source}; valid: {', '.join(SECTIONS)}"
            )
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ValueError(f"section {section!r} in {source} must be a mapping of keys")
        for key in values:
            if key not in _field_names(section):
                raise ValueError(
                    f"unknown key {section}.{key} in {source}; valid keys of {section}: "
                    f"{', '.join(_field_names(section))}"
                )


def expand_shortcuts(argv: list[str]) -> list[str]:
    """Rewrite ``--epochs 3`` or ``--epochs=3`` (and other shortcuts) as ``--trainer.epochs=3``."""
    expanded: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        flag, has_value, value = arg.partition("=")
        if flag in SHORTCUT_FLAGS:
            if not has_value:
                if index + 1 >= len(argv):
                    raise ValueError(f"{flag} needs a value, e.g. {flag} 1")
                index += 1
                value = argv[index]
            arg = f"--{SHORTCUT_FLAGS[flag]}={value}"
        expanded.append(arg)
        index += 1
    return expanded


_OVERRIDE = re.compile(r"^--([A-Za-z_]+)\.([A-Za-z_]+)(=.*)?$")


def _check_overrides(overrides: list[str]) -> None:
    """Check each ``--section.key[=value]`` names a real key (values are checked by the parser)."""
    index = 0
    while index < len(overrides):
        arg = overrides[index]
        match = _OVERRIDE.match(arg)
        if match is None:
            raise ValueError(
                f"unexpected argument {arg!r}; override config keys as --section.key=value "
                f"(sections: {', '.join(SECTIONS)}) or use {', '.join(SHORTCUT_FLAGS)}"
            )
        section, key, value = match.groups()
        _check_keys({section: {key: None}}, "the command line")
        if value is None:
            index += 1  # the value is the next argument
        index += 1


def _parse(sections: dict[str, Any], overrides: list[str]) -> TrainConfig:
    """Type-check and convert sections plus overrides with jsonargparse."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(prog="aglu train", exit_on_error=False)
    for name, cls in SECTIONS.items():
        parser.add_class_arguments(cls, name, fail_untyped=True)
    parser.set_defaults(
        {f"{s}.{k}": v for s, values in sections.items() for k, v in values.items()}
    )
    try:
        namespace = parser.parse_args(overrides)
    except Exception as error:  # jsonargparse raises ArgumentError / TypeError subclasses
        message = " ".join(str(error).split())
        raise ValueError(f"invalid config value: {message}") from None
    parsed = namespace.as_dict()
    config = TrainConfig(**{name: SECTIONS[name](**parsed[name]) for name in SECTIONS})
    _check_values(config)
    return config


_CHOICES = {
    ("trainer", "accelerator"): ("cpu", "gpu", "cuda", "auto"),
    ("trainer", "precision"): ("32-true", "32", "bf16-mixed", "16-mixed", "64-true"),
    ("trainer", "strategy"): ("auto", "ddp", "ddp_spawn", "ddp_find_unused_parameters_true"),
    ("optim", "name"): ("sgd", "adamw"),
    ("optim", "schedule"): ("cosine", "constant"),
}
_POSITIVE = [
    ("trainer", "epochs"),
    ("trainer", "devices"),
    ("trainer", "num_nodes"),
    ("trainer", "eval_every_n_epochs"),
    ("trainer", "log_every_n_steps"),
    ("data", "batch_size"),
    ("data", "repeats"),
    ("eval", "batch_size"),
    ("eval", "num_bins"),
    ("model", "num_classes"),
]
# Keys that may be None, else at least 1.
_POSITIVE_OR_NONE = [
    ("trainer", "num_threads"),
    ("eval", "val_samples"),
    ("eval", "test_samples"),
]
# (section, key) -> the valid range [low, high); None is always accepted.
_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("optim", "momentum"): (0.0, 1.0),
    ("optim", "weight_decay"): (0.0, math.inf),
    ("optim", "warmup_epochs"): (0.0, math.inf),
    ("optim", "min_lr"): (0.0, math.inf),
    ("loss", "label_smoothing"): (0.0, 1.0),
    ("loss", "drw_start_epoch"): (0.0, math.inf),
    ("data", "mixup_alpha"): (0.0, math.inf),
    ("data", "cutmix_alpha"): (0.0, math.inf),
    ("data", "num_workers"): (0.0, math.inf),
    ("trainer", "seed"): (0, 2**32),
    ("trainer", "ema_decay"): (0.0, 1.0),
    ("trainer", "gradient_clip_val"): (0.0, math.inf),
    ("eval", "many_threshold"): (0.0, math.inf),
    ("eval", "few_threshold"): (0.0, math.inf),
}


def _registered_names() -> dict[tuple[str, str], tuple[tuple[str, ...], bool]]:
    """Keys naming a registered part -> (the known names, True when matched case-insensitively)."""
    from aglu.data import DATASETS, SAMPLERS
    from aglu.layers import ACTIVATIONS
    from aglu.losses import IIF_VARIANTS, LOSSES
    from aglu.models import GATES, HEADS, list_models

    return {
        ("model", "name"): (tuple(list_models()), True),
        ("model", "act_layer"): (tuple(sorted(ACTIVATIONS)), True),
        ("model", "gate_layer"): (tuple(GATES), True),
        ("model", "head"): (tuple(HEADS), True),
        ("data", "name"): (tuple(sorted(DATASETS)), False),
        ("data", "sampler"): (tuple(SAMPLERS), False),
        ("loss", "name"): (tuple(sorted(LOSSES)), False),
        ("eval", "iif"): (tuple(IIF_VARIANTS), False),
    }


def _check_values(config: TrainConfig) -> None:
    """Reject values no run could use, naming the key and what it accepts.

    Names of models, activations, gates, heads, datasets, samplers, losses and IIF variants are
    checked here, against their registries, so that a typo fails before any file is written.
    """
    for (section, key), choices in _CHOICES.items():
        value = getattr(getattr(config, section), key)
        if value not in choices:
            raise ValueError(f"{section}.{key}={value!r} is not one of {', '.join(choices)}")
    for (section, key), (names, any_case) in _registered_names().items():
        value = getattr(getattr(config, section), key)
        if (value.lower() if any_case else value) not in names:
            raise ValueError(f"{section}.{key}={value!r} is not one of {', '.join(names)}")
    for section, key in _POSITIVE + _POSITIVE_OR_NONE:
        value = getattr(getattr(config, section), key)
        if value is None and (section, key) in _POSITIVE_OR_NONE:
            continue
        if value < 1:
            none = " (or null)" if (section, key) in _POSITIVE_OR_NONE else ""
            raise ValueError(f"{section}.{key}={value!r} must be at least 1{none}")
    for (section, key), (low, high) in _RANGES.items():
        value = getattr(getattr(config, section), key)
        if value is not None and not low <= value < high:
            low_text, high_text = (
                f"{end:g}" if isinstance(end, float) else end for end in (low, high)
            )
            valid = (
                f"finite and at least {low_text}"
                if high == math.inf
                else f"in [{low_text}, {high_text})"
            )
            raise ValueError(f"{section}.{key}={value!r} must be {valid}")
    if not 0 < config.optim.lr < math.inf:
        raise ValueError(f"optim.lr={config.optim.lr!r} must be finite and greater than 0")
    evaluation = config.eval
    if evaluation.few_threshold > evaluation.many_threshold:
        raise ValueError(
            f"eval.few_threshold={evaluation.few_threshold} must be at most "
            f"eval.many_threshold={evaluation.many_threshold}"
        )


def _read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes one line naming the file and the line."""
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ValueError(f"YAML syntax error in {where}: {problem}; fix the file") from None


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Read a YAML experiment file and apply command-line overrides.

    Args:
        path: a YAML file with any of the sections ``model``, ``data``, ``optim``, ``loss``,
            ``trainer``, ``eval``; ``None`` starts from the defaults.
        overrides: ``--section.key=value`` items (or ``--section.key value``) and the shortcut
            flags ``--epochs``, ``--out``, ``--seed``, ``--devices``.

    Example:
        >>> config = load_config(None, ["--epochs", "3", "--model.act_layer=relu"])
        >>> config.trainer.epochs, config.model.act_layer
        (3, 'relu')
    """
    sections: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} not found; pass a YAML file")
        sections = _read_yaml(path)
        _check_keys(sections, str(path))
        sections = {name: values or {} for name, values in sections.items()}
    overrides = expand_shortcuts(list(overrides))
    _check_overrides(overrides)
    return _parse(sections, overrides)
