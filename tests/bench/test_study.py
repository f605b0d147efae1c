"""The study driver against a fake `aglu train`: planning, resuming, exact aggregate numbers."""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from aglu.bench import records
from aglu.bench.records import write_results
from aglu.bench.study import plan_runs, resolve_epochs, run_study, study_main
from aglu.bench.study_table import (
    aggregate_runs,
    compare_variants,
    format_study_table,
    mean_and_std,
)

FAKE_TRAIN = Path(__file__).with_name("fake_train.py")


@pytest.fixture
def study_args(tmp_path: Path) -> list[str]:
    config = tmp_path / "recipe.yaml"
    config.write_text("model: {}\n")
    command = shlex.join([sys.executable, str(FAKE_TRAIN)])
    return ["--config", str(config), "--out", str(tmp_path / "study"), "--train-command", command]


def _invocations(run_dir: Path) -> list[str]:
    return (run_dir / "invocations.txt").read_text().splitlines()


def test_aggregate_is_mean_and_sample_std_over_seeds(study_args, tmp_path):
    variants = ["--variants", "relu+sigmoid", "aglu+apa", "--seeds", "0", "1", "2"]
    assert study_main([*study_args, *variants, "--epochs", "4"]) == 0

    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert study["planned_runs"] == study["finished_runs"] == 6
    assert [run["name"] for run in study["runs"][:2]] == [
        "relu+sigmoid-rho100-seed0",
        "aglu+apa-rho100-seed0",
    ]
    assert all(run["metrics"]["epochs"] == 4 for run in study["runs"])
    by_variant = {row["variant"]: row for row in study["aggregate"]}
    assert by_variant["aglu+apa"]["seeds"] == [0, 1, 2]
    # top-1 before the ρ/10 offset is base + seed² = base + (0, 1, 4): mean base + 5/3,
    # sample std sqrt(((5/3)² + (2/3)² + (7/3)²) / 2) = sqrt(13/3).
    relu = by_variant["relu+sigmoid"]["metrics"]
    assert relu["top1"]["mean"] == pytest.approx(70 + 5 / 3 - 10, abs=1e-12)
    assert relu["top1"]["std"] == pytest.approx(math.sqrt(13 / 3), abs=1e-12)
    assert by_variant["aglu+apa"]["metrics"]["few_iif"]["mean"] == pytest.approx(74 + 5 / 3 - 10)
    assert relu["ece"]["mean"] == pytest.approx(0.02) and relu["ece"]["std"] == pytest.approx(0.01)
    assert relu["ece_iif"]["n"] == 3


def test_interrupted_run_is_resumed_and_finished_runs_are_skipped(
    study_args, tmp_path, monkeypatch
):
    variants = ["--variants", "relu+sigmoid", "aglu+apa", "--seeds", "0", "1"]
    monkeypatch.setenv("FAKE_TRAIN_INTERRUPT", "aglu+apa-rho100-seed1")
    assert study_main([*study_args, *variants]) == 1
    study_dir = tmp_path / "study"
    first = json.loads((study_dir / "study.json").read_text())
    assert first["finished_runs"] == 3
    assert first["aggregate"][1]["seeds"] == [0]

    monkeypatch.delenv("FAKE_TRAIN_INTERRUPT")
    assert study_main([*study_args, *variants]) == 0
    assert _invocations(study_dir / "aglu+apa-rho100-seed1")[-1] == (
        f"--resume {study_dir / 'aglu+apa-rho100-seed1'}"
    )
    assert len(_invocations(study_dir / "relu+sigmoid-rho100-seed0")) == 1  # skipped, not rerun
    second = json.loads((study_dir / "study.json").read_text())
    assert second["finished_runs"] == 4
    assert second["aggregate"][1]["metrics"]["top1"]["mean"] == pytest.approx(74 + 0.5 - 10)


def test_unfinished_run_without_checkpoint_starts_again(study_args, tmp_path):
    stale = tmp_path / "study" / "silu+sigmoid-rho100-seed0"
    stale.mkdir(parents=True)
    (stale / "partial.log").write_text("killed before the first checkpoint")
    assert study_main([*study_args, "--variants", "silu+sigmoid", "--seeds", "0"]) == 0
    assert not (stale / "partial.log").exists()
    assert json.loads((stale / "metrics.json").read_text())["top1"] == pytest.approx(71 - 10)


def test_profile_adds_rho_10_and_balanced(study_args, tmp_path):
    results = tmp_path / "results" / "study.json"
    argv = [*study_args, "--variants", "relu+sigmoid", "--seeds", "3", "--profile"]
    assert study_main([*argv, "--results", str(results), "--", "--data.max_count=50"]) == 0
    runs = json.loads(results.read_text())["runs"]
    assert [run["rho"] for run in runs] == [100.0, 10.0, 1.0]
    assert [run["imbalance_factor"] for run in runs] == [0.01, 0.1, 1.0]
    assert [run["metrics"]["top1"] for run in runs] == pytest.approx([69.0, 78.0, 78.9])
    first_call = _invocations(tmp_path / "study" / "relu+sigmoid-rho10-seed3")[0]
    assert "--data.imbalance_factor=0.1 " in first_call and first_call.endswith(
        "--data.max_count=50"
    )


def test_finished_runs_of_another_budget_are_not_mixed_in(study_args):
    argv = [*study_args, "--variants", "relu+sigmoid", "--seeds", "0"]
    assert study_main([*argv, "--epochs", "3"]) == 0
    with pytest.raises(ValueError, match="finished with 3 epochs but --epochs 5 was asked"):
        run_study([*argv, "--epochs", "5"])


def test_without_epochs_the_config_budget_is_checked(study_args, tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text("model: {}\ntrainer: {epochs: 3}\n")
    argv = [*study_args, "--variants", "relu+sigmoid", "--seeds", "0"]
    assert study_main(argv) == 0  # the fake trains for the config's 3 epochs
    config.write_text("model: {}\ntrainer: {epochs: 5}\n")
    with pytest.raises(ValueError, match=r"finished with 3 epochs but trainer.epochs is 5 in"):
        run_study(argv)
    with pytest.raises(ValueError, match=r"3 epochs but --trainer.epochs=4 was passed"):
        run_study([*argv, "--", "--trainer.epochs=4"])
    assert resolve_epochs(str(config), None, ["--epochs", "6"])[0] == 6
    assert resolve_epochs(str(config), 2, ["--epochs", "6"])[0] == 2


def test_without_any_stated_budget_the_first_finished_run_sets_it(study_args):
    argv = [*study_args, "--variants", "relu+sigmoid"]
    assert study_main([*argv, "--seeds", "0", "--epochs", "3"]) == 0
    # the config states no epochs and the fake then trains for 0: seed 1 must not be averaged in
    message = (
        r"relu\+sigmoid-rho100-seed1 in this study folder finished with 0 epochs but "
        r"relu\+sigmoid-rho100-seed0 finished with 3"
    )
    with pytest.raises(ValueError, match=message):
        run_study([*argv, "--seeds", "0", "1"])


def test_interleaved_writers_never_share_a_temporary_file(tmp_path, monkeypatch):
    # The first writer's replace runs only after a second writer has written the same file, as
    # when two study processes finish a run at once: both must succeed, the last one wins.
    path, real_replace, calls = tmp_path / "study.json", records.os.replace, []

    def replace_after_another_writer(source, target):
        calls.append(Path(source).name)
        if len(calls) == 1:
            write_results(path, {"writer": "second"})
        real_replace(source, target)

    monkeypatch.setattr(records.os, "replace", replace_after_another_writer)
    write_results(path, {"writer": "first"})
    assert json.loads(path.read_text()) == {"writer": "first"}
    assert len(set(calls)) == 2 and all(name != "study.json.tmp" for name in calls)
    assert [p.name for p in tmp_path.iterdir()] == ["study.json"]  # no temporary file left


def test_two_studies_on_disjoint_variants_share_one_study_json(study_args, tmp_path):
    base = ["--seeds", "0", "1", "2"]
    argv = [sys.executable, "-m", "aglu", "study", *study_args, *base, "--variants"]
    studies = [
        subprocess.Popen([*argv, variant], stderr=subprocess.PIPE, text=True)
        for variant in ("relu+sigmoid", "aglu+apa")
    ]
    for process in studies:
        assert process.wait(timeout=300) == 0, process.stderr.read()[-2000:]

    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert (study["planned_runs"], study["finished_runs"]) == (6, 6)
    assert {(run["variant"], run["seed"]) for run in study["runs"]} == {
        (variant, seed) for variant in ("relu+sigmoid", "aglu+apa") for seed in (0, 1, 2)
    }
    by_variant = {row["variant"]: row for row in study["aggregate"]}
    assert by_variant["aglu+apa"]["metrics"]["top1"]["mean"] == pytest.approx(74 + 5 / 3 - 10)
    assert by_variant["relu+sigmoid"]["metrics"]["top1"]["mean"] == pytest.approx(70 + 5 / 3 - 10)
    assert not list((tmp_path / "study").glob("*.tmp"))


def test_a_later_study_keeps_the_runs_of_an_earlier_one(study_args, tmp_path):
    assert study_main([*study_args, "--variants", "silu+sigmoid", "--seeds", "0"]) == 0
    assert study_main([*study_args, "--variants", "aglu+apa", "--seeds", "0", "1"]) == 0
    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert [run["name"] for run in study["runs"]] == [
        "aglu+apa-rho100-seed0", "aglu+apa-rho100-seed1", "silu+sigmoid-rho100-seed0"
    ]  # fmt: skip
    assert [row["variant"] for row in study["aggregate"]] == ["aglu+apa", "silu+sigmoid"]
    assert study["variants"] == ["aglu+apa", "silu+sigmoid"] and study["seeds"] == [0, 1]


def test_bad_study_input_is_rejected(study_args, tmp_path):
    with pytest.raises(ValueError, match="unknown study variant 'gelu'"):
        plan_runs(["gelu"], [0], ["rho100"])
    with pytest.raises(FileNotFoundError, match="--config"):
        run_study(["--config", str(tmp_path / "missing.yaml")])
    with pytest.raises(ValueError, match="--epochs=0"):
        run_study([*study_args, "--epochs", "0"])


def test_bad_study_input_exits_2_with_one_line(study_args, tmp_path, capsys):
    assert study_main(["--config", str(tmp_path / "missing.yaml")]) == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and "missing.yaml" in message and "--config PATH" in message


def test_table_marks_best_mean_per_column():
    runs = [
        {"variant": v, "profile": "rho10", "rho": 10.0, "seed": s, "metrics": m}
        for v, s, m in [
            ("a", 0, {"top1": 50.0, "ece": 0.30}),
            ("a", 1, {"top1": 52.0, "ece": 0.10}),
            ("b", 0, {"top1": 60.0, "ece": 0.40}),
            ("b", 1, None),  # unfinished: ignored
        ]
    ]
    rows = aggregate_runs(runs)
    assert [row["seeds"] for row in rows] == [[0, 1], [0]]
    lines = format_study_table(rows).splitlines()
    assert lines[0] == "**ρ = 10**"
    assert lines[4].startswith("| a | 2 | 51.00 ± 1.41 | – | – | – | **0.20 ± 0.14** |")
    assert lines[5].startswith("| b | 1 | **60.00** | – | – | – | 0.40 |")
    assert mean_and_std([2.0, 4.0]) == (3.0, math.sqrt(2.0))


def test_empty_shot_group_is_left_out_of_the_mean():
    # At ρ = 1 every class is many-shot: the engine's "few" is NaN (or None) and must not count.
    runs = [
        {"variant": "a", "profile": "rho1", "rho": 1.0, "seed": s, "metrics": {"few": few}}
        for s, few in [(0, float("nan")), (1, 40.0), (2, None), (3, 44.0)]
    ]
    (row,) = aggregate_runs(runs)
    assert row["seeds"] == [0, 1, 2, 3]
    assert row["metrics"]["few"] == {"mean": 42.0, "std": math.sqrt(8.0), "n": 2}


def test_readme_script_states_the_budget_then_the_table(study_args, tmp_path):
    assert study_main([*study_args, "--variants", "aglu+apa", "--seeds", "0", "2"]) == 0
    script = Path(__file__).resolve().parents[2] / "scripts" / "readme_study.py"
    study_json = tmp_path / "study" / "study.json"
    done = subprocess.run(
        [sys.executable, str(script), str(study_json)], capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    # the fake reports epochs 0 when --epochs is not passed
    assert lines[0].startswith("Budget: 2 of 2 runs finished, 0 epochs each, seeds 0, 2")
    assert f" of training on {json.loads(study_json.read_text())['machine']['cpu']} (" in lines[0]
    assert lines[2] == "**ρ = 100**"
    # top-1 = 74 + seed² − ρ/10 = (64, 68): mean 66, sample std √8
    assert lines[6].startswith("| aglu+apa | 2 | 66.00 ± 2.83 |")
    assert lines[7:] == []  # no other variant: nothing to compare with


def test_compare_variants_states_differences_with_their_standard_error():
    def row(variant, top1, top1_std, n):
        stat = {"mean": top1, "std": top1_std, "n": n}
        return {
            "variant": variant,
            "profile": "rho100",
            "rho": 100.0,
            "seeds": list(range(n)),
            "metrics": {"top1": stat, "top1_iif": stat},
        }

    aggregate = [
        row("relu+sigmoid", 50.0, 3.0, 3),
        row("aglu+apa", 56.0, 4.0, 3),
        row("silu+sigmoid", 55.0, 1.0, 2),
    ]
    lines = compare_variants(aggregate).splitlines()
    assert lines[0].startswith("aglu+apa against the other variants at ρ = 100 ")
    # 6 ± sqrt(16/3 + 9/3) = 6 ± 2.89: beyond twice the error; 1 ± sqrt(16/3 + 1/2) = 1 ± 2.42
    assert lines[2] == (
        "- relu+sigmoid: top-1 +6.00 ± 2.89 (ahead); top-1 with IIF +6.00 ± 2.89 (ahead)"
    )
    assert lines[3] == (
        "- silu+sigmoid: top-1 +1.00 ± 2.42 (within noise); top-1 with IIF +1.00 ± 2.42 "
        "(within noise)"
    )
    behind = compare_variants([row("aglu+apa", 40.0, 1.0, 4), row("relu+sigmoid", 50.0, 1.0, 4)])
    assert behind.splitlines()[2].startswith("- relu+sigmoid: top-1 -10.00 ± 0.71 (behind)")
    single = compare_variants([row("aglu+apa", 40.0, None, 1), row("relu+sigmoid", 50.0, 1.0, 2)])
    assert "-10.00 (one seed: no spread to judge by)" in single


def test_report_only_aggregates_finished_runs_and_trains_nothing(study_args, tmp_path):
    assert study_main([*study_args, "--variants", "relu+sigmoid", "--seeds", "0", "1"]) == 0
    both = ["--variants", "relu+sigmoid", "aglu+apa", "--seeds", "0", "1"]
    assert study_main([*study_args, *both, "--report-only"]) == 0

    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert (study["planned_runs"], study["finished_runs"]) == (4, 2)
    assert not (tmp_path / "study" / "aglu+apa-rho100-seed0").exists()
    assert [row["variant"] for row in study["aggregate"]] == ["relu+sigmoid"]
