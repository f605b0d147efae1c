"""`aglu study`: train the Fashion-MNIST-LT demo recipe for each activation variant and seed.

Every run is one ``aglu train`` subprocess writing its own run folder under the study folder:

    STUDY_DIR/<variant>-<profile>-seed<S>/metrics.json     the run's final metrics
    STUDY_DIR/logs/<variant>-<profile>-seed<S>.log         its standard output and error
    STUDY_DIR/study.json                                   every run and the mean ± std per variant

The study is resumable: a run whose ``metrics.json`` exists is skipped, one that stopped after
writing ``checkpoints/last.ckpt`` is resumed with ``aglu train --resume RUN_DIR``, and one that
stopped earlier is started again from scratch. Several ``aglu study`` processes may share one
study folder (say, one per variant): ``study.json`` always aggregates every finished run folder
under it, written under a lock, so the last writer never drops another process's runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from aglu.bench.records import machine_info, write_results
from aglu.bench.study_table import aggregate_runs, format_study_table

__all__ = ["PROFILES", "VARIANTS", "StudyRun", "plan_runs", "study_main"]

logger = logging.getLogger(__name__)

# variant name -> (act_layer, gate_layer) of aglu.models.create.
VARIANTS: dict[str, tuple[str, str]] = {
    "relu+sigmoid": ("relu", "sigmoid"),
    "aglu+sigmoid": ("aglu", "sigmoid"),
    "relu+apa": ("relu", "apa"),
    "aglu+apa": ("aglu", "apa"),
    "silu+sigmoid": ("silu", "sigmoid"),
}
# profile name -> ρ = n_max / n_min; the engine's data.imbalance_factor is 1/ρ. --profile adds the
# last two.
PROFILES: dict[str, float] = {"rho100": 100.0, "rho10": 10.0, "rho1": 1.0}
DEFAULT_CONFIG = "configs/fashion_mnist_lt.yaml"
# An alternative command for `aglu train` (split like a shell line); tests point it at a fake.
TRAIN_COMMAND_ENV = "AGLU_STUDY_TRAIN_COMMAND"
CHECKPOINT = Path("checkpoints") / "last.ckpt"
RUN_NAME = re.compile(r"^(?P<variant>.+)-(?P<profile>[^-]+)-seed(?P<seed>-?\d+)$")


@dataclass(frozen=True)
class StudyRun:
    """One training run of the study."""

    variant: str
    profile: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.variant}-{self.profile}-seed{self.seed}"

    @property
    def rho(self) -> float:
        return PROFILES[self.profile]

    @property
    def imbalance_factor(self) -> float:
        """``data.imbalance_factor`` of the engine: 1/ρ."""
        return 1.0 / self.rho


def plan_runs(
    variants: Sequence[str], seeds: Sequence[int], profiles: Sequence[str]
) -> list[StudyRun]:
    """All runs, ordered profile, then seed, then variant, so a cut-short study stays comparable.

    Example:
        >>> [run.name for run in plan_runs(["relu+apa", "aglu+apa"], [0, 1], ["rho100"])][:3]
        ['relu+apa-rho100-seed0', 'aglu+apa-rho100-seed0', 'relu+apa-rho100-seed1']
    """
    for variant in variants:
        if variant not in VARIANTS:
            raise ValueError(f"unknown study variant {variant!r}; use some of {list(VARIANTS)}")
    for profile in profiles:
        if profile not in PROFILES:
            raise ValueError(f"unknown study profile {profile!r}; use some of {list(PROFILES)}")
    return [
        StudyRun(variant, profile, seed)
        for profile in profiles
        for seed in seeds
        for variant in variants
    ]


def train_command(override: str | None = None) -> list[str]:
    """The training command: ``override``, else $AGLU_STUDY_TRAIN_COMMAND, else ``aglu train``."""
    line = override or os.environ.get(TRAIN_COMMAND_ENV)
    if line:
        return shlex.split(line)
    return [sys.executable, "-m", "aglu", "train"]


def train_arguments(
    run: StudyRun, config: str, run_dir: Path, epochs: int | None, extra: Sequence[str]
) -> list[str]:
    """The ``aglu train`` arguments that start ``run`` from scratch."""
    act_layer, gate_layer = VARIANTS[run.variant]
    arguments = [
        config,
        f"--model.act_layer={act_layer}",
        f"--model.gate_layer={gate_layer}",
        f"--data.imbalance_factor={run.imbalance_factor:g}",
        "--seed",
        str(run.seed),
    ]
    if epochs is not None:
        arguments += ["--epochs", str(epochs)]
    # Output goes to a log file: no progress bar redrawn there.
    return [*arguments, "--out", str(run_dir), "--trainer.progress_bar=false", *extra]


def _read_metrics(run_dir: Path) -> dict | None:
    path = run_dir / "metrics.json"
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    # An empty shot group scores NaN (e.g. "few" at ρ = 1); study.json stores it as null.
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in metrics.items()
    }


def _run_one(
    run: StudyRun, command: list[str], arguments: list[str], out: Path
) -> tuple[int, float]:
    """Start or resume one run, its output appended to the study's log folder; (exit code, s)."""
    run_dir = out / run.name
    if (run_dir / CHECKPOINT).is_file():
        logger.info("%s: resuming from %s", run.name, run_dir / CHECKPOINT)
        arguments = ["--resume", str(run_dir)]
    else:
        if run_dir.exists():
            logger.info("%s: no checkpoint in the unfinished run, starting it again", run.name)
            shutil.rmtree(run_dir)
        logger.info("%s: training", run.name)
    log_path = out / "logs" / f"{run.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log_path.open("a") as log:
        log.write(f"$ {shlex.join(command + arguments)}\n")
        log.flush()
        code = subprocess.run(command + arguments, stdout=log, stderr=subprocess.STDOUT).returncode
    return code, time.perf_counter() - start


def resolve_epochs(config: str, epochs: int | None, extra: Sequence[str]) -> tuple[int | None, str]:
    """The epoch count every run trains for, and where it comes from.

    ``--epochs`` first, then an ``--epochs``/``--trainer.epochs`` among the arguments passed on
    to ``aglu train``, then the config's ``trainer.epochs``; (None, "") when none states it (the
    engine's default then applies, and the first finished run sets the budget).

    Example:
        >>> resolve_epochs("missing.yaml", None, ["--trainer.epochs=7"])
        (7, '--trainer.epochs=7 was passed to aglu train')
    """
    if epochs is not None:
        return epochs, f"--epochs {epochs} was asked"
    for index, item in enumerate(extra):
        flag, has_value, value = item.partition("=")
        if flag in ("--epochs", "--trainer.epochs"):
            if not has_value and index + 1 < len(extra):
                value = extra[index + 1]
            return int(value), f"{flag}={value} was passed to aglu train"
    path = Path(config)
    sections = yaml.safe_load(path.read_text()) if path.is_file() else None
    trainer = (sections or {}).get("trainer") if isinstance(sections, dict) else None
    if isinstance(trainer, dict) and trainer.get("epochs") is not None:
        return int(trainer["epochs"]), f"trainer.epochs is {trainer['epochs']} in {config}"
    return None, ""


def _check_same_budget(
    run: StudyRun, metrics: dict | None, budget: dict[str, int | str | None]
) -> None:
    """Refuse to mix a run finished with another epoch count into this study's means.

    ``budget`` holds ``epochs`` and ``source`` from :func:`resolve_epochs`; when neither states
    a count, the first finished run seen sets it for the others.
    """
    finished = None if metrics is None else metrics.get("epochs")
    if finished is None:
        return
    if budget["epochs"] is None:
        budget["epochs"] = finished
        budget["source"] = f"{run.name} finished with {finished}"
    if finished != budget["epochs"]:
        raise ValueError(
            f"{run.name} in this study folder finished with {finished} epochs but "
            f"{budget['source']}; pass another --out for a new budget"
        )


def _previous_wall_times(path: Path) -> dict[str, float]:
    """Wall times of runs finished by an earlier invocation of the same study."""
    if not path.is_file():
        return {}
    runs = json.loads(path.read_text()).get("runs", [])
    return {run["name"]: run["wall_s"] for run in runs if run.get("wall_s") is not None}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aglu study",
        description="Train the Fashion-MNIST-LT demo recipe for each activation variant and seed; "
        "report mean ± std of top-1, many, medium, few and ECE, with and without IIF. "
        "Arguments after `--` go to every `aglu train` call.",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the training config (YAML)")
    parser.add_argument(
        "--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--out", type=Path, default=Path("runs/study"), help="the study folder")
    parser.add_argument(
        "--profile", action="store_true", help="also run ρ = 10 and ρ = 1 (balanced) besides 100"
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="also copy study.json here (e.g. benchmarks/)"
    )
    parser.add_argument(
        "--train-command", default=None, help=f"instead of `aglu train` (or ${TRAIN_COMMAND_ENV})"
    )
    parser.add_argument("--dry-run", action="store_true", help="list the commands, run nothing")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="aggregate the runs finished so far into study.json and the table; train nothing",
    )
    return parser


def study_main(argv: Sequence[str]) -> int:
    """Run (or resume) the study; returns 0 when every run finished, 1 otherwise, 2 on bad input."""
    try:
        return run_study(argv)
    except (ValueError, FileNotFoundError) as error:
        print(f"aglu study: {error}", file=sys.stderr)
        return 2


def run_study(argv: Sequence[str]) -> int:
    """:func:`study_main` without the error handling: bad input raises."""
    argv = list(argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = _parser().parse_args(argv[: len(argv) - len(extra) - (1 if "--" in argv else 0)])
    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs={args.epochs} must be at least 1")
    if not Path(args.config).is_file():
        raise FileNotFoundError(
            f"study config {args.config!r} not found (paths are relative to the current "
            "folder: run from the repository root or pass --config PATH)"
        )
    profiles = list(PROFILES) if args.profile else ["rho100"]
    runs = plan_runs(args.variants, args.seeds, profiles)
    command = train_command(args.train_command)
    if args.dry_run:
        for run in runs:
            arguments = train_arguments(run, args.config, args.out / run.name, args.epochs, extra)
            logger.info("%s", shlex.join(command + arguments))
        return 0

    summary_path = args.out / "study.json"
    wall_times = _previous_wall_times(summary_path)
    epochs, source = resolve_epochs(args.config, args.epochs, extra)
    budget: dict[str, int | str | None] = {"epochs": epochs, "source": source}
    records, failed = [], []
    for index, run in enumerate(runs, 1):
        run_dir = args.out / run.name
        metrics = _read_metrics(run_dir)
        _check_same_budget(run, metrics, budget)
        if metrics is None and args.report_only:
            logger.info("[%d/%d] %s: not finished, left out", index, len(runs), run.name)
        elif metrics is None:
            logger.info("[%d/%d] %s", index, len(runs), run.name)
            arguments = train_arguments(run, args.config, run_dir, args.epochs, extra)
            code, wall_times[run.name] = _run_one(run, command, arguments, args.out)
            metrics = _read_metrics(run_dir)
            if code != 0 or metrics is None:
                failed.append(run.name)
                logger.error("%s failed (exit %d); see %s", run.name, code, args.out / "logs")
            _check_same_budget(run, metrics, budget)
        records.append(_record(run, run_dir, metrics, wall_times.get(run.name)))
        payload = _write_summary(args, records, runs, extra, budget)

    logger.info("%s", format_study_table(payload["aggregate"]))
    if failed:
        logger.error("%d run(s) failed: %s", len(failed), ", ".join(failed))
    return 1 if failed else 0


def _record(run: StudyRun, run_dir: Path, metrics: dict | None, wall_s: float | None) -> dict:
    """One run's entry in study.json."""
    return {
        "name": run.name,
        "variant": run.variant,
        "profile": run.profile,
        "rho": run.rho,
        "imbalance_factor": run.imbalance_factor,
        "seed": run.seed,
        "run_dir": str(run_dir),
        # runs trained by a parallel invocation have no wall time here: use the engine's own
        # training time, the larger part of it
        "wall_s": wall_s or (metrics or {}).get("train_time_s"),
        "metrics": metrics,
    }


def finished_run_folders(out: Path, skip: set[str] = frozenset()) -> list[StudyRun]:
    """The runs under ``out`` whose folder holds a ``metrics.json``, in plan order.

    Folders named otherwise than ``<variant>-<profile>-seed<S>`` with a known variant and
    profile, and the names in ``skip``, are left out.
    """
    found = []
    for path in out.iterdir() if out.is_dir() else []:
        match = RUN_NAME.match(path.name)
        if match is None or path.name in skip or not (path / "metrics.json").is_file():
            continue
        if match["variant"] in VARIANTS and match["profile"] in PROFILES:
            found.append(StudyRun(match["variant"], match["profile"], int(match["seed"])))
    variants, profiles = list(VARIANTS), list(PROFILES)
    return sorted(
        found,
        key=lambda run: (profiles.index(run.profile), run.seed, variants.index(run.variant)),
    )


@contextmanager
def _study_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out/.study.lock`` (a no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the unique temporary files still keep study.json whole
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    with (out / ".study.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_summary(
    args: argparse.Namespace,
    records: list[dict],
    planned: Sequence[StudyRun],
    extra: Sequence[str],
    budget: dict[str, int | str | None],
) -> dict:
    """Write study.json (and the --results copy) from this invocation's runs and every other
    finished run folder under --out, scanned under the study's lock; returns the payload."""
    summary_path = args.out / "study.json"
    with _study_lock(args.out):
        wall_times = _previous_wall_times(summary_path)
        others, scanned_budget = [], dict(budget)  # other runs never set this invocation's budget
        for run in finished_run_folders(args.out, {run.name for run in planned}):
            metrics = _read_metrics(args.out / run.name)
            try:
                _check_same_budget(run, metrics, scanned_budget)
            except ValueError as error:
                logger.warning("left out of the aggregate: %s", error)
                continue
            others.append(_record(run, args.out / run.name, metrics, wall_times.get(run.name)))
        payload = _summary(args, [*records, *others], len(planned) + len(others), extra, budget)
        write_results(summary_path, payload)
        if args.results is not None:
            write_results(args.results, payload)
    return payload


def _summary(
    args: argparse.Namespace,
    records: list[dict],
    planned: int,
    extra: Sequence[str],
    budget: dict[str, int | str | None],
) -> dict:
    """The study.json payload: the budget, every run so far and the aggregate per variant."""
    finished = [record for record in records if record["metrics"] is not None]
    variants = list(dict.fromkeys([*args.variants, *(record["variant"] for record in records)]))
    return {
        "study": "fashion_mnist_lt activation variants",
        "config": args.config,
        "epochs": budget["epochs"],
        "seeds": sorted({*args.seeds, *(record["seed"] for record in records)}),
        "variants": variants,
        "extra_train_arguments": list(extra),
        "machine": machine_info(),
        "planned_runs": planned,
        "finished_runs": len(finished),
        "total_wall_s": sum(record["wall_s"] or 0.0 for record in records),
        "runs": records,
        "aggregate": aggregate_runs(finished),
    }
