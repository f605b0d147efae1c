"""Print the README's analysis section (markdown) from the analysis.json files of `aglu analyze`.

    python scripts/readme_analysis.py [RUN_DIR_OR_ANALYSIS_JSON ...] [--figures-dir docs/figures]

With no paths it reads every ``runs/*/analysis/analysis.json``. For each run it prints which
family fits the inputs of the activations and of the gates best, one sentence naming the best fit
of the logits per shot group, a table of them, and the run's figures, copied to ``--figures-dir``
so that the README can show them (``--links-only``: link them without copying).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("normal", "logistic", "gumbel")
GROUP_LABELS = {
    "all": "all classes",
    "many": "many-shot",
    "medium": "medium-shot",
    "few": "few-shot",
}


def find_reports(paths: list[str]) -> list[Path]:
    """The analysis.json of each path (a run folder, its analysis folder or the file itself)."""
    if not paths:
        return sorted(ROOT.glob("runs/*/analysis/analysis.json"))
    reports = []
    for raw in paths:
        path = Path(raw)
        for candidate in (path, path / "analysis.json", path / "analysis" / "analysis.json"):
            if candidate.is_file():
                reports.append(candidate)
                break
        else:
            raise FileNotFoundError(f"no analysis.json at {raw}; run `aglu analyze {raw}` first")
    return reports


def _run_label(report_path: Path) -> tuple[str, str]:
    """The run's name and a short description of its activation and gate (from config.yaml)."""
    analysis_dir = report_path.parent
    run_dir = analysis_dir.parent if analysis_dir.name == "analysis" else analysis_dir
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        return run_dir.name, ""
    import yaml

    model = (yaml.safe_load(config_path.read_text()) or {}).get("model") or {}
    parts = [model.get("name"), model.get("act_layer"), model.get("gate_layer")]
    labels = ("model", "activation", "gate")
    return run_dir.name, ", ".join(f"{k} {v}" for k, v in zip(labels, parts, strict=True) if v)


def _best_counts(layers: list[dict], role: str) -> str:
    chosen = [layer for layer in layers if layer["role"] == role]
    if not chosen:
        return ""
    counts = {family: sum(layer.get("best") == family for layer in chosen) for family in FAMILIES}
    degenerate = sum(bool(layer.get("degenerate")) for layer in chosen)
    text = ", ".join(f"{family} {count}" for family, count in counts.items())
    suffix = f", degenerate {degenerate}" if degenerate else ""
    # the kinds, e.g. "31 AGLU, 15 ReLU": an SE block's hidden ReLU stays a ReLU under AGLU
    kinds = Counter(layer.get("kind", "?") for layer in chosen)
    made_of = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    return f"- inputs of the {len(chosen)} {role} layers ({made_of}), best fit: {text}{suffix}"


def _ks(entry: dict, family: str) -> str:
    fit = entry.get("fits", {}).get(family)
    return f"{fit['ks_statistic']:.3f}" if fit else "–"


def _logits_table(logits: dict) -> list[str]:
    lines = [
        "| logits of | classes | values | best fit | KS normal | KS logistic | KS Gumbel | skew |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for group, entry in logits.items():
        best = entry.get("best") or f"degenerate ({entry.get('reason')})"
        skew = entry.get("skewness")
        lines.append(
            f"| {GROUP_LABELS.get(group, group)} | {entry.get('num_classes', '')} "
            f"| {entry['count']:,} | **{best}** | {_ks(entry, 'normal')} "
            f"| {_ks(entry, 'logistic')} | {_ks(entry, 'gumbel')} "
            f"| {'–' if skew is None else f'{skew:.2f}'} |"
        )
    return lines


def shot_group_sentence(run_name: str, logits: dict) -> str:
    """One sentence naming the best-fitting family of the logits per shot group.

    Example:
        >>> logits = {"all": {"best": "logistic"}, "few": {"best": "normal"}, "many": {}}
        >>> shot_group_sentence("demo", logits).split(": ")[1]
        'all classes logistic, few-shot normal, many-shot degenerate.'
    """
    parts = [
        f"{GROUP_LABELS.get(g, g)} {entry.get('best') or 'degenerate'}"
        for g, entry in logits.items()
    ]
    return f"Best fit of the logits of {run_name} by log-likelihood: {', '.join(parts)}."


def _figures(
    report: dict, report_path: Path, run_name: str, figures_dir: Path, copy: bool = True
) -> list[str]:
    """Copy the run's figures into ``figures_dir`` and return markdown image links to them."""
    links = []
    for kind, file_name in (report.get("figures") or {}).items():
        source = report_path.parent / file_name
        if not source.is_file():
            continue
        target = figures_dir / f"analysis-{run_name}-{file_name}"
        if copy:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        link = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
        links.append(f"![{run_name}: {kind}]({link.as_posix()})")
    return links


def render(report_path: Path, figures_dir: Path, copy_figures: bool = True) -> str:
    """The markdown of one run's analysis (``copy_figures=False`` links without copying)."""
    report = json.loads(report_path.read_text())
    run_name, description = _run_label(report_path)
    heading = f"#### {run_name}" + (f" ({description})" if description else "")
    lines = [heading, "", f"{report['samples']:,} test images through the network.", ""]
    lines += [
        text for role in ("activation", "gate") if (text := _best_counts(report["layers"], role))
    ]
    lines += ["", shot_group_sentence(run_name, report["logits"])]
    lines += ["", *_logits_table(report["logits"]), ""]
    lines += _figures(report, report_path, run_name, figures_dir, copy_figures)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="run folders or analysis.json files")
    parser.add_argument("--figures-dir", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument(
        "--links-only", action="store_true", help="link the figures without copying them"
    )
    args = parser.parse_args(argv)
    reports = find_reports(args.paths)
    if not reports:
        print("no analysis.json under runs/; run `aglu analyze RUN_DIR` first", file=sys.stderr)
        return 1
    figures_dir = args.figures_dir.resolve()
    blocks = [render(path, figures_dir, not args.links_only) for path in reports]
    print("\n".join(blocks), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
