"""Every pair form through every engine, mixing rule, cutoff scheme, offset and fit, without LAMMPS.

(The forms against LAMMPS itself: tests/test_forms_lammps.py.)
"""
from dataclasses import replace

import numpy as np
import pytest
import torch
from synth import TRUE as THETA, random_dataset, true_theta as theta_for, with_reference

from fitcore.cache import cache_key
from fitcore.errors import InputError
from fitcore.model import DirectEngine, MomentEngine, coefficients
from fitcore.moments import compute_moments
from fitcore.params import Layout
from fitcore.potential import CutoffScheme, parse_form
from fitcore.fitting import fit_dataset
from fitcore.spec import FitOptions, FitSpec, ModelOptions

FORMS = ("lj", "lj96", "mie:14,6", "mie:10.5,5.5")


@pytest.mark.parametrize("potential", FORMS)
@pytest.mark.parametrize("pbc,shift,tail", [("none", False, False), ("full", True, False), ("full", False, True),
                                            ("slab", True, False), ("wire", False, False)])
@pytest.mark.parametrize("scope", ["all", "inter-fragment"])
def test_moment_engine_equals_direct_engine(rng, potential, pbc, shift, tail, scope):
    dataset = random_dataset(rng, n_frames=3, pbc=pbc, triclinic=pbc != "none", length=9.5, fragments=True)
    cutoff = None if pbc == "none" else 7.0
    layout = Layout(dataset.type_names, "geometric", ((0, 2),), form=parse_form(potential))
    c12, c6 = coefficients(layout, torch.as_tensor(theta_for(layout)))
    scheme = CutoffScheme(cutoff, shift, tail, layout.form.exponents)
    moment = MomentEngine(compute_moments(dataset, scheme, scope, with_forces=True))
    direct = DirectEngine(dataset, scheme, scope)
    np.testing.assert_allclose(moment.energies(c12, c6).numpy(), direct.energies(c12, c6).numpy(), rtol=1e-11)
    np.testing.assert_allclose(moment.forces(c12, c6).numpy(), direct.forces(c12, c6).numpy(), rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("potential", FORMS)
def test_gradcheck_direct_path(rng, potential):
    dataset = random_dataset(rng, n_frames=1, n_atoms=(6, 6), pbc="full", length=8.0)
    layout = Layout(dataset.type_names, form=parse_form(potential))
    engine = DirectEngine(dataset, CutoffScheme(6.0, True, exponents=layout.form.exponents))
    c12, c6 = coefficients(layout, torch.as_tensor(theta_for(layout)))
    positions = engine.positions.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: engine._pair_energies(p, c12, c6).sum(), (positions,))  # noqa: SLF001


def fit_form(rng, potential, mixing, pbc="full", forces=False, tail=False, offset="none", scope="all",
             engine="moments"):
    dataset = random_dataset(rng, n_frames=24, pbc=pbc, triclinic=pbc != "none", length=10.0, fragments=scope != "all")
    form = parse_form(potential)
    cutoff = None if pbc == "none" else 7.5
    shift = cutoff is not None and not tail
    pairs = tuple((a, b) for a in range(3) for b in range(a, 3)) if mixing == "none" else ()
    species = dataset.species_names if offset == "per-species" else ()
    layout = Layout(dataset.type_names, mixing or form.default_mixing, pairs, offset, species, form)
    theta = theta_for(layout)
    dataset = with_reference(dataset, layout, theta, cutoff, shift, scope, forces, tail=tail)
    model = ModelOptions(cutoff=cutoff, shift=shift, scope=scope, engine=engine, form=form, tail=tail)
    moments = compute_moments(dataset, model.scheme, scope, with_forces=forces)
    result = fit_dataset(dataset, moments, model, FitSpec(mixing=mixing, offset=offset, forces=forces), FitOptions())
    return result, theta


@pytest.mark.parametrize("potential", FORMS)
@pytest.mark.parametrize("mixing", [None, "lorentz-berthelot", "geometric", "sixthpower", "none"])
@pytest.mark.parametrize("pbc,forces", [("none", False), ("full", True), ("slab", False)])
def test_fit_recovers_every_form_and_rule_from_the_data_driven_start(rng, potential, mixing, pbc, forces):
    result, theta = fit_form(rng, potential, mixing, pbc, forces)
    assert result.converged and result.params.form == parse_form(potential)
    assert result.params.layout.mixing == (mixing or parse_form(potential).default_mixing)
    np.testing.assert_allclose(result.params.values, theta, rtol=1e-8)


@pytest.mark.parametrize("potential", FORMS)
@pytest.mark.parametrize("case", [dict(tail=True), dict(tail=True, scope="inter-fragment"),
                                  dict(offset="constant"), dict(offset="per-species", tail=True),
                                  dict(engine="direct", tail=True)])
def test_fit_recovers_with_tail_offsets_fragments_and_the_direct_engine(rng, potential, case):
    result, theta = fit_form(rng, potential, "lorentz-berthelot", **case)
    assert result.converged and result.params.tail == case.get("tail", False)
    np.testing.assert_allclose(result.params.values, theta, rtol=1e-8)


def test_tail_is_positive_for_repulsion_and_scales_as_density():
    """N_a N_b / V: doubling the cell (eight times the atoms, eight times the volume) gives 8x the tail."""
    from fitcore.moments import tail_moments
    rng = np.random.default_rng(1)
    small = random_dataset(rng, n_frames=1, n_atoms=(6, 6), pbc="full", length=9.0)
    shifts = np.array([(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]) @ small.cells[0]
    big = replace(small, positions=(small.positions[None] + shifts[:, None]).reshape(-1, 3),
                  type_index=np.tile(small.type_index, 8), species_index=np.tile(small.species_index, 8),
                  frame_offsets=np.array([0, 48]), cells=2 * small.cells)
    scheme = CutoffScheme(7.0, tail=True)
    for t_small, t_big in zip(tail_moments(small, scheme), tail_moments(big, scheme)):
        assert np.all(t_small >= 0)
        np.testing.assert_allclose(t_big, 8 * t_small, rtol=1e-13)


def test_model_options_and_params_must_agree(rng):
    from fitcore.params import LJParams
    from fitcore.predicting import predict_dataset
    dataset = random_dataset(rng, n_frames=2, pbc="full")
    layout = Layout(dataset.type_names, form=parse_form("lj96"))
    params = LJParams(layout, theta_for(layout), 7.0)
    model = ModelOptions(cutoff=7.0)  # lj
    with pytest.raises(InputError, match="potential lj96"):
        predict_dataset(dataset, compute_moments(dataset, model.scheme), params, model, False)


def test_cache_keys_tell_forms_and_tails_apart(tmp_path):
    path = tmp_path / "a.xyz"
    path.write_text("1\n\nAr 0 0 0\n")
    keys = {cache_key([str(path)], CutoffScheme(8.5, tail=tail, exponents=parse_form(p).exponents), "1")
            for p in FORMS for tail in (False, True)}
    assert len(keys) == 2 * len(FORMS)


def test_engines_agree_on_types_in_another_order_with_the_tail(rng):
    """A params file may list more types, in another order: the tail follows its columns (predict)."""
    from fitcore.moments import remap_types
    dataset = random_dataset(rng, n_frames=3, pbc="full", triclinic=True, length=9.5)
    names = ("Xe", "Ne", "Ar", "Kr")
    layout = Layout(names, form=parse_form("mie:14,6"))
    values = [THETA.get(f"{t}.{k}", 0.003 if k == "epsilon" else 2.8) for t in names for k in ("epsilon", "sigma")]
    c12, c6 = coefficients(layout, torch.tensor(values, dtype=torch.float64))
    scheme = CutoffScheme(7.0, tail=True, exponents=layout.form.exponents)
    moment = MomentEngine(remap_types(compute_moments(dataset, scheme), names))
    direct = DirectEngine(dataset, scheme, type_names=names)
    np.testing.assert_allclose(direct.energies(c12, c6).numpy(), moment.energies(c12, c6).numpy(), rtol=1e-11)
    plain = DirectEngine(dataset, replace(scheme, tail=False), type_names=names)
    assert np.all(direct.energies(c12, c6).numpy() != plain.energies(c12, c6).numpy())
