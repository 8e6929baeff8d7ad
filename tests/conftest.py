"""Shared fixtures: models are compiled once per session (Numba compiles are slow)."""

from __future__ import annotations

import pytest

from measurement_models import linear


@pytest.fixture(scope="session")
def line_data():
    """A straight line y = 2 x + 0.5 + N(0, 0.3²) at 20 centred points, and its truth."""
    return linear.example_data(0)
