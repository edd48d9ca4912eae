"""Fitting: recovery of known parameters, honest standard errors, exact Jacobians, basin-hopping."""
import warnings

import numpy as np
import pytest
from synth import TRUE, random_dataset, true_theta, with_reference

from fitcore.errors import FitError, LjfitWarning
from fitcore.fit import FitOptions, build_start, layout_for
from fitcore.guess import initial_guess
from fitcore.linear import linear_system
from fitcore.moments import CutoffScheme, compute_moments
from fitcore.params import Layout
from fitcore.problem import Problem, Weighting
from fitcore.engine import make_engine
from fitcore.fitting import fit_dataset, targets_for
from fitcore.spec import FitSpec, ModelOptions


def fit_case(rng, mixing="lorentz-berthelot", pbc="full", scope="all", forces=False, offset="none", noise=0.0,
             init=None, n_frames=24, options=FitOptions(), **spec):
    dataset = random_dataset(rng, n_frames=n_frames, pbc=pbc, triclinic=pbc != "none", length=10.0,
                             fragments=scope != "all")
    cutoff = None if pbc == "none" else 7.5
    layout = layout_for(dataset.type_names, mixing, offset, dataset.species_names, [])
    theta = true_theta(layout)
    dataset = with_reference(dataset, layout, theta, cutoff, True, scope, forces, noise, rng)
    model = ModelOptions(cutoff=cutoff, shift=True, scope=scope)
    moments = compute_moments(dataset, model.scheme, scope, with_forces=forces)
    fit_spec = FitSpec(mixing=mixing, offset=offset, forces=forces, init=init or {}, **spec)
    return fit_dataset(dataset, moments, model, fit_spec, options), theta


def max_rel_error(result, theta) -> float:
    return float(np.max(np.abs(result.params.values - theta) / np.maximum(np.abs(theta), 1e-12)))


@pytest.mark.parametrize("mixing", ["lorentz-berthelot", "geometric", "sixthpower", "none"])
@pytest.mark.parametrize("pbc", ["none", "full", "slab"])
@pytest.mark.parametrize("scope", ["all", "inter-fragment"])
@pytest.mark.parametrize("forces", [False, True])
def test_recovers_known_parameters_from_default_guess(rng, mixing, pbc, scope, forces):
    result, theta = fit_case(rng, mixing, pbc, scope, forces)
    assert result.converged
    if result.absent_pairs:  # mixing none leaves pairs the data never shows out of the layout
        assert mixing == "none"
    assert max_rel_error(result, true_theta(result.params.layout)) < 1e-8


@pytest.mark.parametrize("mixing", ["lorentz-berthelot", "geometric", "sixthpower"])
@pytest.mark.parametrize("forces", [False, True])
def test_recovers_from_a_poor_start(rng, mixing, forces):
    """Start every parameter 25% off: the optimiser itself must get to the answer."""
    start = {n: v * (1.25 if k % 2 else 0.8) for k, (n, v) in enumerate(TRUE.items())}
    result, theta = fit_case(rng, mixing, forces=forces, init=start)
    assert result.converged and result.optimizer.nfev > 2
    assert max_rel_error(result, theta) < 1e-8


@pytest.mark.parametrize("offset", ["constant", "per-species"])
def test_recovers_offsets(rng, offset):
    result, theta = fit_case(rng, offset=offset, n_frames=30)
    assert max_rel_error(result, theta) < 1e-8


def test_pair_override_on_top_of_mixing(rng):
    init = {"Ar-Xe.epsilon": 0.02}
    result, _ = fit_case(rng, init=init)
    layout = result.params.layout
    assert "Ar-Xe.epsilon" in layout.names and "Ar-Xe.sigma" in layout.names
    # data made without the override: the per-type values come back exactly, the override as the mixed value
    per_type = [k for k, n in enumerate(layout.names) if "-" not in n]
    truth = np.array([TRUE[layout.names[k]] for k in per_type])
    assert np.max(np.abs(result.params.values[per_type] - truth) / truth) < 1e-8
    assert result.params.value("Ar-Xe.epsilon") == pytest.approx(np.sqrt(0.0104 * 0.0194), rel=1e-6)


def test_standard_errors_are_honest(rng):
    """Noisy data, 80 seeds: truth within 3 stderr nearly always, within 1 stderr about 68% of the time."""
    base = random_dataset(rng, n_frames=30, pbc="full", triclinic=True, length=10.0)
    layout = Layout(base.type_names)
    theta = true_theta(layout)
    clean = with_reference(base, layout, theta, 7.5, True)
    model = ModelOptions(cutoff=7.5, shift=True)
    moments = compute_moments(clean, model.scheme)
    noise = 0.02 * np.std(clean.energies)
    z = []
    for seed in range(80):
        noisy = type(clean)(**{**clean.__dict__,
                               "energies": clean.energies + np.random.default_rng(seed).normal(0, noise, 30)})
        result = fit_dataset(noisy, moments, model, FitSpec(), FitOptions())
        z.append((result.params.values - theta) / result.params.stderr)
    z = np.abs(np.array(z))
    assert np.mean(z < 3) >= 0.95
    assert 0.55 <= np.mean(z < 1) <= 0.80


def problem_for(rng, forces=True, offset="per-species", mixing="lorentz-berthelot", pairs=((0, 1),),
                compressed=False):
    dataset = random_dataset(rng, n_frames=10, pbc="slab", triclinic=True, length=10.0)
    layout = Layout(dataset.type_names, mixing, pairs, offset, dataset.species_names)
    dataset = with_reference(dataset, layout, true_theta(layout), 7.5, True, forces=forces, noise=1e-3, rng=rng)
    moments = compute_moments(dataset, CutoffScheme(7.5, True), with_forces=forces)
    model = ModelOptions(cutoff=7.5, shift=True)
    weighting = Weighting(per_atom=True, forces=forces, force_weight=0.3)
    theta = true_theta(layout) * rng.uniform(0.9, 1.1, len(layout.names))
    free = np.ones(len(theta), bool)
    free[1] = False
    engine = make_engine(dataset, moments, model, layout.type_names)
    targets = targets_for(dataset, layout, forces)
    system = linear_system(moments, targets, weighting) if compressed else None
    return Problem(layout=layout, engine=engine, targets=targets, weighting=weighting, theta0=theta, free=free,
                   system=system), theta[free]


@pytest.mark.parametrize("mixing", ["lorentz-berthelot", "geometric", "sixthpower"])
@pytest.mark.parametrize("compressed", [False, True])
def test_jacobian_equals_central_differences(rng, mixing, compressed):
    problem, x = problem_for(rng, mixing=mixing, compressed=compressed)
    jac = problem.jacobian(x)
    numeric = np.empty_like(jac)
    for k in range(len(x)):
        h = 1e-6 * max(abs(x[k]), 1e-3)
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        numeric[:, k] = (problem.residuals(up) - problem.residuals(down)) / (2 * h)
    scale = np.max(np.abs(jac), axis=0)
    assert np.max(np.abs(jac - numeric) / scale) < 1e-6


def test_direct_engine_fit_equals_moment_fit(rng):
    dataset = random_dataset(rng, n_frames=12, pbc="full", length=10.0)
    layout = Layout(dataset.type_names)
    dataset = with_reference(dataset, layout, true_theta(layout), 7.5, True, noise=2e-3, rng=rng)
    results = []
    for engine in ("moments", "direct"):
        model = ModelOptions(cutoff=7.5, shift=True, engine=engine)
        moments = compute_moments(dataset, model.scheme)
        results.append(fit_dataset(dataset, moments, model, FitSpec(), FitOptions()))
    np.testing.assert_allclose(results[0].params.values, results[1].params.values, rtol=1e-7)
    np.testing.assert_allclose(results[0].params.stderr, results[1].params.stderr, rtol=1e-5)


def test_fixed_parameters_stay_fixed_and_bounds_hold(rng):
    result, theta = fit_case(rng, noise=1e-3, init={"Kr.sigma": 3.5}, fixed=("Kr.sigma",),
                             bounds={"Ar.epsilon": (0.0105, 0.02)})
    assert result.params.value("Kr.sigma") == 3.5
    assert "fixed" in result.flags[result.params.names.index("Kr.sigma")]
    assert result.params.stderr[result.params.names.index("Kr.sigma")] == 0
    k = result.params.names.index("Ar.epsilon")
    assert 0.0105 <= result.params.values[k] <= 0.02
    assert "at bound" in result.flags[k]


def test_underdetermined_problem_is_an_error(rng):
    with pytest.raises(FitError, match="underdetermined: 12 free parameters but only 4"):
        fit_case(rng, mixing="none", n_frames=4)


def test_non_finite_start_is_an_error(rng):
    with pytest.raises(FitError, match="not finite at the initial parameters"):
        fit_case(rng, init={"Ar.sigma": 1e300})


def test_collinear_compositions_warn_for_per_species_offsets(rng):
    dataset = random_dataset(rng, n_frames=14, n_atoms=(9, 9), types=("Ar", "Kr", "Xe"), pbc="full", length=10.0)
    index = np.tile([0, 1, 2], dataset.n_atoms // 3).astype(np.int32)  # every frame Ar3Kr3Xe3
    dataset = type(dataset)(**{**dataset.__dict__, "type_index": index, "species_index": index})
    layout = Layout(dataset.type_names)
    dataset = with_reference(dataset, layout, true_theta(layout), 7.5, True)
    model = ModelOptions(cutoff=7.5, shift=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_dataset(dataset, compute_moments(dataset, model.scheme), model, FitSpec(offset="per-species"),
                    FitOptions())
    assert any(issubclass(w.category, LjfitWarning) and "collinear" in str(w.message) for w in caught)


def test_singular_problem_is_flagged_not_nan(rng):
    """Only A-B pairs: per-type parameters of A and B are not separable under Lorentz-Berthelot."""
    dataset = random_dataset(rng, n_frames=10, n_atoms=(2, 2), types=("A", "B"), pbc="none", min_dist=3.2)
    dataset = type(dataset)(**{**dataset.__dict__, "fragments": np.tile([0, 1], 10)})
    layout = Layout(("A", "B"))
    theta = np.array([0.01, 3.3, 0.02, 3.6])
    dataset = with_reference(dataset, layout, theta, None, scope="inter-fragment")
    model = ModelOptions(scope="inter-fragment")
    result = fit_dataset(dataset, compute_moments(dataset, model.scheme, "inter-fragment"), model, FitSpec(),
                         FitOptions())
    assert all("not determined by the data" in f for f in result.flags)
    assert np.all(np.isinf(result.params.stderr))
    assert result.energy.rmse < 1e-12  # the pair itself is fitted exactly


def two_minima_dataset():
    """Dimers A-A, B-B and (many) A-B whose pair parameters are NOT Lorentz-Berthelot consistent
    (sigma 3.0, 4.0 and 5.0 Å, all eps 0.01 eV): a per-type LB fit must compromise, and the cost has a
    second, worse, interior minimum near eps_A = 1.4 eV, sigma_A = 0.46 Å (found by a multi-start scan)."""
    from fitcore.dataset import Dataset

    def lj(r, e, s):
        return 4 * e * ((s / r) ** 12 - (s / r) ** 6)
    kinds, distances, energies = [], [], []
    for (a, b), sigma, n in (((0, 0), 3.0, 20), ((1, 1), 4.0, 20), ((0, 1), 5.0, 100)):
        r = np.linspace(0.95 * sigma, 2.0 * sigma, n)
        kinds += [(a, b)] * n
        distances.append(r)
        energies.append(lj(r, 0.01, sigma))
    r, n = np.concatenate(distances), len(kinds)
    positions = np.zeros((2 * n, 3))
    positions[1::2, 0] = r
    types = np.array(kinds, np.int32).ravel()
    return Dataset(positions, types, ("A", "B"), types.copy(), ("A", "B"), np.arange(0, 2 * n + 1, 2, dtype=np.int64),
                   np.zeros((n, 3, 3)), np.zeros((n, 3), bool), np.concatenate(energies), np.ones(n), None, None,
                   tuple(f"d{k}" for k in range(n)), ("synthetic",) * n, np.zeros(n, np.int64), ({},) * n)


def test_basinhopping_finds_the_better_of_two_minima():
    dataset = two_minima_dataset()
    model = ModelOptions()
    moments = compute_moments(dataset, model.scheme)
    poor = {"A.epsilon": 1.0, "A.sigma": 0.5, "B.epsilon": 0.01, "B.sigma": 4.0}
    box = {f"{t}.{k}": ((1e-4, 2.0) if k == "epsilon" else (0.3, 8.0)) for t in "AB" for k in ("epsilon", "sigma")}
    with pytest.warns(LjfitWarning, match="worse than their mean"):  # the worse minimum is that bad
        local = fit_dataset(dataset, moments, model, FitSpec(init=poor, bounds=box), FitOptions())
    assert local.converged and local.params.value("A.sigma") < 1.0  # stuck in the worse minimum
    assert not any("at bound" in f for f in local.flags)  # ... an interior one
    options = FitOptions(method="basinhopping", niter=30, seed=4, step_size=3.0)
    hopped = fit_dataset(dataset, moments, model, FitSpec(init=poor, bounds=box), options)
    assert hopped.optimizer.cost < 0.9 * local.optimizer.cost
    assert hopped.params.value("A.sigma") == pytest.approx(3.0, abs=0.05)
    assert len(hopped.optimizer.minima) >= 2
    again = fit_dataset(dataset, moments, model, FitSpec(init=poor, bounds=box), options)
    np.testing.assert_array_equal(again.params.values, hopped.params.values)
    assert again.optimizer.seed == 4


def test_initial_guess_handles_a_type_without_self_pairs(rng):
    """A single X atom per frame among Ar: X-X never occurs, X is found through Ar-X."""
    dataset = random_dataset(rng, n_frames=20, types=("Ar", "X"), pbc="none", n_atoms=(6, 9))
    index = dataset.type_index.copy()
    index[:] = 0
    index[dataset.frame_offsets[:-1]] = 1
    dataset = type(dataset)(**{**dataset.__dict__, "type_index": index, "species_index": index})
    layout = Layout(("Ar", "X"))
    theta = np.array([0.0104, 3.4, 0.03, 2.9])
    dataset = with_reference(dataset, layout, theta, None)
    moments = compute_moments(dataset, CutoffScheme(None))
    system = linear_system(moments, targets_for(dataset, layout, False), Weighting())
    guess, notes = initial_guess(layout, system, moments.pair_count)
    np.testing.assert_allclose(guess, theta, rtol=1e-6)
    assert notes == []
    start = build_start(layout, guess, notes, {}, None, [], {})
    assert start.origin == ("data",) * 4


def test_compressed_residuals_keep_the_sum_of_squares_and_jtj(rng):
    """linear.py: ||R c - z||^2 + rest == ||S (A c - y)||^2 and R-Jacobians give the same J^T J."""
    full, x = problem_for(rng)
    compressed, _ = problem_for(np.random.default_rng(20261123), compressed=True)
    assert compressed.n_residuals == full.n_residuals
    for point in (x, x * 1.05):
        assert compressed.residual_sum_of_squares(point) == pytest.approx(full.residual_sum_of_squares(point), rel=1e-9)
        jf, jc = full.jacobian(point), compressed.jacobian(point)
        np.testing.assert_allclose(jc.T @ jc, jf.T @ jf, rtol=1e-8)


def test_lm_refuses_bounds(rng):
    with pytest.raises(FitError, match="lm cannot respect bounds"):
        fit_case(rng, bounds={"Ar.epsilon": (0.001, 0.1)}, options=FitOptions(algorithm="lm"))
    result, theta = fit_case(rng, options=FitOptions(algorithm="lm"))
    assert max_rel_error(result, theta) < 1e-8


def test_parameters_without_effect_are_flagged_with_a_compressed_jacobian(rng):
    """Overrides for every pair leave the per-type parameters without effect: flagged, infinite stderr.
    (The compressed Jacobian has fewer rows than parameters: the null space must still be found.)"""
    pairs = {f"{a}-{b}.epsilon": 0.01 for a, b in [("Ar", "Ar"), ("Ar", "Kr"), ("Ar", "Xe"), ("Kr", "Kr"),
                                                    ("Kr", "Xe"), ("Xe", "Xe")]}
    result, _ = fit_case(rng, noise=1e-3, init=pairs)
    per_type = [k for k, n in enumerate(result.params.names) if n.count("-") == 0]
    assert all("not determined by the data" in result.flags[k] for k in per_type)
    assert np.all(np.isinf(result.params.stderr[per_type]))


def test_zero_force_weight_is_an_energy_only_fit():
    """Zero-weight force rows must not count as data: they would shrink the standard errors."""
    zero_weight, _ = fit_case(np.random.default_rng(5), forces=True, noise=1e-3, force_weight=0.0)
    energies_only, _ = fit_case(np.random.default_rng(5), forces=False, noise=1e-3)
    assert zero_weight.optimizer.n_residuals == energies_only.optimizer.n_residuals == 24
    np.testing.assert_allclose(zero_weight.params.stderr, energies_only.params.stderr, rtol=1e-6)


def test_a_fit_worse_than_the_mean_warns(rng):
    dataset = random_dataset(rng, n_frames=12, pbc="full", length=10.0)
    layout = Layout(dataset.type_names)
    dataset = with_reference(dataset, layout, true_theta(layout), 7.5, True)
    shifted = type(dataset)(**{**dataset.__dict__, "energies": dataset.energies + 5.0})
    model = ModelOptions(cutoff=7.5, shift=True)
    with pytest.warns(LjfitWarning, match="--offset constant"):
        fit_dataset(shifted, compute_moments(shifted, model.scheme), model, FitSpec(), FitOptions())
