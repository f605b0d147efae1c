"""aglu bench activation: rows, ratios and saved bytes on a tiny shape (the fused AGLU saves only
its input, the plain-ops formula about 4x), the JSON written by `aglu bench activation` with the
machine record, the `aglu bench` dispatch, the README table script, and a CPU dry run of
benchmarks/gpu_check.sh. Timings themselves are never asserted (the machine is shared)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aglu.bench import activation, commands
from aglu.bench.activation import CASES, build_modules, format_table, measure_activation
from aglu.bench.throughput import ACTIVATION_PAIRS

ROOT = Path(__file__).resolve().parent.parent


def test_rows_ratio_and_saved_bytes():
    rows = measure_activation((2, 4, 8, 8), cases=list(CASES), warmup=1, repeats=2)
    by_case = {row["case"]: row for row in rows}
    assert list(by_case) == list(CASES)
    assert by_case["silu"]["ratio_to_silu"] == 1.0
    assert by_case["aglu_eager"]["saved_vs_input"] == pytest.approx(1.0, abs=0.01)
    assert by_case["aglu_plain_ops"]["saved_vs_input"] >= 3.0
    assert all(row["median_ms"] > 0 for row in rows)
    assert "| aglu_eager | 2×4×8×8 (scalar, float32) |" in format_table(rows)


@pytest.mark.parametrize("global_seed", [0, 7])
def test_every_aglu_case_gets_the_same_fixed_parameters(global_seed):
    torch.manual_seed(global_seed)  # the cases' own random initialisation must not matter
    cpu = torch.device("cpu")
    scalar = build_modules(["silu", "aglu_plain_ops", "aglu_compiled", "aglu_eager"], 1, 1,
                           0.5, 1.0, cpu)  # fmt: skip
    for name in ("aglu_compiled", "aglu_eager"):
        layer = scalar[name].layer
        assert layer.lambda_.tolist() == [0.5] and layer.kappa.tolist() == [1.0]
    assert scalar["aglu_plain_ops"].lambda_.tolist() == [0.5]
    assert scalar["aglu_plain_ops"].kappa.tolist() == [1.0]

    per_channel = build_modules(["aglu_compiled", "aglu_eager"], 6, 1, 0.5, 1.0, cpu)
    compiled, eager = (per_channel[name].layer for name in ("aglu_compiled", "aglu_eager"))
    generator = torch.Generator().manual_seed(activation.PER_CHANNEL_SEED)
    expected_lambda = 0.2 + 0.8 * torch.rand(6, generator=generator)
    expected_kappa = 0.8 + 0.4 * torch.rand(6, generator=generator)
    for layer in (compiled, eager):
        torch.testing.assert_close(layer.lambda_.detach(), expected_lambda, rtol=0, atol=0)
        torch.testing.assert_close(layer.kappa.detach(), expected_kappa, rtol=0, atol=0)
    assert expected_lambda.min() >= 0.2  # one eager regime (all λ ≥ 0.1) for every channel


def test_rows_record_parameters_and_the_spread_of_ratios(monkeypatch):
    # silu, then aglu per round: ratios 2, 1, 0.5, 3 -> quartiles 0.875, 1.5, 2.25 (inclusive)
    fixed = {"silu": [1.0, 2.0, 4.0, 1.0], "aglu_eager": [2.0, 2.0, 2.0, 3.0]}
    monkeypatch.setattr(activation, "time_interleaved", lambda steps, **_: fixed)
    rows = measure_activation((2, 3, 4), cases=["silu", "aglu_eager"], lambda_=0.072, kappa=1.3)
    silu, ours = rows
    assert (silu["lambda"], silu["kappa"]) == (None, None)
    assert (ours["lambda"], ours["kappa"]) == (0.072, 1.3)
    assert (ours["ratio_to_silu_p25"], ours["ratio_to_silu"], ours["ratio_to_silu_p75"]) == (
        0.875, 1.5, 2.25
    )  # fmt: skip
    assert (silu["ratio_to_silu_p25"], silu["ratio_to_silu_p75"]) == (1.0, 1.0)
    (row,) = measure_activation((2, 3, 4), cases=["aglu_eager"], per_channel=True)
    assert row["lambda"] == "U(0.2, 1) per channel, seed 0"
    assert row["kappa"] == "U(0.8, 1.2) per channel, seed 0"
    with pytest.raises(ValueError, match="scalar parameters only"):
        measure_activation((2, 3), cases=["aglu_plain_ops"], per_channel=True)


def test_per_channel_tokens_last_and_unknown_case():
    (row,) = measure_activation(
        (2, 3, 5), cases=["aglu_eager"], channel_dim=-1, per_channel=True, repeats=1
    )
    assert row["parameters"] == "per-channel" and row["ratio_to_silu"] is None
    with pytest.raises(ValueError, match="unknown cases"):
        measure_activation((2, 3), cases=["swish"])


def test_command_writes_json_and_the_readme_table(tmp_path, capsys, monkeypatch):
    out = tmp_path / "results" / "activation.json"
    argv = ["activation", "--shape", "2,4,6", "--repeats", "2", "--warmup", "1", "--out", str(out)]
    assert commands.bench_main([*argv, "--lambda", "0.25", "--kappa", "0.9"]) == 0
    payload = json.loads(out.read_text())
    assert {"cpu", "cores", "torch"} <= set(payload["machine"])
    cases = {(row["case"], row["parameters"]) for row in payload["rows"]}
    assert ("aglu_plain_ops", "scalar") in cases and ("aglu_eager", "per-channel") in cases
    scalar_aglu = [row for row in payload["rows"] if row["lambda"] is not None][:2]
    assert [(row["lambda"], row["kappa"]) for row in scalar_aglu] == [(0.25, 0.9), (0.25, 0.9)]
    assert (payload["settings"]["lambda"], payload["settings"]["kappa"]) == (0.25, 0.9)

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import readme_tables

    assert readme_tables.main(["activation", "--results", str(out.parent)]) == 0
    table = capsys.readouterr().out
    assert "| silu | 2×4×6 (scalar, float32) |" in table and "_Measured on" in table
    assert "Every AGLU case has λ = 0.25, κ = 0.9 (per channel: λ ~ U(0.2, 1), κ ~ U(0.8, 1.2)" in (
        table
    )
    assert readme_tables.main(["latency", "--results", str(tmp_path)]) == 1


def test_bench_dispatch_help_and_unknown(capsys):
    assert commands.bench_main(["--help"]) == 0
    assert "activation" in capsys.readouterr().out
    assert commands.bench_main(["nonsense"]) == 2


def test_gpu_check_dry_run_on_cpu(tmp_path):
    script = ROOT / "benchmarks" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    env = {"OUT": str(tmp_path), "AGLU_COMPILE": "0", "PY": sys.executable, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["bash", str(script), "--device", "cpu", "--quick"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    payload = json.loads((tmp_path / "gpu_check.json").read_text())
    assert len(payload["checks"]) == 6 and all(check["ok"] for check in payload["checks"])
    for check in payload["checks"]:  # values and all three gradients within tolerance
        errors = [
            check[f"max_grad_{name}_error_over_tolerance"] for name in ("z", "lambda", "kappa")
        ]
        assert check["max_error_over_tolerance"] <= 1 and all(0 <= e <= 1 for e in errors)
    assert {row["case"] for row in payload["rows"]} >= {"silu", "aglu_plain_ops"}
    assert {row["dtype"] for row in payload["rows"]} == {"float32", "bfloat16", "float16"}
    for amp in ("none", "bf16", "fp16"):  # SE-ResNet-32 training throughput, every pair
        training = json.loads((tmp_path / f"throughput_gpu_{amp}.json").read_text())
        assert training["settings"]["amp"] == amp and training["settings"]["batch_size"] == 2
        assert [row["pair"] for row in training["rows"]] == list(ACTIVATION_PAIRS)
        assert all(row["images_per_s"] > 0 for row in training["rows"])


def test_gpu_check_fails_on_a_wrong_gradient(tmp_path):
    # A λ-gradient 10 % off (as a wrong hand-written backward would be) must fail every check.
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    broken = tmp_path / "broken_check.sh"
    patch = "out.backward(torch.ones_like(out))\n    lam.grad = lam.grad * 1.1"
    broken.write_text(
        script.replace('cd "$(dirname "$0")/.."', f"cd {ROOT}")
        .replace("out.backward(torch.ones_like(out))", patch, 1)
        .replace("benchmarks/gpu_check_training.py", "-c pass")
    )
    env = {"OUT": str(tmp_path), "AGLU_COMPILE": "0", "PY": sys.executable, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["bash", str(broken), "--device", "cpu", "--quick"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr[-2000:]
    checks = json.loads((tmp_path / "gpu_check.json").read_text())["checks"]
    assert not any(check["ok"] for check in checks)
    assert all(check["max_grad_lambda_error_over_tolerance"] > 1 for check in checks)
