"""Figure paths: the extension picks the format (PNG, SVG or PDF); folders are created on save."""

from __future__ import annotations

from pathlib import Path

from aglu import atomic_files

__all__ = ["FIGURE_FORMATS", "check_figure_path", "save_figure"]

FIGURE_FORMATS = (".png", ".svg", ".pdf")


def check_figure_path(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise if its extension is not a figure format."""
    path = Path(path)
    if path.suffix.lower() not in FIGURE_FORMATS:
        raise ValueError(
            f"figure path {str(path)!r} has no figure extension; end it with one of "
            f"{', '.join(FIGURE_FORMATS)}"
        )
    return path


def save_figure(figure, path: str | Path, dpi: int = 120) -> Path:
    """Write a matplotlib Figure to ``path`` (atomically) in the format its extension names."""
    return atomic_files.save_figure(figure, check_figure_path(path), dpi=dpi, bbox_inches="tight")
