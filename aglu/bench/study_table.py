"""Summarise the long-tail study: mean ± std over seeds per variant and profile, as markdown."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "METRIC_COLUMNS",
    "aggregate_runs",
    "compare_variants",
    "format_study_table",
    "mean_and_std",
]

# metric key in metrics.json -> (column title, True when higher is better). Each is also read with
# the suffix "_iif" (the same metric after the inverse-image-frequency logit offset).
METRIC_COLUMNS: dict[str, tuple[str, bool]] = {
    "top1": ("top-1", True),
    "many": ("many", True),
    "medium": ("medium", True),
    "few": ("few", True),
    "ece": ("ECE", False),
}
IIF_SUFFIX = "_iif"


def mean_and_std(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the sample standard deviation (n − 1 in the denominator; None for one value).

    Example:
        >>> mean_and_std([1.0, 2.0, 6.0])
        (3.0, 2.6457513110645907)
        >>> mean_and_std([4.0])
        (4.0, None)
    """
    if not values:
        raise ValueError("mean_and_std needs at least one value; got an empty list")
    mean = math.fsum(values) / len(values)
    if len(values) == 1:
        return mean, None
    variance = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance)


def metric_keys() -> list[str]:
    """Every metric the study reports: the plain ones, then the same with IIF."""
    return list(METRIC_COLUMNS) + [key + IIF_SUFFIX for key in METRIC_COLUMNS]


def aggregate_runs(runs: Iterable[Mapping]) -> list[dict]:
    """Group finished runs by (profile, variant) and give mean ± std of every metric over seeds.

    Args:
        runs: records with ``variant``, ``profile``, ``rho``, ``seed`` and ``metrics``
            (a dict holding the keys of :func:`metric_keys`; missing, None or NaN values are
            skipped). Records
            whose ``metrics`` is None (unfinished or failed runs) are ignored.

    Returns:
        One dict per group, in the order groups first appear: ``variant``, ``profile``,
        ``rho``, ``seeds`` (sorted) and ``metrics`` mapping each key to
        ``{"mean", "std", "n"}``.
    """
    groups: dict[tuple[str, str], dict] = {}
    for run in runs:
        if run.get("metrics") is None:
            continue
        key = (run["profile"], run["variant"])
        group = groups.setdefault(
            key,
            {
                "variant": run["variant"],
                "profile": run["profile"],
                "rho": run["rho"],
                "seeds": [],
                "values": {},
            },
        )
        group["seeds"].append(run["seed"])
        for name in metric_keys():
            value = run["metrics"].get(name)
            # A shot group without classes (e.g. "few" when ρ = 1) has no score: None or NaN.
            if value is not None and math.isfinite(value):
                group["values"].setdefault(name, []).append(float(value))
    summary = []
    for group in groups.values():
        metrics = {}
        for name, values in group.pop("values").items():
            mean, std = mean_and_std(values)
            metrics[name] = {"mean": mean, "std": std, "n": len(values)}
        summary.append({**group, "seeds": sorted(group["seeds"]), "metrics": metrics})
    return summary


def _cell(stat: Mapping | None, bold: bool) -> str:
    if stat is None:
        return "–"
    text = (
        f"{stat['mean']:.2f}" if stat["std"] is None else f"{stat['mean']:.2f} ± {stat['std']:.2f}"
    )
    return f"**{text}**" if bold else text


def _best_means(rows: Sequence[Mapping]) -> dict[str, float]:
    """The best mean per metric among the rows (highest accuracy, lowest ECE)."""
    best = {}
    for name in metric_keys():
        means = [row["metrics"][name]["mean"] for row in rows if name in row["metrics"]]
        if len(means) > 1:
            higher_is_better = METRIC_COLUMNS[name.removesuffix(IIF_SUFFIX)][1]
            best[name] = max(means) if higher_is_better else min(means)
    return best


def format_study_table(aggregate: Sequence[Mapping]) -> str:
    """Markdown: one table per profile, a row per variant, mean ± std over seeds, best in bold.

    Example:
        >>> rows = [{"variant": "relu+sigmoid", "profile": "rho100", "rho": 100,
        ...          "seeds": [0, 1], "metrics": {"top1": {"mean": 80.0, "std": 1.0, "n": 2}}}]
        >>> table = format_study_table(rows).splitlines()
        >>> table[0], table[2][:38]
        ('**ρ = 100**', '| variant | seeds | top-1 | many | med')
        >>> table[-1][:47]
        '| relu+sigmoid | 2 | 80.00 ± 1.00 | – | – | – |'
    """
    titles = [METRIC_COLUMNS[name][0] for name in METRIC_COLUMNS]
    header = ["variant", "seeds", *titles, *(f"{title} IIF" for title in titles)]
    profiles: dict[str, list[Mapping]] = {}
    for row in aggregate:
        profiles.setdefault(row["profile"], []).append(row)
    blocks = []
    for rows in profiles.values():
        best = _best_means(rows)
        lines = [
            f"**ρ = {rows[0]['rho']:g}**",
            "",
            "| " + " | ".join(header) + " |",
            "| " + " | ".join("---" for _ in header) + " |",
        ]
        for row in rows:
            cells = [row["variant"], str(len(row["seeds"]))]
            for name in metric_keys():
                stat = row["metrics"].get(name)
                cells.append(_cell(stat, stat is not None and stat["mean"] == best.get(name)))
            lines.append("| " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# The metrics the verdict compares (overall and few-shot accuracy, each raw and with IIF): titles.
VERDICT_METRICS: dict[str, str] = {
    "top1": "top-1",
    "top1_iif": "top-1 with IIF",
    "few": "few-shot",
    "few_iif": "few-shot with IIF",
}


def compare_variants(aggregate: Sequence[Mapping], method: str = "aglu+apa") -> str:
    """Markdown: ``method`` against every other variant, per profile, in the verdict metrics.

    Each entry is the difference of the means (method minus other, in points) ± its standard error
    sqrt(s₁²/n₁ + s₂²/n₂) from the seeds' spread. A difference beyond twice its standard error is
    called "ahead" or "behind", anything closer "within noise"; with a single seed on either side
    there is no spread to judge by, and the verdict says so.

    Example:
        >>> rows = [
        ...     {"variant": v, "profile": "rho100", "rho": 100, "seeds": [0, 1],
        ...      "metrics": {"top1": {"mean": m, "std": 1.0, "n": 2}}}
        ...     for v, m in [("aglu+apa", 60.0), ("relu+sigmoid", 55.0)]
        ... ]
        >>> compare_variants(rows).splitlines()[-1]
        '- relu+sigmoid: top-1 +5.00 ± 1.00 (ahead)'
    """
    blocks = []
    profiles: dict[str, list[Mapping]] = {}
    for row in aggregate:
        profiles.setdefault(row["profile"], []).append(row)
    for rows in profiles.values():
        ours = next((row for row in rows if row["variant"] == method), None)
        if ours is None or len(rows) < 2:
            continue
        lines = [
            f"{method} against the other variants at ρ = {rows[0]['rho']:g} (difference of "
            "means in points ± its standard error over seeds):",
            "",
        ]
        for other in rows:
            if other is ours:
                continue
            parts = []
            for name, title in VERDICT_METRICS.items():
                a, b = ours["metrics"].get(name), other["metrics"].get(name)
                if a is None or b is None:
                    continue
                parts.append(f"{title} {_difference(a, b)}")
            lines.append(f"- {other['variant']}: " + "; ".join(parts))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _difference(a: Mapping, b: Mapping) -> str:
    """ "+d ± se (verdict)" for two {"mean", "std", "n"} statistics where higher is better."""
    difference = a["mean"] - b["mean"]
    if a["std"] is None or b["std"] is None:
        return f"{difference:+.2f} (one seed: no spread to judge by)"
    error = math.sqrt(a["std"] ** 2 / a["n"] + b["std"] ** 2 / b["n"])
    if abs(difference) > 2 * error:
        verdict = "ahead" if difference > 0 else "behind"
    else:
        verdict = "within noise"
    return f"{difference:+.2f} ± {error:.2f} ({verdict})"
