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
