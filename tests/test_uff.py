"""The UFF table (Rappé et al. 1992) and ``ljfit params uff``.

The paper's Table 1 gives x_i = r_min (Å) and D_i (kcal/mol); the values below are
typed from the paper for the checks, independently of fitcore/data/uff.csv.
"""
import json

import numpy as np
import pytest
from test_cli_support import invoke

from fitcore.io.params_file import read_params
from fitcore.uff import uff_lj, uff_params, uff_table

KCAL_PER_MOL_EV = 4184.0 / 96485.33212  # J/mol per kcal/mol over the Faraday constant (C/mol)
PAPER = {  # element: (x_i Å, D_i kcal/mol), Table 1
    "H": (2.886, 0.044), "C": (3.851, 0.105), "N": (3.660, 0.069), "O": (3.500, 0.060),
    "Ar": (3.868, 0.185), "Cu": (3.495, 0.005), "Zn": (2.763, 0.124), "Pt": (2.754, 0.080),
}
S22 = "tests/data/s22x5/s22x5_dispersion.extxyz"


def lj(r, eps, sigma):
    return 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)


@pytest.mark.parametrize("element", sorted(PAPER))
def test_paper_values_converted(element):
    x, d = PAPER[element]
    eps, sigma = uff_lj(element)
    assert sigma == pytest.approx(x / 2 ** (1 / 6), rel=1e-12)
    assert eps == pytest.approx(d * KCAL_PER_MOL_EV, rel=1e-9)
    # the meaning of x_i and D_i: the pair energy has its minimum -D_i at r = x_i
    assert lj(x, eps, sigma) == pytest.approx(-d * KCAL_PER_MOL_EV, rel=1e-12)
    r = np.linspace(0.9 * x, 1.1 * x, 2001)
    assert r[np.argmin(lj(r, eps, sigma))] == pytest.approx(x, abs=2e-4 * x)


def test_table_covers_every_element_h_to_lr():
    table = uff_table()
    assert len(table) == 103 and list(table)[0] == "H" and list(table)[-1] == "Lr"
    x, d = np.array(list(table.values())).T
    assert np.all((x > 2.3) & (x < 5.0)) and np.all((d > 0.004) & (d < 0.7))


def test_unknown_element_is_an_input_error():
    from fitcore.errors import InputError
    with pytest.raises(InputError, match="UFF has no element 'Xx'"):
        uff_params(("C", "Xx"))


def test_params_uff_json_and_file(tmp_path):
    out = tmp_path / "uff.json"
    result = invoke(["params", "uff", "C", "O", "Cu", "--format", "json", "-o", out])
    data = json.loads(result.stdout)
    assert data["mixing"] == "geometric" and data["cutoff"] is None
    assert data["species"]["C"]["sigma"] == pytest.approx(3.851 / 2 ** (1 / 6), rel=1e-12)
    assert data["species"]["O"]["epsilon"] == pytest.approx(0.060 * KCAL_PER_MOL_EV, rel=1e-9)
    params, units = read_params(str(out))
    assert params.layout.type_names == ("C", "O", "Cu") and params.layout.mixing == "geometric"
    assert params.value("Cu.epsilon") == pytest.approx(0.005 * KCAL_PER_MOL_EV, rel=1e-9)
    assert "wrote" in result.stderr


def test_params_uff_units_and_table():
    data = json.loads(invoke(["params", "uff", "Ar", "--energy-unit", "kcal/mol", "--length-unit", "nm",
                              "--format", "json"]).stdout)
    assert data["units"] == {"energy": "kcal/mol", "length": "nm"}
    assert data["species"]["Ar"] == pytest.approx({"epsilon": 0.185, "sigma": 0.3868 / 2 ** (1 / 6)})
    table = invoke(["params", "uff", "Ar", "Kr", "--format", "table"]).stdout
    assert "3.868" in table and "0.185" in table and "Kr" in table


@pytest.mark.parametrize("args, message", [
    (["C", "Xx"], "UFF has no element 'Xx'"),
    (["C", "C"], "C is given twice"),
])
def test_params_uff_bad_types(args, message):
    result = invoke(["params", "uff", *args], code=2)
    assert message in result.stderr and result.stdout == ""


def test_uff_file_works_with_predict(tmp_path):
    path = tmp_path / "uff.json"
    invoke(["params", "uff", "C", "H", "N", "O", "-o", path, "-q"])
    rows = invoke(["predict", S22, "--interactions", "inter-fragment", "--params", path]).stdout.splitlines()
    assert rows[0] == "name,n_atoms,energy_ref,energy_pred,residual" and len(rows) == 41


def test_init_file_uff_reaches_the_physical_minimum():
    """S22x5 dispersion dimers: from UFF values, least_squares finds H.sigma near 2 Å."""
    rows = invoke(["fit", S22, "--interactions", "inter-fragment", "--init-file", "uff", "--format", "csv"]).stdout
    values = {r.split(",")[0]: float(r.split(",")[1]) for r in rows.splitlines()[1:]}
    assert 1.5 < values["H.sigma"] < 2.5 and 3.2 < values["C.sigma"] < 3.7


def test_init_file_uff_needs_elements(tmp_path):
    path = tmp_path / "x.xyz"
    path.write_text("2\nenergy=-0.01\nQq 0 0 0\nQq 0 0 3.5\n2\nenergy=-0.02\nQq 0 0 0\nQq 0 0 3.9\n")
    result = invoke(["fit", path, "--init-file", "uff"], code=1)
    assert "--init-file uff: UFF has no element 'Qq'" in result.stderr
