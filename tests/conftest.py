"""Shared fixtures: paths to the test data and small helpers."""
from pathlib import Path

import numpy as np
import pytest
from test_cli_support import CUBIC, ORACLE, first_frames, invoke, truth_params, write_json

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture
def small(tmp_path) -> Path:
    """Six frames of the periodic cubic oracle (64 atoms each, energies and forces)."""
    return first_frames(CUBIC, 6, tmp_path / "small.extxyz")


@pytest.fixture
def truth_file(tmp_path) -> Path:
    return write_json(tmp_path / "truth.json", truth_params())


@pytest.fixture(scope="session")
def fitted(tmp_path_factory) -> Path:
    """A params file fitted by ``ljfit fit`` to ten oracle frames (energies and forces)."""
    folder = tmp_path_factory.mktemp("fitted")
    data = first_frames(CUBIC, 10, folder / "ten.extxyz")
    out = folder / "params.json"
    invoke(["fit", data, *ORACLE, "--forces", "-o", out, "-q"])
    return out
