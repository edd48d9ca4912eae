"""Refits in forked workers (fitcore/refits.py): the numbers of a serial run, for the same seed."""
from dataclasses import replace

import numpy as np
import pytest
from test_validation_forces import MODEL, noisy  # noqa: F401  (a fixture)

import fitcore.refits as refits
from fitcore.fitting import fit_dataset
from fitcore.io.inputs import load_dataset
from fitcore.moments import compute_moments
from fitcore.spec import FitOptions, FitSpec, ModelOptions
from fitcore.validation import ValidationOptions

S22 = "tests/data/s22x5/s22x5_dispersion.extxyz"
can_fork = pytest.mark.skipif(not refits._can_fork(),
                              reason="workers are forked (Linux only); elsewhere refits run serially")


@pytest.fixture
def always_parallel(monkeypatch):
    """Workers from the first refit on, whatever the break-even rule would choose."""
    monkeypatch.setattr(refits, "PROBE_SECONDS", 0.0)
    monkeypatch.setattr(refits, "POOL_START_SECONDS", 0.0)


def validation_of(dataset, moments, model, spec, workers: int):
    options = ValidationOptions(cv=5, bootstrap=40, seed=7, workers=workers)
    return fit_dataset(dataset, moments, model, spec, FitOptions(seed=0), validation=options).validation


@can_fork
def test_parallel_refits_equal_serial_ones_on_the_dimers(always_parallel):
    dataset = load_dataset([S22])
    model = ModelOptions(scope="inter-fragment")
    moments = compute_moments(dataset, model.scheme, model.scope)
    serial = validation_of(dataset, moments, model, FitSpec(), 1)
    parallel = validation_of(dataset, moments, model, FitSpec(), 3)
    assert serial.processes == 1 and parallel.processes == 3
    assert replace(parallel, processes=1) == serial  # every fold statistic and interval, bit for bit


@can_fork
def test_parallel_refits_equal_serial_ones_with_forces(always_parallel, noisy):  # noqa: F811
    dataset, moments, _ = noisy
    serial = validation_of(dataset, moments, MODEL, FitSpec(forces=True), 1)
    parallel = validation_of(dataset, moments, MODEL, FitSpec(forces=True), 2)
    assert parallel.processes == 2 and replace(parallel, processes=1) == serial
    assert serial.cv_force_rmse is not None


def test_the_break_even_rule_keeps_short_runs_serial():
    """A handful of millisecond refits costs less than starting workers: they run here."""
    dataset = load_dataset([S22])
    model = ModelOptions(scope="inter-fragment")
    moments = compute_moments(dataset, model.scheme, model.scope)
    options = ValidationOptions(cv=3, seed=1, workers=4)
    assert fit_dataset(dataset, moments, model, FitSpec(), FitOptions(), validation=options).validation.processes == 1


def test_bootstrap_resamples_depend_on_the_seed_and_index_alone():
    plan = refits.RefitPlan(n_frames=30, n_bootstrap=5, seed=4, n_folds=2, fold=np.arange(30) % 2)
    other = refits.RefitPlan(n_frames=30, n_bootstrap=9, seed=4)
    np.testing.assert_array_equal(plan.counts(2 + 3), other.counts(3))
    assert plan.counts(3).sum() == 30 and not np.array_equal(plan.counts(3), plan.counts(4))
    np.testing.assert_array_equal(plan.counts(1), (np.arange(30) % 2 != 1).astype(float))
