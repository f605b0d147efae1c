"""Refresh the generated blocks of README.md from the result files under benchmarks/ and runs/.

Each block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` and is
replaced by the standard output of the command registered for NAME below. Tables in the README are
never typed by hand: run ``python scripts/update_readme.py`` after a benchmark, the demo or
the study.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


def render(name: str) -> str | None:
    """The markdown for one block, or None when its generator or its inputs are missing."""
    command = GENERATORS[name]
    if not (ROOT / command[1]).exists():
        return None
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"{name}: generator failed, block left as it was:\n{result.stderr}", file=sys.stderr)
        return None
    return result.stdout.strip()


def main(names: list[str]) -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for name in names or list(GENERATORS):
        pattern = re.compile(
            rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            continue
        block = render(name)
        if block is not None:
            text = pattern.sub(lambda m, b=block: f"{m.group(1)}{b}\n{m.group(2)}", text)
            print(f"updated {name}")
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
