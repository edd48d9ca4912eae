"""--cv and --bootstrap with --forces: a frame's force rows travel with it (fitcore/validation.py ForceBlocks)."""
import json

import numpy as np
import pytest
import torch
from synth import random_dataset, true_theta, with_reference
from test_cli_support import CUBIC, ORACLE, first_frames, invoke, truth

from fitcore.fit import Start, layout_for
from fitcore.fitting import fit_dataset, targets_for
from fitcore.model import DirectEngine, coefficients
from fitcore.moments import compute_moments
from fitcore.problem import Weighting
from fitcore.spec import FitOptions, FitSpec, ModelOptions
from fitcore.validation import ValidationOptions, force_blocks, frame_rows

MODEL = ModelOptions(cutoff=7.5, shift=True)
FORCE_NOISE = 0.01  # eV/Å
ENERGY_NOISE = 0.002  # eV


@pytest.fixture(scope="module")
def noisy():
    """24 periodic Ar/Kr/Xe frames, energies and forces from the direct engine at the truth, with noise."""
    rng = np.random.default_rng(41)
    dataset = random_dataset(rng, n_frames=24, pbc="full", triclinic=True, length=10.0)
    layout = layout_for(dataset.type_names, "lorentz-berthelot", "none", dataset.species_names, [])
    dataset = with_reference(dataset, layout, true_theta(layout), MODEL.cutoff, True, forces=True,
                             noise=ENERGY_NOISE, rng=rng)
    forces = dataset.forces + rng.normal(0, FORCE_NOISE, dataset.forces.shape)
    dataset = type(dataset)(**{**dataset.__dict__, "forces": forces})
    return dataset, compute_moments(dataset, MODEL.scheme, with_forces=True), layout


def test_force_blocks_give_the_force_errors_of_the_direct_engine(noisy):
    """The per-frame compression against forces computed pair by pair (the direct engine), at any theta."""
    dataset, moments, layout = noisy
    theta = true_theta(layout) * np.random.default_rng(1).uniform(0.9, 1.1, len(layout.names))
    targets = targets_for(dataset, layout, True, moments)
    free = np.ones(len(theta), bool)
    start = Start(theta, free, np.zeros(len(theta)), np.full(len(theta), np.inf), ("data",) * len(theta))
    rows = frame_rows(moments, targets, Weighting(forces=True), layout, start, theta)
    c12, c6 = coefficients(layout, torch.as_tensor(theta))
    direct = DirectEngine(dataset, MODEL.scheme, "all", type_names=layout.type_names).forces(c12, c6).numpy()
    for frames in (np.arange(24), np.array([0, 5, 6, 23])):
        atoms = np.isin(dataset.frame_index, frames)
        expected = np.sqrt(np.mean((direct[atoms] - dataset.forces[atoms]) ** 2))
        assert rows.force_rmse(theta, frames) == pytest.approx(expected, rel=1e-9)
    assert rows.forces.matrix.shape[0] <= 24 * rows.raw.shape[1]  # at most k rows a frame
    chunked = force_blocks(moments, targets, Weighting(forces=True), chunk=30)  # a few frames a chunk
    np.testing.assert_allclose(chunked.matrix, rows.forces.matrix, rtol=1e-12,
                               atol=1e-12 * np.abs(chunked.matrix).max())
    np.testing.assert_array_equal(chunked.frame, rows.forces.frame)


def test_refit_of_every_frame_once_is_the_fit_with_forces(noisy):
    dataset, moments, layout = noisy
    spec = FitSpec(forces=True)
    result = fit_dataset(dataset, moments, MODEL, spec, FitOptions())
    targets = targets_for(dataset, layout, True, moments)
    start = Start(true_theta(layout), np.ones(len(layout.names), bool), np.zeros(len(layout.names)),
                  np.full(len(layout.names), np.inf), ("data",) * len(layout.names))
    rows = frame_rows(moments, targets, Weighting(forces=True), layout, start, true_theta(layout))
    theta, ok = rows.refit(np.ones(24))  # from the truth, on the per-frame blocks
    assert ok
    np.testing.assert_allclose(theta, result.params.values, rtol=1e-7)


def test_a_resample_is_the_fit_with_each_frame_weighted_by_its_draws(noisy):
    """A frame drawn c times counts as a frame of weight c, energies and forces alike: the refit on the
    per-frame blocks equals the full fit (all atoms' force rows) with those weights."""
    dataset, moments, layout = noisy
    counts = np.bincount(np.random.default_rng(8).integers(0, 24, 24), minlength=24).astype(float)
    weighted = type(dataset)(**{**dataset.__dict__, "weights": counts})
    expected = fit_dataset(weighted, moments, MODEL, FitSpec(forces=True, force_weight=0.3), FitOptions())
    targets = targets_for(dataset, layout, True, moments)
    n = len(layout.names)
    start = Start(true_theta(layout), np.ones(n, bool), np.zeros(n), np.full(n, np.inf), ("data",) * n)
    rows = frame_rows(moments, targets, Weighting(forces=True, force_weight=0.3), layout, start, true_theta(layout))
    theta, ok = rows.refit(counts)
    assert ok and (counts == 0).any() and (counts > 1).any()
    np.testing.assert_allclose(theta, expected.params.values, rtol=1e-7)


def test_bootstrap_and_cv_with_forces_recover_the_truth(noisy):
    dataset, moments, layout = noisy
    validation = ValidationOptions(cv=4, bootstrap=100, seed=3)
    result = fit_dataset(dataset, moments, MODEL, FitSpec(forces=True), FitOptions(), validation=validation)
    v, truth_values = result.validation, dict(zip(layout.names, true_theta(layout)))
    assert v.bootstrap_failed == 0
    for k, (name, (lo, hi)) in enumerate(v.ci95.items()):
        assert lo <= truth_values[name] <= hi, (name, lo, hi, truth_values[name])
        assert 0.5 < (hi - lo) / (2 * 1.96 * result.params.stderr[k]) < 2.0  # beside the Jacobian's stderr
    # held-out forces are predicted as well as the noise allows, and as the training forces are fitted
    assert 0.8 * FORCE_NOISE < v.cv_force_rmse < 1.3 * FORCE_NOISE
    for fold in v.folds:
        assert 0.7 * FORCE_NOISE < fold.force_rmse < 1.4 * FORCE_NOISE
        assert 0.7 * FORCE_NOISE < fold.train_force_rmse < 1.3 * FORCE_NOISE
    assert result.forces.rmse == pytest.approx(np.mean([f.train_force_rmse for f in v.folds]), rel=0.1)


def test_cli_cv_bootstrap_with_forces_on_the_lammps_oracle(tmp_path):
    """Exact LAMMPS energies and forces: every refit finds the truth, held-out frames are predicted exactly."""
    data = first_frames(CUBIC, 8, tmp_path / "eight.extxyz")
    result = invoke(["fit", data, *ORACLE, "--forces", "--cv", "4", "--bootstrap", "10", "--seed", "2",
                     "--format", "json"])
    doc = json.loads(result.stdout)
    v = doc["fit"]["validation"]
    assert v["cv"]["force_rmse"] < 1e-6 and v["cv"]["rmse"] < 1e-6 and v["cv"]["force_unit"] == "eV/angstrom"
    assert all(f["force_rmse"] < 1e-6 and f["train_force_rmse"] < 1e-6 for f in v["cv"]["folds"])
    for name, params in truth()["params"].items():
        for kind in ("epsilon", "sigma"):
            lo, hi = v["bootstrap"][f"{name}.{kind}"]["ci95"]
            assert lo == pytest.approx(params[kind], rel=1e-6) and hi == pytest.approx(params[kind], rel=1e-6)
    assert "held-out force RMSE" in result.stderr
