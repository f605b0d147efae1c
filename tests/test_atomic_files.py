"""Atomic files: figures and run files get a plain file's mode and never a half-written state."""

import os

import pytest
from matplotlib.figure import Figure

from aglu.atomic_files import save_figure


@pytest.fixture
def figure():
    figure = Figure(figsize=(2, 2))  # no pyplot, so no GUI backend is ever chosen
    figure.subplots().plot([0, 1], [1, 0])
    return figure


def test_figure_has_a_plain_files_mode(tmp_path, figure):
    mask = os.umask(0o022)
    try:
        path = save_figure(figure, tmp_path / "sub" / "plot.png")
    finally:
        os.umask(mask)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    assert [p.name for p in path.parent.iterdir()] == ["plot.png"]


def test_failed_render_keeps_the_old_figure(tmp_path, figure):
    path = tmp_path / "plot.png"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="not supported"):
        save_figure(figure, tmp_path / "plot.xyz")  # matplotlib knows no such format
    with pytest.raises(ValueError, match="has no suffix"):
        save_figure(figure, tmp_path / "plot")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "plot.png"
    ]
