"""Print the README's study block (markdown) from the study's JSON: budget, table, then verdict.

Usage: ``python scripts/readme_study.py [STUDY_JSON]`` (default ``benchmarks/results/study.json``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aglu.bench.study_table import compare_variants, format_study_table

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "study.json"


def budget_line(study: dict) -> str:
    """One sentence that states what was run, how long it took and where."""
    finished = [run["metrics"] for run in study["runs"] if run["metrics"] is not None]
    counts = sorted({metrics.get("epochs") for metrics in finished} - {None})
    if len(counts) == 1:
        epochs = counts[0]
    else:
        epochs = study["epochs"] if study["epochs"] is not None else "the config's"
    machine = study.get("machine") or {}
    where = f" on {machine['cpu']} ({machine['threads']} threads)" if "cpu" in machine else ""
    return (
        f"Budget: {study['finished_runs']} of {study['planned_runs']} runs finished, "
        f"{epochs} epochs each, seeds {', '.join(map(str, study['seeds']))}, "
        f"{study['total_wall_s'] / 3600:.1f} h of training{where}. "
        "Mean ± sample std over seeds; accuracies and ECE in percent on the balanced test set; "
        "IIF: the inverse-image-frequency logit offset at inference; best mean per column in bold."
    )


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    if not path.is_file():
        print(f"no study results at {path}; run `aglu study --results {path}`", file=sys.stderr)
        return 1
    study = json.loads(path.read_text())
    print(budget_line(study))
    print()
    print(format_study_table(study["aggregate"]))
    verdict = compare_variants(study["aggregate"])
    if verdict:
        print()
        print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
