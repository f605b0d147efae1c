"""README's generated blocks: each equals its generator's output, and a failing generator exits 1.

A block whose inputs are committed must read exactly what ``scripts/update_readme.py`` would
write; when it does not, the README is stale and the failure says the command that refreshes it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("update_readme", ROOT / "scripts/update_readme.py")
update_readme = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(update_readme)


def _committed(path: str) -> bool:
    done = subprocess.run(
        ["git", "ls-files", "--error-unmatch", path], cwd=ROOT, capture_output=True
    )
    return done.returncode == 0


README_TEXT = (ROOT / "README.md").read_text()
CHECKED = [
    name
    for name in update_readme.GENERATORS
    if update_readme.block_pattern(name).search(README_TEXT)
    and all(_committed(path) for path in update_readme.INPUTS[name])
]


def test_the_blocks_with_committed_results_are_checked():
    assert {"activation", "throughput", "latency", "demo", "analysis"} <= set(CHECKED)


@pytest.mark.parametrize("name", CHECKED)
def test_readme_block_matches_its_generator(name):
    body = update_readme.block_pattern(name).search(README_TEXT).group(2)
    rendered = update_readme.render(name, write_files=False)
    assert body == rendered + "\n", (
        f"README block {name!r} is stale: run `python scripts/update_readme.py {name}`"
    )


def test_a_failing_generator_exits_1_naming_the_block(tmp_path, monkeypatch, capsys):
    failing = tmp_path / "failing.py"
    failing.write_text("import sys\nsys.exit('no results to render')\n")
    working = tmp_path / "working.py"
    working.write_text("print('fresh table')\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- generated:good -->\nold\n<!-- /generated:good -->\n"
        "<!-- generated:broken -->\nkept\n<!-- /generated:broken -->\n"
    )
    monkeypatch.setattr(
        update_readme,
        "GENERATORS",
        {"good": [sys.executable, str(working)], "broken": [sys.executable, str(failing)]},
    )

    assert update_readme.main([], readme) == 1
    error = capsys.readouterr().err
    assert "broken: generator failed (exit 1): no results to render" in error
    assert "not updated: broken" in error
    assert readme.read_text() == (
        "<!-- generated:good -->\nfresh table\n<!-- /generated:good -->\n"
        "<!-- generated:broken -->\nkept\n<!-- /generated:broken -->\n"
    )
    assert update_readme.main(["good"], readme) == 0
    assert update_readme.main(["nonsense"], readme) == 2
