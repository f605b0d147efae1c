"""`aglu plot` and `aglu analyze` end to end on tiny models, run folders and checkpoints."""

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from aglu.analysis.loading import load_model
from aglu.analysis.params_plot import learned_parameters, parameter_trajectory
from aglu.cli import main
from aglu.models import create

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLASS_COUNTS = [500, 150, 60, 30, 10, 5]  # many: 2 classes, medium: 2, few: 2

FIXTURES = textwrap.dedent(
    """
    import torch
    from torch import nn
    from torch.utils.data import TensorDataset

    from aglu import AGLU, APA


    class TinyNet(nn.Module):
        def __init__(self, num_classes=6):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.act = AGLU()
            self.gate = APA()
            self.dead = nn.ReLU()  # always fed zeros: a degenerate layer
            self.head = nn.Linear(4, num_classes)

        def forward(self, x):
            x = self.act(self.conv(x))
            x = x * self.gate(x.mean(dim=(2, 3), keepdim=True)) + self.dead(x * 0)
            return self.head(x.mean(dim=(2, 3)))


    def build_model(num_classes=6):
        torch.manual_seed(0)
        return TinyNet(num_classes)


    def build_dataset(size=32):
        generator = torch.Generator().manual_seed(0)
        images = torch.randn(64, 1, size, size, generator=generator)
        dataset = TensorDataset(images, torch.arange(64) % 6)
        dataset.class_counts = [500, 150, 60, 30, 10, 5]
        return dataset


    def build_images_8():
        return build_dataset(8)
    """
)


@pytest.fixture
def fixtures_module(tmp_path, monkeypatch):
    """A module on sys.path with a model factory and a dataset factory, as a user would write."""
    (tmp_path / "analysis_fixtures_mod.py").write_text(FIXTURES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "analysis_fixtures_mod", raising=False)
    import analysis_fixtures_mod

    yield analysis_fixtures_mod
    sys.modules.pop("analysis_fixtures_mod", None)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_activation_writes_figure(tmp_path, suffix):
    out = tmp_path / f"activation{suffix}"
    assert (
        main(["plot", "activation", "--lambda", "0.5", "1", "2", "--kappa", "1", "--out", str(out)])
        == 0
    )
    content = out.read_bytes()
    assert content.startswith(PNG_MAGIC) if suffix == ".png" else b"<svg" in content[:2000]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "figure.txt"], "no figure extension"),
        (["--lambda", "-1", "--out", "figure.png"], "lambda=-1.0 is not allowed"),
    ],
)
def test_plot_activation_rejects_bad_input(tmp_path, capsys, arguments, message):
    assert main(["plot", "activation", *arguments]) == 2
    assert message in capsys.readouterr().err


def write_run(run_dir, model, model_section, epochs=0, config_in_checkpoint=False):
    """A run folder as docs/design.md describes it, written by hand.

    ``aglu train`` also keeps the config in the checkpoint (``hyper_parameters.config``), which
    ``aglu.train.load_model`` reads; without it the model is rebuilt from config.yaml.
    """
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump({"model": model_section}))
    checkpoint = {
        "epoch": epochs,
        "state_dict": {f"model.{key}": value for key, value in model.state_dict().items()},
    }
    if config_in_checkpoint:
        checkpoint["hyper_parameters"] = {"config": {"model": model_section}}
    torch.save(checkpoint, run_dir / "checkpoints" / "last.ckpt")
    lines = []
    for epoch in range(epochs):
        params = {
            "act": {"lambda": [0.5 + 0.1 * epoch], "kappa": [1.0 - 0.05 * epoch]},
            "gate": {"lambda": [0.2], "kappa": [0.4 + 0.1 * epoch]},
        }
        lines.append(json.dumps({"epoch": epoch, "train_loss": 1.0, "activation_params": params}))
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_params_writes_figure(tmp_path, fixtures_module, suffix):
    model = fixtures_module.build_model()
    write_run(tmp_path / "run", model, {"name": "unused"}, epochs=3)
    out = tmp_path / f"params{suffix}"

    assert main(["plot", "params", str(tmp_path / "run"), "--out", str(out)]) == 0

    assert out.stat().st_size > 1000
    learned = learned_parameters(model.state_dict())
    assert list(learned) == ["act", "gate"]
    assert learned["act"]["kappa"][0] == pytest.approx(model.act.kappa.item())
    records = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    epochs, trajectory = parameter_trajectory([json.loads(line) for line in records])
    assert epochs.tolist() == [0, 1, 2]
    np.testing.assert_allclose(trajectory["act"]["lambda"][:, 0], [0.5, 0.6, 0.7])


def test_plot_params_without_adaptive_layers_fails_clearly(tmp_path, capsys):
    write_run(tmp_path / "run", torch.nn.Linear(2, 2), {"name": "unused"})
    assert main(["plot", "params", str(tmp_path / "run")]) == 2
    assert "has no APA/AGLU parameters" in capsys.readouterr().err


def test_analyze_import_path_model_and_data(tmp_path, fixtures_module):
    model = fixtures_module.build_model()
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    out = tmp_path / "analysis"

    code = main(
        [
            "analyze", str(tmp_path / "weights.pt"),
            "--model", "analysis_fixtures_mod:build_model",
            "--model-kwargs", '{"num_classes": 6}',
            "--data", "analysis_fixtures_mod:build_images_8",
            "--samples", "48", "--batch-size", "16", "--max-values", "1500",
            "--out", str(out),
        ]
    )  # fmt: skip

    assert code == 0
    report = json.loads((out / "analysis.json").read_text())
    assert report["samples"] == 48
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert [(name, layer["kind"], layer["role"]) for name, layer in layers.items()] == [
        ("act", "AGLU", "activation"),
        ("gate", "APA", "gate"),
        ("dead", "ReLU", "activation"),
    ]
    assert layers["act"]["values_seen"] == 48 * 4 * 8 * 8
    assert layers["act"]["fitted_count"] == 1500
    assert layers["act"]["best"] in ("normal", "logistic", "gumbel")
    assert set(layers["act"]["fits"]) == {"normal", "logistic", "gumbel"}
    assert layers["act"]["lambda"] == pytest.approx(model.act.lambda_.item())
    assert layers["dead"]["degenerate"] and report["degenerate_layers"] == ["dead"]
    assert layers["dead"]["reason"] == "constant input (every value is 0)"
    groups = report["logits"]
    assert {name: groups[name].get("num_classes") for name in groups} == {
        "all": 6, "many": 2, "medium": 2, "few": 2
    }  # fmt: skip
    assert groups["few"]["count"] == 48 * 2
    assert (out / "summary.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "histograms.png").read_bytes().startswith(PNG_MAGIC)
    assert report["figures"] == {"summary": "summary.png", "histograms": "histograms.png"}

    # The README generator turns the report into markdown and copies the figures beside it.
    spec = importlib.util.spec_from_file_location("readme_analysis", SCRIPTS / "readme_analysis.py")
    readme_analysis = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme_analysis)
    markdown = readme_analysis.render(out / "analysis.json", tmp_path / "figures")
    assert "inputs of the 2 activation layers (" in markdown and "degenerate 1" in markdown
    few = groups["few"]
    assert f"| few-shot | 2 | 96 | **{few['best']}** |" in markdown
    best = {name: groups[name]["best"] or "degenerate" for name in groups}
    sentence = (
        f"Best fit of the logits of {tmp_path.name} by log-likelihood: all classes {best['all']}, "
        f"many-shot {best['many']}, medium-shot {best['medium']}, few-shot {best['few']}."
    )
    assert sentence in markdown.splitlines()
    assert (tmp_path / "figures" / f"analysis-{tmp_path.name}-summary.png").is_file()


def test_analyze_explicit_zero_thresholds_are_kept(tmp_path, fixtures_module):
    model = fixtures_module.build_model()
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    out = tmp_path / "analysis"
    code = main(
        ["analyze", str(tmp_path / "weights.pt"), "--model", "analysis_fixtures_mod:build_model",
         "--data", "analysis_fixtures_mod:build_images_8", "--samples", "12",
         "--many-threshold", "0", "--few-threshold", "0", "--out", str(out)]
    )  # fmt: skip

    assert code == 0
    report = json.loads((out / "analysis.json").read_text())
    assert (report["many_threshold"], report["few_threshold"]) == (0, 0)
    # every class has more than 0 training images: all many-shot, none medium or few
    assert {name: group["num_classes"] for name, group in report["logits"].items()} == {
        "all": 6, "many": 6
    }  # fmt: skip


def test_analyze_run_folder_of_our_model(tmp_path, fixtures_module):
    from aglu.models import activation_modules, create

    section = {"name": "se_resnet32", "num_classes": 6, "in_chans": 1, "act_layer": "aglu",
               "gate_layer": "apa", "head": "linear"}  # fmt: skip
    torch.manual_seed(0)
    model = create(**section)
    write_run(tmp_path / "run", model, section, config_in_checkpoint=True)

    code = main(
        ["analyze", str(tmp_path / "run"), "--data", "analysis_fixtures_mod:build_images_8",
         "--samples", "8", "--batch-size", "8", "--max-values", "400"]
    )  # fmt: skip

    assert code == 0
    report = json.loads((tmp_path / "run" / "analysis" / "analysis.json").read_text())
    names = [layer["name"] for layer in report["layers"]]
    adaptive = [name for name, _ in activation_modules(model)]
    assert [name for name in names if name in adaptive] == adaptive
    kinds = {layer["kind"] for layer in report["layers"]}
    assert {"AGLU", "APA"} <= kinds
    gates = [layer for layer in report["layers"] if layer["kind"] == "APA"]
    assert gates and all(layer["role"] == "gate" for layer in gates)
    assert sum(report["best_fit_counts"].values()) + len(report["degenerate_layers"]) == len(names)
    assert (tmp_path / "run" / "analysis" / "summary.png").exists()


@pytest.mark.parametrize("config_in_checkpoint", [True, False])
def test_load_model_from_run_folder(tmp_path, config_in_checkpoint):
    from aglu.models import create

    section = {"name": "resnet32", "num_classes": 3, "act_layer": "aglu", "head": "cosine"}
    model = create(**section)
    write_run(tmp_path / "run", model, section, config_in_checkpoint=config_in_checkpoint)

    loaded = load_model(tmp_path / "run" / "checkpoints" / "last.ckpt")

    assert loaded.config["model"] == section and not loaded.model.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value), key


def test_analyze_checkpoint_without_config_names_what_is_missing(tmp_path, capsys):
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "weights.pt")
    assert main(["analyze", str(tmp_path / "weights.pt")]) == 2
    error = capsys.readouterr().err
    assert "no config.yaml" in error and "--model package.module:factory" in error


def test_analyze_mismatched_weights_name_the_keys(tmp_path, fixtures_module, capsys):
    torch.save({"conv.weight": torch.zeros(4, 1, 3, 3)}, tmp_path / "partial.pt")
    arguments = ["analyze", str(tmp_path / "partial.pt"), "--model"]
    assert main([*arguments, "analysis_fixtures_mod:build_model"]) == 2
    error = capsys.readouterr().err
    assert "7 missing key(s)" in error and "conv.bias" in error


def test_analyze_run_config_without_model_section(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"data": {"name": "cifar10_lt"}}))
    torch.save({}, tmp_path / "model.ckpt")
    assert main(["analyze", str(tmp_path / "model.ckpt")]) == 2
    assert "no model section" in capsys.readouterr().err


def test_scipy_and_matplotlib_stay_out_of_import_aglu():
    code = (
        "import sys, aglu, aglu.analysis.commands, aglu.analysis.fits;"
        "print(sorted(m for m in ('scipy', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _corrupt_run(tmp_path):
    section = {"name": "resnet32", "num_classes": 3, "act_layer": "aglu"}
    write_run(tmp_path / "run", create(**section), section)
    (tmp_path / "run" / "checkpoints" / "last.ckpt").write_bytes(b"not a checkpoint")
    return tmp_path / "run"


@pytest.mark.parametrize("command", ["plot params", "analyze"])
def test_a_corrupt_checkpoint_is_one_line_and_exit_2(tmp_path, capsys, command):
    run = _corrupt_run(tmp_path)
    assert main([*command.split(), str(run)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0, error
    assert error.startswith(f"aglu {command.split()[0]}: checkpoint ")
    assert "last.ckpt' is corrupt or truncated" in error and "best.ckpt" in error
