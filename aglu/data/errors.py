"""The error raised when a dataset is not on disk."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DatasetNotFoundError"]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are missing; the message names the path and how to get the data.

    Args:
        path: the file or folder that was looked for.
        how_to_get: one sentence on how to put the data there.

    Example:
        >>> error = DatasetNotFoundError("/no/such/dir", "pass download=True")
        >>> isinstance(error, FileNotFoundError)
        True
        >>> str(error)
        'dataset not found at /no/such/dir; pass download=True'
    """

    def __init__(self, path: str | Path, how_to_get: str) -> None:
        self.path = str(path)
        self.how_to_get = how_to_get
        super().__init__(f"dataset not found at {self.path}; {how_to_get}")
