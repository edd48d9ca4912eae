"""What `ljfit predict` shows and writes of a prediction with charges and a baseline: the parts
(energy_lj, energy_coulomb, baseline) beside the total in CSV, JSON and the table, and
--write-structures files that carry the charges used and the parts, read back by ljfit and ASE."""
import csv
import io
import json

import ase.io
import numpy as np
import pytest
from test_cli_support import CUBIC, invoke, truth_params, write_json

from fitcore.io.inputs import load_dataset

DATA = CUBIC.parent
CHARGED = DATA / "charged_periodic.extxyz"
PLAIN = ["name", "n_atoms", "energy_ref", "energy_pred", "residual"]


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def column(rows_, name) -> np.ndarray:
    return np.array([float(r[name]) for r in rows_])


def charged_params(tmp_path, **extra):
    t = json.loads((DATA / "charged_periodic.truth.json").read_text())
    data = {"format": "ljfit-params/1", "mixing": "lorentz-berthelot", "cutoff": t["cutoff"], "shift": t["shift"],
            "species": t["params"], **extra}
    return write_json(tmp_path / "charged.json", data)


def baseline_table(tmp_path, baseline: np.ndarray, unit_factor=1.0) -> str:
    """energy = the file's reference + baseline, in the unit of ``unit_factor`` (units per eV)."""
    frames = ase.io.read(CHARGED, ":")
    lines = ["name,energy,baseline"] + [
        f"{a.info['name']},{float((a.get_potential_energy() + b) * unit_factor)!r},{float(b * unit_factor)!r}"
        for a, b in zip(frames, baseline)]
    path = tmp_path / "energies.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def baseline():
    return np.random.default_rng(4).normal(0, 2.0, 12)


def predict(*args) -> str:
    return invoke(["predict", *args], catch_exceptions=False).stdout


def test_csv_shows_baseline_beside_lj_and_coulomb_and_the_total_is_their_sum(tmp_path, baseline):
    params = charged_params(tmp_path)
    table = baseline_table(tmp_path, baseline)
    with_all = rows(predict(CHARGED, "--params", params, "--energies", table, "--format", "csv", "-q"))
    assert list(with_all[0]) == PLAIN + ["energy_lj", "energy_coulomb", "baseline"]
    np.testing.assert_allclose(column(with_all, "baseline"), baseline, rtol=1e-11)
    parts = column(with_all, "energy_lj") + column(with_all, "energy_coulomb") + column(with_all, "baseline")
    np.testing.assert_allclose(column(with_all, "energy_pred"), parts, rtol=1e-10, atol=1e-10)
    assert np.max(np.abs(column(with_all, "residual"))) < 1e-5  # LAMMPS' LJ + Coulomb + the baseline added back
    # each part is what a run without the others predicts
    no_coulomb = rows(predict(CHARGED, "--params", params, "--coulomb", "none", "--format", "csv", "-q"))
    assert list(no_coulomb[0]) == PLAIN  # no parts without charges or a baseline
    np.testing.assert_allclose(column(with_all, "energy_lj"), column(no_coulomb, "energy_pred"), rtol=1e-10)
    no_baseline = rows(predict(CHARGED, "--params", params, "--format", "csv", "-q"))
    assert list(no_baseline[0]) == PLAIN + ["energy_lj", "energy_coulomb"]
    np.testing.assert_allclose(column(with_all, "energy_coulomb"), column(no_baseline, "energy_coulomb"), rtol=1e-10)
    np.testing.assert_allclose(column(no_baseline, "energy_pred"),
                               column(no_baseline, "energy_lj") + column(no_baseline, "energy_coulomb"), rtol=1e-10)


def test_json_and_table_show_the_parts_in_the_energy_unit(tmp_path, baseline):
    kcal = 23.060547830618307  # kcal/mol per eV (CODATA 2018)
    params = charged_params(tmp_path)
    table = baseline_table(tmp_path, baseline, kcal)
    out = json.loads(predict(CHARGED, "--params", params, "--energies", table, "--energy-unit", "kcal/mol",
                             "--format", "json", "-q"))
    assert out["unit"] == "kcal/mol"
    frames = out["frames"]
    assert set(frames[0]) == set(PLAIN) | {"energy_lj", "energy_coulomb", "baseline"}
    np.testing.assert_allclose([f["baseline"] for f in frames], baseline * kcal, rtol=1e-11)
    for f in frames:
        assert f["energy_pred"] == pytest.approx(f["energy_lj"] + f["energy_coulomb"] + f["baseline"], rel=1e-12)
    wide = invoke(["predict", CHARGED, "--params", params, "--energies", table, "--format", "table", "-q"],
                  env={"COLUMNS": "200"}).stdout
    header = next(line for line in wide.splitlines() if "energy_pred" in line)
    assert all(name in header for name in ("energy_lj", "energy_coulomb", "baseline"))
    narrow = invoke(["predict", CHARGED, "--params", params, "--energies", table, "--format", "table", "-q"],
                    env={"COLUMNS": "80"}).stdout
    assert "…" not in narrow  # folded, every digit kept


def test_baseline_key_is_shown_without_charges(tmp_path):
    text = CUBIC.read_text()
    frames = text.count("Properties=")
    shifted = tmp_path / "d3.extxyz"
    lines = text.splitlines()
    values = []
    for k, line in enumerate(lines):
        if "Properties=" in line:
            values.append(-0.01 * len(values))
            lines[k] = f"{line} d3={values[-1]!r}"
    shifted.write_text("\n".join(lines) + "\n")
    params = write_json(tmp_path / "p.json", truth_params())
    out = rows(predict(shifted, "--params", params, "--baseline-key", "d3", "--format", "csv", "-q"))
    assert list(out[0]) == PLAIN + ["energy_lj", "baseline"] and len(out) == frames
    np.testing.assert_allclose(column(out, "baseline"), values, atol=1e-15)
    plain = rows(predict(CUBIC, "--params", params, "--format", "csv", "-q"))
    np.testing.assert_allclose(column(out, "energy_pred"), column(plain, "energy_pred") + values, rtol=1e-10)


# ---------------------------------------------------------------- --write-structures


def comment_values(path, key) -> np.ndarray:
    return np.array([a.info[key] for a in ase.io.read(path, ":")])


def test_written_structures_carry_the_charges_and_the_parts(tmp_path, baseline):
    params = charged_params(tmp_path)
    table = baseline_table(tmp_path, baseline)
    written = tmp_path / "out.extxyz"
    out = rows(predict(CHARGED, "--params", params, "--energies", table, "--write-structures", written,
                       "--format", "csv", "-q"))
    source = ase.io.read(CHARGED, ":")
    back = ase.io.read(written, ":")
    for a, b in zip(source, back):
        assert np.array_equal(a.get_initial_charges(), b.get_initial_charges())  # the same doubles
    for key in ("energy_lj", "energy_coulomb", "baseline"):
        np.testing.assert_allclose(comment_values(written, key), column(out, key), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose([a.get_potential_energy() for a in back], column(out, "energy_pred"), rtol=1e-11)
    mine = load_dataset([str(written)])
    assert np.array_equal(mine.extra["initial_charges"], load_dataset([str(CHARGED)]).extra["initial_charges"])
    # the written file predicts the same energies from its own charges (and its baseline key)
    again = rows(predict(written, "--params", params, "--baseline-key", "baseline", "--format", "csv", "-q"))
    np.testing.assert_allclose(column(again, "energy_pred"), column(out, "energy_pred"), rtol=1e-10)


def test_per_type_charges_are_written_as_initial_charges(tmp_path):
    frames = ase.io.read(CHARGED, ":3")
    for a in frames:
        a.set_initial_charges(None)
    bare = tmp_path / "bare.extxyz"
    ase.io.write(bare, frames, format="extxyz")
    assert "initial_charges" not in bare.read_text()
    params = charged_params(tmp_path, charges={"Na": 0.8, "Cl": -0.8, "Ar": 0.0})
    written = tmp_path / "out.extxyz"
    first = rows(predict(bare, "--params", params, "--write-structures", written, "--format", "csv", "-q"))
    want = {"Na": 0.8, "Cl": -0.8, "Ar": 0.0}
    for a in ase.io.read(written, ":"):
        assert list(a.get_initial_charges()) == [want[s] for s in a.get_chemical_symbols()]
    plain = write_json(tmp_path / "plain.json", {k: v for k, v in json.loads(params.read_text()).items()
                                                  if k != "charges"})
    again = rows(predict(written, "--params", plain, "--format", "csv", "-q"))  # charges from the column now
    np.testing.assert_allclose(column(again, "energy_pred"), column(first, "energy_pred"), rtol=1e-10)
    np.testing.assert_allclose(comment_values(written, "energy_coulomb"), column(first, "energy_coulomb"), rtol=1e-10)


def test_charges_from_a_named_column_keep_its_name(tmp_path):
    text = CHARGED.read_text().replace("initial_charges:R:1", "q_dft:R:1")
    renamed = tmp_path / "q.extxyz"
    renamed.write_text(text)
    params = charged_params(tmp_path)
    written = tmp_path / "out.extxyz"
    first = rows(predict(renamed, "--params", params, "--charge-key", "q_dft", "--write-structures", written,
                         "--format", "csv", "-q"))
    assert "q_dft:R:1" in written.read_text().splitlines()[1]
    back = ase.io.read(written, ":")
    source = ase.io.read(CHARGED, ":")
    assert all(np.array_equal(a.arrays["q_dft"], b.get_initial_charges()) for a, b in zip(back, source))
    again = rows(predict(written, "--params", params, "--charge-key", "q_dft", "--format", "csv", "-q"))
    np.testing.assert_allclose(column(again, "energy_pred"), column(first, "energy_pred"), rtol=1e-10)


def test_without_charges_nothing_new_is_written(tmp_path):
    params = write_json(tmp_path / "p.json", truth_params())
    written = tmp_path / "out.extxyz"
    predict(CUBIC, "--params", params, "--write-structures", written, "--format", "csv", "-q")
    comment = written.read_text().splitlines()[1]
    assert "charges" not in comment and "energy_coulomb" not in comment and "energy_lj" not in comment


# ---------------------------------------------------------------- what a fit records and reports


def test_fit_statistics_residuals_and_records_include_the_coulomb_term(tmp_path):
    out, residuals = tmp_path / "p.json", tmp_path / "r.csv"
    report = json.loads(invoke(["fit", CHARGED, "--cutoff", "9", "--forces", "--coulomb", "ewald",
                                "--coulomb-accuracy", "1e-10", "-o", out, "--residuals", residuals,
                                "--format", "json", "-q"]).stdout)
    saved = json.loads(out.read_text())
    # LAMMPS' data hold LJ + Coulomb: the statistics see the Coulomb term (LAMMPS' k_e 3e-8 off ours)
    assert report["statistics"]["energy"]["rmse"] < 1e-5 and report["statistics"]["forces"]["rmse"] < 1e-5
    assert max(abs(float(r["residual"])) for r in rows(residuals.read_text())) < 1e-5
    for data in (report, saved):
        assert data["charges"] == {"Ar": 0.0, "Cl": -0.8, "Na": 0.8}
        coulomb = data["coulomb"]
        assert (coulomb["method"], coulomb["accuracy"], coulomb["ewald"]) == ("ewald", 1e-10, True)
        assert coulomb["constant_eV_A"] == 14.3996454784 and coulomb["charges_per_type"] is True
        assert data["fit"]["options"]["coulomb"] == "ewald" and data["fit"]["options"]["coulomb_accuracy"] == 1e-10
        assert "baseline" not in data
    without = json.loads(invoke(["fit", CHARGED, "--cutoff", "9", "--coulomb", "none", "--format", "json", "-q"],
                                code=3).stdout)  # LJ alone cannot fit these: no convergence (exit 3)
    assert without["statistics"]["energy"]["rmse"] > 0.1 and without["coulomb"] == {"method": "none"}
    assert "charges" not in without


def test_per_type_charges_and_the_baseline_are_recorded_and_predict_says_when_the_baseline_is_missing(
        tmp_path, baseline):
    table = baseline_table(tmp_path, baseline)
    bare = tmp_path / "bare.extxyz"
    frames = ase.io.read(CHARGED, ":")
    for a in frames:
        a.set_initial_charges(None)
    ase.io.write(bare, frames, format="extxyz")
    out = tmp_path / "p.json"
    invoke(["fit", bare, "--cutoff", "9", "--charge", "Na=0.8", "--charge", "Cl=-0.8", "--charge", "Ar=0",
            "--energies", table, "-o", out, "--format", "csv", "-q"])
    saved = json.loads(out.read_text())
    assert saved["charges"] == {"Ar": 0.0, "Cl": -0.8, "Na": 0.8} and saved["coulomb"]["charges_from"] == "per-type"
    assert saved["baseline"] == f"the baseline column of {table}"
    assert saved["fit"]["options"]["charge"] == {"Na": 0.8, "Cl": -0.8, "Ar": 0.0}
    with_baseline = invoke(["predict", bare, "--params", out, "--energies", table, "--format", "csv"])
    assert "baseline" not in with_baseline.stderr
    assert max(abs(float(r["residual"])) for r in rows(with_baseline.stdout)) < 1e-5
    without = invoke(["predict", bare, "--params", out, "--format", "csv"])
    assert f"warning: {out} was fitted on top of a baseline (the baseline column of {table}), which this " \
           f"prediction does not add" in without.stderr
    assert list(rows(without.stdout)[0]) == PLAIN + ["energy_lj", "energy_coulomb"]


def test_a_baseline_record_must_be_text(tmp_path):
    params = write_json(tmp_path / "p.json", truth_params(baseline=3))
    result = invoke(["predict", CUBIC, "--params", params], code=1)
    assert result.stderr.strip() == f'error: {params}: "baseline" must be a text saying where the fit\'s ' \
                                    f'baseline came from, or null'
