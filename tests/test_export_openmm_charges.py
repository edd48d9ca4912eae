"""The OpenMM export of parameters fitted with charges, run in OpenMM, reproduces `ljfit predict`
(LJ + Coulomb): energies and forces, molecules (NoCutoff), periodic cells with Ewald sums (PME for
triclinic cells: OpenMM's Ewald takes rectangular boxes only), direct sums within a cutoff, and
per-atom charges set on the particles as the export's comment says.

Tolerances. Both codes sum the same terms in double precision from the same coordinates (OpenMM is
given the frames as ljfit reads them back from the extended XYZ). The Coulomb constants: ljfit uses
CODATA 2018, 14.3996454784 eV Å = 138.93545764413 kJ/mol nm; OpenMM 8.6 138.93545764438198 (1.8e-12
relative more), releases before it 138.935456 (1.2e-8 less). The test measures OpenMM's constant
and rescales its Coulomb part (energy_coulomb of predict) by ours / OpenMM's, as the LAMMPS tests do.
Ewald sums: ljfit at accuracy 1e-12, OpenMM's Ewald at ewaldErrorTolerance 1e-10, whose errors in
energies and forces are of that order relative to the Coulomb terms (seen: 4e-12-1.4e-11 in energies,
6e-11-8e-11 of the largest force): energies to 1e-9 relative, forces to 1e-8 of the largest. PME (the
triclinic cells) at 1e-7, as its grid grows fast with the accuracy (1e-8: 1.6 s a frame, 1e-10: 40 s):
seen 5e-9 and 7e-8, so 5e-8 and 5e-7. Exact sums (molecules, cutoff sums): 1e-10 and 1e-9 (seen: 4e-12
and 1e-12).
"""
import csv
import io

import ase.io
import numpy as np
import pytest
from ase import Atoms
from openmm_engine import openmm_energies_forces, openmm_unavailable_reason
from synth import random_cell, separated_points
from test_cli_support import invoke, write_json

from fitcore.coulomb import COULOMB_CONSTANT
from fitcore.units import energy_factor

needs_openmm = pytest.mark.skipif(openmm_unavailable_reason() is not None, reason=str(openmm_unavailable_reason()))

SPECIES = {"Na": {"epsilon": 0.006, "sigma": 2.6}, "Cl": {"epsilon": 0.011, "sigma": 3.9},
           "Ar": {"epsilon": 0.0104, "sigma": 3.4}}
CHARGES = {"Na": 0.8, "Cl": -0.8, "Ar": 0.0}
# ewaldErrorTolerance, and the tolerances of the comparison (energies relative, forces of the largest)
EWALD = {"ewald": (1e-10, 1e-9, 1e-8), "pme": (1e-7, 5e-8, 5e-7)}
EXACT = (1e-10, 1e-9)
# geometry: (periodic, triclinic, cutoff Å, Coulomb method of the fit)
GEOMETRIES = {"molecule": (False, False, None, "auto"), "ewald": (True, False, 7.0, "auto"),
              "pme-triclinic": (True, True, 7.0, "auto"), "direct-cutoff": (True, True, 7.0, "direct")}


def openmm_coulomb_constant() -> float:
    """OpenMM's k_e in kJ/mol nm: the energy of charges +1 and -1 1 nm apart, without a cutoff."""
    import openmm
    from openmm import unit
    system = openmm.System()
    force = openmm.NonbondedForce()
    for q in (1.0, -1.0):
        system.addParticle(1.0)
        force.addParticle(q, 1.0, 0.0)
    system.addForce(force)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
    context.setPositions([openmm.Vec3(0, 0, 0), openmm.Vec3(1, 0, 0)])
    return -context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


def neutral_frames(rng, periodic, triclinic, n_frames=3, n_atoms=40, length=16.0):
    """Frames of 12 Na, 12 Cl and Ar, shuffled: neutral under CHARGES."""
    symbols = ["Na"] * 12 + ["Cl"] * 12 + ["Ar"] * (n_atoms - 24)
    out = []
    for _ in range(n_frames):
        cell = random_cell(rng, length, triclinic=triclinic)
        points = separated_points(rng, n_atoms, cell, 2.6, (periodic,) * 3)
        out.append(Atoms(list(rng.permutation(symbols)), positions=points, cell=cell if periodic else None,
                         pbc=periodic))
    return out


def params_data(mixing, cutoff, method, ewald, charges=CHARGES, shift=False):
    data = {"format": "ljfit-params/1", "mixing": mixing, "cutoff": cutoff, "shift": shift, "species": SPECIES,
            "coulomb": {"method": method, "accuracy": 1e-12, "ewald": ewald}}
    if charges:
        data["charges"] = charges
    else:
        data["coulomb"]["charges_from"] = "per-atom column initial_charges"
    return data


def ljfit_side(tmp_path, frames, params_path):
    """predict's energies and Coulomb parts [n_frames] eV and forces (from --write-structures) eV/Å, and
    the frames as ljfit read them (the coordinates OpenMM must get)."""
    path = tmp_path / "frames.extxyz"
    ase.io.write(path, frames, format="extxyz")
    written = tmp_path / "predicted.extxyz"
    out = invoke(["predict", path, "--params", params_path, "--format", "csv", "--write-structures", written]).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    energies = np.array([float(r["energy_pred"]) for r in rows])
    coulomb = np.array([float(r["energy_coulomb"]) for r in rows])
    forces = [a.get_forces() for a in ase.io.read(written, ":")]
    return energies, coulomb, forces, ase.io.read(path, ":")


def assert_match(theirs, ours, coulomb, tolerances):
    """OpenMM's energies rescaled to ljfit's k_e, against ljfit's, to (energy, force) ``tolerances``."""
    (e_mm, f_mm), (e, f) = theirs, ours
    k_ljfit = COULOMB_CONSTANT * energy_factor("eV") / energy_factor("kJ/mol") / 10
    e_mm = e_mm + coulomb * (1 - openmm_coulomb_constant() / k_ljfit)  # OpenMM's Coulomb part at ljfit's k_e
    assert np.all(np.abs(coulomb) > 0.5)  # the Coulomb part matters
    rtol_e, rtol_f = tolerances
    np.testing.assert_allclose(e_mm, e, rtol=rtol_e)
    for mine, theirs_f in zip(f, f_mm):  # the Coulomb forces differ by (1 - k ratio) too: 1e-8 at most
        assert np.max(np.abs(theirs_f - mine)) <= max(rtol_f, 2e-8) * np.max(np.abs(mine))


@needs_openmm
@pytest.mark.parametrize("mixing", ["arithmetic", "geometric"])
@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_exported_charges_reproduce_ljfit_predict_in_openmm(rng, tmp_path, geometry, mixing):
    periodic, triclinic, cutoff, method = GEOMETRIES[geometry]
    ewald = periodic and method == "auto"
    params_path = write_json(tmp_path / "params.json", params_data(mixing, cutoff, method, ewald))
    xml = invoke(["export", params_path, "--to", "openmm"]).stdout
    assert ("CustomNonbondedForce" in xml) == (geometry == "direct-cutoff")
    energies, coulomb, forces, frames = ljfit_side(tmp_path, neutral_frames(rng, periodic, triclinic), params_path)
    tolerance, *tolerances = EWALD["pme" if triclinic else "ewald"] if ewald else (None, *EXACT)
    theirs = openmm_energies_forces(frames, xml, tuple(SPECIES), cutoff, tmp_path / "openmm",
                                    ewald_tolerance=tolerance)
    assert_match(theirs, (energies, forces), coulomb, tolerances)


@needs_openmm
@pytest.mark.parametrize("mixing", ["arithmetic", "geometric"])
def test_per_atom_charges_are_zero_in_the_xml_with_a_note_and_set_as_it_says(rng, tmp_path, mixing):
    params_path = write_json(tmp_path / "params.json", params_data(mixing, 7.0, "auto", True, charges=None))
    xml = invoke(["export", params_path, "--to", "openmm"]).stdout
    assert "the fit used per-atom charges (per-atom column initial_charges)" in xml and "setParticleParameters" in xml
    import xml.etree.ElementTree as ET
    charges = [float(a.get("charge")) for a in ET.fromstring(xml).find("NonbondedForce")]
    assert charges == [0.0, 0.0, 0.0]
    frames = neutral_frames(rng, True, False)
    for atoms in frames:
        q = rng.normal(0, 0.5, len(atoms))
        atoms.set_initial_charges(q - q.mean())
    energies, coulomb, forces, read = ljfit_side(tmp_path, frames, params_path)
    theirs = openmm_energies_forces(read, xml, tuple(SPECIES), 7.0, tmp_path / "openmm",
                                    ewald_tolerance=EWALD["ewald"][0], charges=[a.get_initial_charges() for a in read])
    assert_match(theirs, (energies, forces), coulomb, EWALD["ewald"][1:])


def test_export_says_how_to_set_up_the_coulomb_term(tmp_path):
    ewald = invoke(["export", write_json(tmp_path / "e.json", params_data("arithmetic", 7.0, "auto", True)),
                    "--to", "openmm"]).stdout
    assert "nonbondedMethod=Ewald, or PME for a triclinic box" in ewald and "1e-12" in ewald
    cut = invoke(["export", write_json(tmp_path / "c.json", params_data("arithmetic", 7.0, "direct", False)),
                  "--to", "openmm"]).stdout
    assert "NonbondedForce's cutoff methods would add a reaction field" in cut
    assert '<Atom type="Na" q="0.8"/>' in cut  # the charges in the CustomNonbondedForce
    assert '<Atom type="Na" charge="0.0"' in cut  # and none in the NonbondedForce (with the LJ terms)
