"""`aglu plot activation|params` and `aglu analyze`: the command-line face of aglu.analysis."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

__all__ = ["analyze_main", "plot_main", "run_analysis"]

logger = logging.getLogger(__name__)

_USER_ERRORS = (ValueError, TypeError, FileNotFoundError)


def _fail(command: str, error: Exception) -> int:
    """One line on stderr for a user's mistake; exit code 2, as argparse's own errors."""
    print(f"aglu {command}: {error}", file=sys.stderr)
    return 2


def _plot_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aglu plot", description="Plot activation shapes or λ, κ."
    )
    commands = parser.add_subparsers(dest="what", required=True)

    activation = commands.add_parser(
        "activation", help="APA and AGLU with their derivatives beside the special cases"
    )
    activation.add_argument("--lambda", dest="lambdas", type=float, nargs="+", default=[0.5, 1, 2])
    activation.add_argument("--kappa", dest="kappas", type=float, nargs="+", default=[1.0])
    activation.add_argument("--z-range", type=float, nargs=2, default=[-6.0, 6.0])
    activation.add_argument(
        "--out", default="activation.png", help="figure file; .png, .svg or .pdf picks the format"
    )

    params = commands.add_parser("params", help="learned λ and κ per layer and over training")
    params.add_argument("run", help="a run folder or a checkpoint file")
    params.add_argument("--out", default=None, help="figure file (default RUN/figures/params.png)")
    return parser


def plot_main(argv: list[str]) -> int:
    """``aglu plot activation [...]`` or ``aglu plot params RUN_DIR``; returns the exit code."""
    parser = _plot_parser()
    args = parser.parse_args(argv)
    try:
        if args.what == "activation":
            from aglu.analysis.activation_plot import plot_activation

            path = plot_activation(args.lambdas, args.kappas, args.out, tuple(args.z_range))
        else:
            from aglu.analysis.params_plot import plot_params

            path = plot_params(args.run, args.out)
    except _USER_ERRORS as error:
        return _fail("plot", error)
    logger.info("wrote %s", path)
    return 0


def _analyze_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aglu analyze",
        description="Fit Normal, Logistic and Gumbel distributions to the input of every "
        "activation and gate and to the logits (head, medium, tail classes apart).",
    )
    parser.add_argument("path", help="a run folder or a checkpoint file")
    parser.add_argument(
        "--data",
        default=None,
        help="a YAML config with a data section, or package.module:factory returning a Dataset "
        "(default: the run's data section)",
    )
    parser.add_argument("--samples", type=int, default=1000, help="samples fed to the model")
    parser.add_argument("--out", default=None, help="output folder (default RUN/analysis)")
    parser.add_argument(
        "--model", default=None, help="package.module:factory building the model of a checkpoint"
    )
    parser.add_argument(
        "--model-kwargs", default="{}", help="JSON keyword arguments of --model's factory"
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--max-values", type=int, default=10_000, help="values fitted per layer")
    parser.add_argument("--many-threshold", type=int, default=None, help="default: config or 100")
    parser.add_argument("--few-threshold", type=int, default=None, help="default: config or 20")
    parser.add_argument("--histograms", type=int, default=4, help="layers drawn as histograms")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    return parser


def _default_out(path: Path) -> Path:
    run_dir = path if path.is_dir() else path.parent
    if run_dir.name == "checkpoints":
        run_dir = run_dir.parent
    return run_dir / "analysis"


def run_analysis(args: argparse.Namespace) -> Path:
    """Load the model and data, run the analysis, write ``analysis.json`` and the figures."""
    from aglu.analysis.datasets import build_analysis_dataset
    from aglu.analysis.distribution_plot import plot_histograms, plot_layer_summary
    from aglu.analysis.loading import load_model
    from aglu.analysis.report import analyze

    try:
        model_kwargs = json.loads(args.model_kwargs)
    except json.JSONDecodeError as error:
        raise ValueError(f"--model-kwargs {args.model_kwargs!r} is not JSON ({error})") from error
    if not isinstance(model_kwargs, dict):
        raise ValueError(f"--model-kwargs {args.model_kwargs!r} must be a JSON object")
    path = Path(args.path)
    loaded = load_model(path, args.model, model_kwargs)
    dataset = build_analysis_dataset(args.data, loaded.config)
    eval_section = loaded.config.get("eval") or {}
    many = args.many_threshold
    if many is None:
        many = eval_section.get("many_threshold", 100)
    few = args.few_threshold
    if few is None:
        few = eval_section.get("few_threshold", 20)

    result = analyze(
        loaded.model,
        dataset,
        samples=args.samples,
        class_counts=getattr(dataset, "class_counts", None),
        many_threshold=many,
        few_threshold=few,
        batch_size=args.batch_size,
        max_values=args.max_values,
        seed=args.seed,
        device=args.device,
    )
    out = Path(args.out) if args.out else _default_out(path)
    out.mkdir(parents=True, exist_ok=True)
    report = {"source": str(path), "model": args.model, **result.to_dict()}
    figures = {"summary": plot_layer_summary(result, out / "summary.png")}
    if any(not item.fit.degenerate for item in result.layers + list(result.logits.values())):
        figures["histograms"] = plot_histograms(result, out / "histograms.png", args.histograms)
    report["figures"] = {name: figure.name for name, figure in figures.items()}
    (out / "analysis.json").write_text(json.dumps(report, indent=2) + "\n")
    return out


def analyze_main(argv: list[str]) -> int:
    """``aglu analyze RUN_DIR_OR_CHECKPOINT [--data CONFIG] [--samples N] [--out DIR]``."""
    parser = _analyze_parser()
    args = parser.parse_args(argv)
    try:
        out = run_analysis(args)
    except _USER_ERRORS as error:
        return _fail("analyze", error)
    logger.info("wrote %s", out / "analysis.json")
    return 0
