"""The ForceField XML that `ljfit export --to openmm` writes, run in OpenMM, reproduces `ljfit predict`.

OpenMM comes from PyPI (tests/install_engines.sh, run by `make test`); without it these
tests skip. OpenMM's Reference platform computes in double precision.
"""
import numpy as np
import pytest
from openmm_engine import openmm_energies, openmm_unavailable_reason
from test_export_gromacs import CASES, SPECIES, frames, params_dict, predicted
from test_cli_support import invoke, write_json

needs_openmm = pytest.mark.skipif(openmm_unavailable_reason() is not None, reason=str(openmm_unavailable_reason()))


@needs_openmm
@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize("case", list(CASES))
def test_exported_xml_reproduces_ljfit_predict_in_openmm(rng, tmp_path, case, shift):
    data = params_dict(**{**CASES[case], "shift": shift}, cutoff=7.0)
    params_path = write_json(tmp_path / "params.json", data)
    xml = invoke(["export", params_path, "--to", "openmm"]).stdout
    structures = frames(rng)
    theirs = openmm_energies(structures, xml, tuple(SPECIES), data["cutoff"], tmp_path / "openmm")
    ours = predicted(tmp_path, structures, params_path)
    assert np.all(np.abs(ours) > 1e-3)
    np.testing.assert_allclose(theirs, ours, rtol=1e-9)


@needs_openmm
@pytest.mark.parametrize("case", ["arithmetic-shift", "override"])
@pytest.mark.parametrize("species", [("Ar",), tuple(SPECIES)])
def test_tail_correction_is_openmms_dispersion_correction(rng, tmp_path, case, species):
    """One type: the same energy (to OpenMM's numerical integral for LennardJonesForce). A mixture: OpenMM averages over N(N+1)/2 pairs, counting n(n+1)/2
    like pairs of each type where the tail correction counts n^2/2, a difference of order 1/N."""
    data = params_dict(**{**CASES[case], "shift": False}, cutoff=7.0) | {"tail": True}
    params_path = write_json(tmp_path / "params.json", data)
    xml = invoke(["export", params_path, "--to", "openmm"]).stdout
    structures = frames(rng, n_frames=2, species=species)
    theirs = openmm_energies(structures, xml, tuple(SPECIES), data["cutoff"], tmp_path / "openmm")
    ours = predicted(tmp_path, structures, params_path)
    without = predicted(tmp_path, structures, write_json(tmp_path / "no_tail.json", data | {"tail": False}))
    tail = ours - without
    assert np.all(np.abs(tail) > 1e-3 * np.abs(ours))  # the tail is large enough to show
    if len(species) == 1 and case == "override":  # LennardJonesForce: OpenMM integrates the tail numerically
        assert np.all(np.abs(theirs - ours) < 1e-4 * np.abs(tail))
    elif len(species) == 1:  # NonbondedForce: in closed form
        np.testing.assert_allclose(theirs, ours, rtol=1e-9)
    else:
        n_atoms = len(structures[0])
        assert np.all(np.abs(theirs - ours) < 2 / n_atoms * np.abs(tail))
        assert np.all(np.abs(theirs - ours) > 1e-6 * np.abs(tail))
