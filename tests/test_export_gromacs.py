"""The GROMACS topology that `ljfit export --to gromacs` writes, run in GROMACS, reproduces `ljfit predict`.

GROMACS comes from Debian's gromacs package (tests/install_engines.sh, run by `make test`);
without it the engine tests skip. The frames are rounded to the .gro grid (0.001 nm) first,
so both codes see the same coordinates.
"""
import csv
import io
import json

import ase.io
import numpy as np
import pytest
from ase import Atoms
from gromacs_engine import gmx_binary, gro_frames, gromacs_energies, gromacs_unavailable_reason
from synth import ALL_PAIRS, random_cell, separated_points
from test_cli_support import invoke, write_json

needs_gromacs = pytest.mark.skipif(gmx_binary() is None, reason=f"GROMACS unavailable: {gromacs_unavailable_reason()}")

SPECIES = {"Ar": {"epsilon": 0.0104, "sigma": 3.40}, "Kr": {"epsilon": 0.0141, "sigma": 3.65},
           "Xe": {"epsilon": 0.0194, "sigma": 3.95}}
PAIR_DICTS = {name: {"epsilon": eps, "sigma": sigma} for name, (eps, sigma) in ALL_PAIRS.items()}
CASES = {
    "arithmetic-shift": dict(mixing="arithmetic"),
    "geometric-truncated": dict(mixing="geometric", shift=False),
    "sixthpower": dict(mixing="sixthpower"),
    "override": dict(pairs={"Ar-Xe": {"epsilon": 0.03, "sigma": 3.1}, "Kr-Kr": {"epsilon": 0.012, "sigma": 3.5}}),
    "none": dict(mixing="none", pairs=PAIR_DICTS, shift=False),
}


def params_dict(mixing="arithmetic", shift=True, pairs=None, cutoff=6.0, energy_unit="eV"):
    data = {"format": "ljfit-params/1", "potential": "lj", "mixing": mixing, "cutoff": cutoff, "shift": shift,
            "units": {"energy": energy_unit, "length": "angstrom"},
            "species": {t: ({} if mixing == "none" else v) for t, v in SPECIES.items()}}
    if pairs:
        data["pairs"] = pairs
    return data


def frames(rng, n_frames=3, n_atoms=45, length=16.0, species=tuple(SPECIES)):
    """Frames of one composition and atom order (one GROMACS topology), triclinic cells of GROMACS's form."""
    symbols = list(rng.choice(list(species), n_atoms))
    out = []
    for _ in range(n_frames):
        cell = random_cell(rng, length, triclinic=True)
        points = separated_points(rng, n_atoms, cell, 2.9, (True, True, True))
        out.append(Atoms(symbols, positions=points, cell=cell, pbc=True))
    return gro_frames(out)


def predicted(tmp_path, structures, params_path) -> np.ndarray:
    path = tmp_path / "frames.extxyz"
    ase.io.write(path, [a.copy() for a in structures], format="extxyz")
    out = invoke(["predict", path, "--params", params_path, "--format", "csv"]).stdout
    return np.array([float(row["energy_pred"]) for row in csv.DictReader(io.StringIO(out))])


@needs_gromacs
@pytest.mark.parametrize("case", list(CASES))
def test_exported_topology_reproduces_ljfit_predict_in_gromacs(rng, tmp_path, case):
    data = params_dict(**CASES[case])
    params_path = write_json(tmp_path / "params.json", data)
    itp = invoke(["export", params_path, "--to", "gromacs"]).stdout
    structures = frames(rng)
    theirs = gromacs_energies(structures, itp, tuple(SPECIES), data["cutoff"], data["shift"], tmp_path / "gmx")
    ours = predicted(tmp_path, structures, params_path)
    # double or mixed precision GROMACS; the totals are differences of repulsive and attractive sums
    # several times larger, which GROMACS adds in another order: 1e-9 of those is ~2e-9 of the total
    tol = 1e-8 if gmx_binary().endswith("_d") else 1e-5
    assert np.all(np.abs(ours) > 1e-3)  # frames dense enough that the comparison means something
    np.testing.assert_allclose(theirs, ours, rtol=tol)


def test_gromacs_topology_sections(tmp_path):
    sixth = invoke(["export", write_json(tmp_path / "p.json", params_dict(mixing="sixthpower")), "--to", "gromacs"])
    lines = [line.split() for line in sixth.stdout.splitlines() if line.strip() and not line.startswith(";")]
    assert lines[lines.index(["[", "defaults", "]"]) + 1] == ["1", "1", "no", "1.0", "1.0"]
    start = lines.index(["[", "atomtypes", "]"]) + 1
    name, number, mass, charge, ptype = lines[start][:5]
    assert (name, number, mass, float(charge), ptype) == ("Ar", "18", "39.948", 0.0, "A")
    start = lines.index(["[", "nonbond_params", "]"]) + 1
    assert {tuple(row[:2]) for row in lines[start:]} == {("Ar", "Kr"), ("Ar", "Xe"), ("Kr", "Xe")}
    lb = invoke(["export", write_json(tmp_path / "lb.json", params_dict(shift=False)), "--to", "gromacs"]).stdout
    assert "nonbond_params" not in lb and "vdw-modifier = None" in lb and "rvdw = 0.6," in lb


def test_gromacs_errors_and_output_file(tmp_path):
    no_cutoff = write_json(tmp_path / "p.json", params_dict(cutoff=None))
    result = invoke(["export", no_cutoff, "--to", "gromacs"], code=1)
    assert result.stdout == "" and "--cutoff" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "is a directory" in invoke(["export", no_cutoff, "--to", "gromacs", "-o", tmp_path], code=2).stderr
    result = invoke(["export", no_cutoff, "--to", "gromacs", "--cutoff", "9", "-o", tmp_path / "lj.itp"])
    assert result.stdout == "" and "rvdw = 0.9," in (tmp_path / "lj.itp").read_text()


@pytest.mark.parametrize("target", ["gromacs", "openmm", "raspa"])
def test_other_forms_are_refused_with_the_way_out(tmp_path, target):
    params_path = write_json(tmp_path / "p.json", params_dict() | {"potential": "lj96"})
    result = invoke(["export", params_path, "--to", target, "-o", tmp_path / "out"], code=1)
    assert result.stdout == "" and "lj96" in result.stderr and "export to lammps" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
