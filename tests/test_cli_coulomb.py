"""``ljfit`` with charges and baselines, end to end: fit and predict on LAMMPS data made with charges,
params files that carry their charges, baselines from a table or a frame key, and the errors."""
import csv
import io
import json

import numpy as np
import pytest
from test_cli_support import CUBIC, ORACLE, invoke, truth, write_json

DATA = CUBIC.parent
CHARGED = DATA / "charged_periodic.extxyz"
MOLECULES = DATA / "charged_molecular_int.extxyz"


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def charged_truth(name="charged_periodic") -> dict:
    return json.loads((DATA / f"{name}.truth.json").read_text())


def params_of(t: dict) -> dict:
    return {"format": "ljfit-params/1", "potential": "lj", "mixing": "lorentz-berthelot", "cutoff": t["cutoff"],
            "shift": t["shift"], "units": {"energy": "eV", "length": "angstrom"}, "species": t["params"]}


def test_fit_on_top_of_charges_recovers_lammps_parameters(tmp_path):
    out = tmp_path / "p.json"
    invoke(["fit", CHARGED, "--cutoff", "9", "--forces", "-o", out, "--format", "csv"])
    data = json.loads(out.read_text())
    for species, entry in charged_truth()["params"].items():
        for kind, value in entry.items():
            assert data["species"][species][kind] == pytest.approx(value, rel=1e-5)
    assert data["charges"] == {"Ar": 0.0, "Cl": -0.8, "Na": 0.8}
    assert data["coulomb"]["method"] == "auto" and data["coulomb"]["accuracy"] == 1e-8
    # the params file carries its charges: predict on the same files agrees with them and the column
    predicted = rows(invoke(["predict", CHARGED, "--params", out, "--format", "csv"]).stdout)
    assert max(abs(float(r["residual"])) for r in predicted) < 1e-5


def test_per_type_charges_give_what_the_column_gives(tmp_path):
    path = write_json(tmp_path / "t.json", params_of(charged_truth()))
    column = rows(invoke(["predict", CHARGED, "--params", path, "--format", "csv"]).stdout)
    typed = rows(invoke(["predict", CHARGED, "--params", path, "--charge", "Na=0.8", "--charge", "Cl=-0.8",
                         "--charge", "Ar=0", "--format", "csv"]).stdout)
    assert [r["energy_pred"] for r in column] == [r["energy_pred"] for r in typed]


def test_coulomb_none_is_visibly_wrong_and_molecules_use_direct_sums(tmp_path):
    path = write_json(tmp_path / "t.json", params_of(charged_truth("charged_molecular_int")))
    args = ["predict", MOLECULES, "--params", path, "--interactions", "inter-fragment", "--format", "csv"]
    good = rows(invoke(args).stdout)
    bad = rows(invoke(args + ["--coulomb", "none"]).stdout)
    assert max(abs(float(r["residual"])) for r in good) < 1e-6
    assert max(abs(float(r["residual"])) for r in bad) > 0.5


def test_charge_errors_are_one_line(tmp_path):
    path = write_json(tmp_path / "t.json", params_of(charged_truth()))
    result = invoke(["predict", CHARGED, "--params", path, "--charge", "Na=0.5"], code=1)
    assert result.stderr.startswith("error: ") and "charge 0.8 in column 'initial_charges' but 0.5 from --charge" \
        in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = invoke(["predict", CHARGED, "--params", path, "--charge", "Na"], code=2)
    assert "expected TYPE=CHARGE" in result.stderr
    result = invoke(["fit", CUBIC, *ORACLE, "--coulomb", "ewald"], code=1)
    assert "--coulomb ewald: the data has no charges" in result.stderr
    result = invoke(["fit", CHARGED, "--cutoff", "9", "--charge-key", "q7"], code=1)
    assert "--charge-key q7:" in result.stderr and "has no per-atom column 'q7'" in result.stderr
    result = invoke(["fit", CHARGED, "--cutoff", "9", "--coulomb-accuracy", "2"], code=2)
    assert "--coulomb-accuracy" in result.stderr


def baseline_table(tmp_path, shift: np.ndarray) -> str:
    """The oracle's energies plus ``shift``, with ``shift`` as the baseline column."""
    import ase.io
    frames = ase.io.read(CUBIC, ":")
    lines = ["name,energy,baseline"] + [f"oracle_cubic:{k},{float(a.get_potential_energy() + b)!r},{float(b)!r}"
                                        for k, (a, b) in enumerate(zip(frames, shift))]
    path = tmp_path / "energies.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_baseline_column_is_taken_off_before_the_fit_and_added_back_by_predict(tmp_path):
    rng = np.random.default_rng(2)
    shift = rng.normal(0, 0.5, len(rows_of_cubic()))
    table = baseline_table(tmp_path, shift)
    out = tmp_path / "p.json"
    invoke(["fit", CUBIC, *ORACLE, "--energies", table, "-o", out, "--format", "csv"])
    fitted = json.loads(out.read_text())["species"]
    for species, entry in truth()["params"].items():
        for kind, value in entry.items():
            assert fitted[species][kind] == pytest.approx(value, rel=1e-6)
    predicted = rows(invoke(["predict", CUBIC, "--params", out, "--energies", table, "--format", "csv"]).stdout)
    assert max(abs(float(r["residual"])) for r in predicted) < 1e-6  # the baseline is part of the prediction


def rows_of_cubic() -> list:
    import ase.io
    return ase.io.read(CUBIC, ":")


def test_baseline_key_needs_every_frame(tmp_path):
    text = CUBIC.read_text().replace("config=frame0", "config=frame0 d3=-0.25")
    path = tmp_path / "d3.extxyz"
    path.write_text(text)
    result = invoke(["fit", path, *ORACLE, "--baseline-key", "d3"], code=1)
    assert "d3.extxyz: frame d3:1 has no --baseline-key d3 value" in result.stderr
