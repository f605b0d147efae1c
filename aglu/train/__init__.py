"""The training engine behind ``aglu train`` and ``aglu eval`` (needs ``aglu[train]``)."""

from aglu.train.checkpoint import load_model

__all__ = ["load_model"]
