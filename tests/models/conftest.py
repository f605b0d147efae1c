"""Model tests run the activations eagerly: they test the wiring, not the fused kernels."""

import pytest

from aglu import functional


@pytest.fixture(autouse=True)
def _eager_activations():
    # Compiling the fused kernels costs seconds per process; the kernels have their own tests.
    set_compile_enabled = getattr(functional, "set_compile_enabled", None)
    if set_compile_enabled is None:
        yield
        return
    previous = set_compile_enabled(False)
    yield
    set_compile_enabled(previous)
