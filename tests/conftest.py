"""Shared fixtures: models are compiled once per session (Numba compiles are slow)."""

from __future__ import annotations

import numpy as np
import pytest

from measurement_models import linear


@pytest.fixture(scope="session")
def line_data():
    """A straight line y = 2 x + 0.5 + N(0, 0.3²) at 20 centred points, and its truth."""
    return linear.example_data(0)


def transformed_point(model, values: dict) -> dict:
    """Map parameter values to the model's (transformed) value variables."""
    point = {}
    for rv in model.free_RVs:
        value = np.asarray(values[rv.name], dtype=float)
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.forward(value, *rv.owner.inputs).eval()
        point[model.rvs_to_values[rv].name] = value
    return point
