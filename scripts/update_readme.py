"""Refresh the generated blocks of README.md from the result files under benchmarks/ and runs/.

Each block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` and is
replaced by the standard output of the command registered for NAME below. Tables in the README are
never typed by hand: run ``python scripts/update_readme.py [NAME ...]`` after a benchmark, the
demo or the study. A block whose generator fails is left as it was, and the script then exits 1
naming it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# block name -> command (run from the repository root) whose stdout is the block's markdown.
GENERATORS: dict[str, list[str]] = {
    "activation": [sys.executable, "scripts/readme_tables.py", "activation"],
    "activation_shapes": [
        sys.executable,
        "scripts/readme_tables.py",
        "activation_conv",
        "activation_tokens",
    ],
    "throughput": [sys.executable, "scripts/readme_tables.py", "throughput"],
    "latency": [sys.executable, "scripts/readme_tables.py", "latency"],
    "demo": [sys.executable, "scripts/demo_results.py", "benchmarks/results/demo"],
    "study": [sys.executable, "scripts/readme_study.py"],
    "analysis": [
        sys.executable,
        "scripts/readme_analysis.py",
        "benchmarks/results/analysis/relu+sigmoid",
        "benchmarks/results/analysis/aglu+apa",
    ],
}
# block name -> the files (relative to the repository root) its generator reads.
INPUTS: dict[str, list[str]] = {
    "activation": ["benchmarks/results/activation.json"],
    "activation_shapes": [
        "benchmarks/results/activation_conv.json",
        "benchmarks/results/activation_tokens.json",
    ],
    "throughput": ["benchmarks/results/throughput.json"],
    "latency": ["benchmarks/results/latency.json"],
    "demo": ["benchmarks/results/demo/metrics.json", "benchmarks/results/demo/config.yaml"],
    "study": ["benchmarks/results/study.json"],
    "analysis": [
        f"benchmarks/results/analysis/{run}/{name}"
        for run in ("relu+sigmoid", "aglu+apa")
        for name in ("analysis.json", "config.yaml")
    ],
}
# Arguments that make a generator print its block without writing files (the figures' copies).
NO_WRITE_ARGS: dict[str, list[str]] = {"analysis": ["--links-only"]}


class GeneratorError(RuntimeError):
    """A block's generator is missing or exited with an error."""


def render(name: str, *, write_files: bool = True) -> str:
    """The markdown for one block; GeneratorError names the block when its generator fails."""
    command = GENERATORS[name]
    if not (ROOT / command[1]).exists():
        raise GeneratorError(f"{name}: generator {command[1]} is missing")
    if not write_files:
        command = [*command, *NO_WRITE_ARGS.get(name, [])]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise GeneratorError(
            f"{name}: generator failed (exit {result.returncode}): {result.stderr.strip()}"
        )
    return result.stdout.strip()


def block_pattern(name: str) -> re.Pattern[str]:
    """The README text of block ``name``: group 1 its opening marker, 2 its body, 3 the closing."""
    return re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n)(.*?)(<!-- /generated:{re.escape(name)} -->)",
        flags=re.DOTALL,
    )


def main(names: list[str], readme: Path = README) -> int:
    unknown = sorted(set(names) - set(GENERATORS))
    if unknown:
        print(f"unknown blocks {unknown}; use some of {list(GENERATORS)}", file=sys.stderr)
        return 2
    text = readme.read_text()
    failed = []
    for name in names or list(GENERATORS):
        pattern = block_pattern(name)
        if not pattern.search(text):
            continue
        try:
            block = render(name)
        except GeneratorError as error:
            print(f"{error}; block left as it was", file=sys.stderr)
            failed.append(name)
            continue
        text = pattern.sub(lambda m, b=block: f"{m.group(1)}{b}\n{m.group(3)}", text)
        print(f"updated {name}")
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(readme)
    if failed:
        print(f"update_readme: not updated: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
