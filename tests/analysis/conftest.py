"""Shared fixtures of the analysis tests: eager APA/AGLU math (no compile time in small tests)."""

import pytest

from aglu import functional


@pytest.fixture(autouse=True)
def _eager_activations():
    set_enabled = getattr(functional, "set_compile_enabled", None)
    if set_enabled is None:
        yield
        return
    previous = set_enabled(False)
    yield
    set_enabled(previous)
