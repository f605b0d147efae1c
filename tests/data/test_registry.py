"""Datasets by name, the package's public names, and its import boundary."""

import ast
from pathlib import Path

import pytest

import aglu.data
from aglu.data import DATASETS, build_dataset


def test_public_names_of_the_design_note_are_exported():
    for name in [
        "long_tail_counts",
        "build_dataset",
        "build_transforms",
        "build_mix",
        "build_sampler",
        "DistributedEvalSampler",
        "DatasetNotFoundError",
    ]:
        assert name in aglu.data.__all__ and hasattr(aglu.data, name)
    assert DATASETS == (
        "fashion_mnist_lt",
        "cifar10_lt",
        "cifar100_lt",
        "imagenet_lt",
        "places_lt",
        "inaturalist2018",
    )


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'.*fashion_mnist_lt.*inaturalist"):
        build_dataset("mnist", "data", train=True)


@pytest.mark.parametrize("name", ["fashion_mnist_lt", "cifar10_lt", "cifar100_lt"])
@pytest.mark.parametrize("imbalance_factor", [0.0, 1.01])
def test_imbalance_factor_outside_unit_interval_raises(name, imbalance_factor, tmp_path):
    with pytest.raises(ValueError, match=f"imbalance_factor={imbalance_factor}"):
        build_dataset(name, tmp_path, train=True, imbalance_factor=imbalance_factor)


def test_cifar_needs_a_root():
    with pytest.raises(ValueError, match="cifar10_lt needs root"):
        build_dataset("cifar10_lt", None, train=False)


def _imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_data_package_imports_nothing_above_it():
    files = sorted(Path(aglu.data.__file__).parent.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        for module in _imported_modules(path):
            assert not module.startswith(("aglu.models", "aglu.train", "aglu.cli")), (path, module)
            if module.startswith("aglu") and module != "aglu.data":
                assert module.startswith("aglu.data."), (path, module)
