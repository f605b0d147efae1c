"""The errors raised when a dataset is not on disk or cannot be fetched."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["DatasetNotFoundError", "download_or_explain"]


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


def download_or_explain(fetch: Callable[[], object], root: str | Path, what: str, fix: str) -> None:
    """Run ``fetch`` (a torchvision download into ``root``); a failure is a one-line error.

    Folders the attempt created under ``root`` (``root`` included) are removed again, so a failed
    download leaves nothing behind; folders that were there before are kept as they were.

    Raises:
        DatasetNotFoundError: the download failed (no network, a server error, a bad checksum);
            the message names ``root``, the cause and ``fix``.
    """
    root = Path(root).absolute()
    # the outermost folder the download will create, or else what root already holds
    first_new = next((p for p in reversed([root, *root.parents]) if not p.exists()), None)
    before = set(root.iterdir()) if first_new is None else set()
    try:
        fetch()
    except (OSError, RuntimeError, ValueError) as error:
        left = [first_new] if first_new is not None else set(root.iterdir()) - before
        for path in left:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        cause = str(error).splitlines()[0] if str(error) else ""
        raise DatasetNotFoundError(
            root, f"downloading {what} failed ({type(error).__name__}: {cause}); {fix}"
        ) from None
