"""aglu bench activation: rows, ratios and saved bytes on a tiny shape (the fused AGLU saves only
its input, the plain-ops formula about 4x), the JSON written by `aglu bench activation` with the
machine record, the `aglu bench` dispatch, the README table script, and a CPU dry run of
benchmarks/gpu_check.sh. Timings themselves are never asserted (the machine is shared)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aglu.bench import commands
from aglu.bench.activation import CASES, format_table, measure_activation

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
    assert commands.bench_main(argv) == 0
    payload = json.loads(out.read_text())
    assert {"cpu", "cores", "torch"} <= set(payload["machine"])
    cases = {(row["case"], row["parameters"]) for row in payload["rows"]}
    assert ("aglu_plain_ops", "scalar") in cases and ("aglu_eager", "per-channel") in cases

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import readme_tables

    assert readme_tables.main(["activation", "--results", str(out.parent)]) == 0
    table = capsys.readouterr().out
    assert "| silu | 2×4×6 (scalar, float32) |" in table and "_Measured on" in table
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
    assert {row["case"] for row in payload["rows"]} >= {"silu", "aglu_plain_ops"}
