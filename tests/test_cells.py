"""Cell geometry: face-to-face widths against the reciprocal-vector formula, and the thin-cell warning."""
import warnings

import numpy as np
import pytest
from synth import random_dataset

from fitcore.cells import cell_widths
from fitcore.errors import LjfitWarning
from fitcore.cells import warn_thin_cells


def test_widths_are_inverse_lengths_of_reciprocal_vectors(rng):
    cells = rng.normal(size=(50, 3, 3)) + 8 * np.eye(3)
    widths = cell_widths(cells, np.ones((50, 3), bool))
    reciprocal = np.linalg.inv(cells).transpose(0, 2, 1)  # rows b_i with a_j . b_i = delta_ij
    assert np.allclose(widths, 1 / np.linalg.norm(reciprocal, axis=2), rtol=1e-12)


def test_slab_widths_ignore_the_open_direction():
    cell = np.array([[10.0, 0, 0], [3.0, 9.0, 0], [1.0, 2.0, 0.0]])  # third vector unused (zero height)
    widths = cell_widths(cell[None], np.array([[True, True, False]]))[0]
    assert widths[2] == np.inf
    area = 10.0 * 9.0  # of the periodic face; each width is the area over the length of the other vector
    assert widths[0] == pytest.approx(area / np.hypot(3.0, 9.0), rel=1e-12) and widths[1] == pytest.approx(9.0)


def test_thin_cells_are_warned_about(rng):
    dataset = random_dataset(rng, n_frames=3, pbc="full", length=10.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_thin_cells(dataset.cells, dataset.pbc, 4.0)
        assert not caught
        warn_thin_cells(dataset.cells, dataset.pbc, 6.0)
    assert len(caught) == 1 and issubclass(caught[0].category, LjfitWarning)
    assert "thinner than twice the cutoff" in str(caught[0].message)
