"""``ljfit`` commands end to end on the LAMMPS oracle data: fit recovers the truth, predict
reproduces the reference, export writes what MD codes read."""
import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_cli_support import CUBIC, ORACLE, SLAB, first_frames, invoke, scaled_energies, truth, truth_params, write_json

from fitcore.units import energy_factor


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def fit_json(*args) -> dict:
    return json.loads(invoke(["fit", *args, "--format", "json"]).stdout)


def species_values(data: dict) -> dict:
    return {(t, k): e[k] for t, e in data["species"].items() for k in ("epsilon", "sigma")}


def assert_truth(data: dict, rtol=1e-6):
    expected = {(t, k): v for t, e in truth()["params"].items() for k, v in e.items()}
    got = species_values(data)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=rtol), key


# ---------------------------------------------------------------- basics


def test_version():
    result = invoke(["--version"])
    assert result.stdout.startswith("ljfit ")
    assert result.stdout.split()[1][0].isdigit()


@pytest.mark.parametrize("command", [[], ["inspect"], ["fit"], ["predict"], ["export"]])
def test_help_has_an_example(command):
    result = invoke([*command, "--help"])
    assert re.search(r"^ +ljfit (inspect|fit|predict|export) \S", result.stdout, re.M), result.stdout
    assert result.stderr == ""


def test_inspect_json(small):
    data = json.loads(invoke(["inspect", small, "--format", "json"]).stdout)
    assert data["frames"] == 6 and data["atoms"] == 6 * 64
    assert {p["pair"] for p in data["pairs"]} == {"Ar-Ar", "Ar-Kr", "Ar-Xe", "Kr-Kr", "Kr-Xe", "Xe-Xe"}


# ---------------------------------------------------------------- fit


@pytest.mark.parametrize("path", [CUBIC, SLAB], ids=["cubic", "slab"])
def test_fit_recovers_oracle(path):
    data = fit_json(path, *ORACLE)
    assert_truth(data)
    assert data["mixing"] == "lorentz-berthelot" and data["cutoff"] == 8.5 and data["shift"] is True
    assert data["statistics"]["energy"]["rmse"] < 1e-8


def test_fit_params_file_and_residuals(tmp_path):
    data = first_frames(CUBIC, 10, tmp_path / "ten.extxyz")
    out, res = tmp_path / "params.json", tmp_path / "res.csv"
    result = invoke(["fit", data, *ORACLE, "--forces", "-o", out, "--residuals", res, "--seed", 5])
    params = json.loads(out.read_text())
    assert params["format"] == "ljfit-params/1"
    assert_truth(params)
    for entry in params["species"].values():
        assert {"epsilon_stderr", "sigma_stderr"} <= set(entry)
    fit = params["fit"]
    assert {"statistics", "method", "seed", "options", "ljfit_version", "inputs", "command"} <= set(fit)
    assert fit["method"] == "lsq" and fit["options"]["seed"] == 5 and fit["options"]["forces"] is True
    assert fit["inputs"] == [{"path": str(data), "bytes": data.stat().st_size,
                              "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}]
    assert fit["statistics"]["forces"]["n"] == 10 * 64 * 3
    rows = read_csv(res.read_text())
    assert len(rows) == 10 and list(rows[0]) == ["name", "n_atoms", "energy_ref", "energy_pred", "residual"]
    assert max(abs(float(r["residual"])) for r in rows) < 1e-8
    assert f"wrote {out}" in result.stderr and f"wrote {res}" in result.stderr
    # stdout (CSV: not a terminal) carries the parameter table only
    assert [r["parameter"] for r in read_csv(result.stdout)] == [
        "Ar.epsilon", "Ar.sigma", "Kr.epsilon", "Kr.sigma", "Xe.epsilon", "Xe.sigma"]


def test_fit_fix_keeps_value(small):
    data = fit_json(small, *ORACLE, "--forces", "--init", "Ar.sigma=3.3", "--fix", "Ar.sigma")
    assert data["species"]["Ar"]["sigma"] == 3.3
    assert data["species"]["Kr"]["sigma"] != pytest.approx(3.65, rel=1e-9)  # the others compensate


def test_fit_bound_is_respected(small):
    data = fit_json(small, *ORACLE, "--forces", "--bound", "Ar.sigma=3.5:3.6", "--bound", "Kr.epsilon=:0.012")
    assert 3.5 <= data["species"]["Ar"]["sigma"] <= 3.6
    assert data["species"]["Kr"]["epsilon"] <= 0.012
    assert "at bound" in data["fit"]["flags"]["Ar.sigma"]


def test_fit_init_and_init_file(small, tmp_path):
    far = {t: {"epsilon": e["epsilon"] * 2, "sigma": e["sigma"] * 1.05} for t, e in truth()["params"].items()}
    init_file = write_json(tmp_path / "init.json", truth_params(species=far))
    assert_truth(fit_json(small, *ORACLE, "--forces", "--init-file", init_file))
    assert_truth(fit_json(small, *ORACLE, "--forces", "--init", "Ar.epsilon=0.02", "--init", "Xe.sigma=4.2"))
    # --fix without --init keeps the init file's value
    data = fit_json(small, *ORACLE, "--forces", "--init-file", init_file, "--fix", "Ar.epsilon")
    assert data["species"]["Ar"]["epsilon"] == pytest.approx(far["Ar"]["epsilon"], rel=1e-12)


@pytest.mark.parametrize("mixing", ["geometric", "sixthpower"])
def test_fit_other_mixing_rules_run(small, mixing):
    data = fit_json(small, *ORACLE, "--forces", "--mixing", mixing)
    assert data["mixing"] == mixing and data["pairs"] == {}
    assert all(e["epsilon"] > 0 and e["sigma"] > 0 for e in data["species"].values())
    assert data["statistics"]["energy"]["n"] == 6


def test_fit_mixing_none_recovers_mixed_pairs(tmp_path):
    """Free pair parameters, fitted to Lorentz-Berthelot data, are the mixed values."""
    data = fit_json(first_frames(CUBIC, 20, tmp_path / "twenty.extxyz"), *ORACLE, "--mixing", "none")
    assert data["mixing"] == "none" and data["species"] == {"Ar": {}, "Kr": {}, "Xe": {}}
    t = truth()["params"]
    assert len(data["pairs"]) == 6
    for name, entry in data["pairs"].items():
        a, b = (t[s] for s in name.split("-"))
        assert entry["epsilon"] == pytest.approx(np.sqrt(a["epsilon"] * b["epsilon"]), rel=1e-6), name
        assert entry["sigma"] == pytest.approx((a["sigma"] + b["sigma"]) / 2, rel=1e-6), name


@pytest.mark.parametrize("offset", ["constant", "per-species"])
def test_fit_offset(small, offset):
    data = fit_json(small, *ORACLE, "--forces", "--offset", offset)
    assert_truth(data)
    if offset == "constant":
        assert data["offset"] == pytest.approx(0, abs=1e-8)
    else:
        assert set(data["offset"]) == {"Ar", "Kr", "Xe"}


def test_fit_constant_offset_recovered(small, tmp_path):
    """Every energy plus 0.75 eV: the LJ parameters stay, the offset takes the constant."""
    moved = tmp_path / "moved.extxyz"
    text = small.read_text()
    moved.write_text(re.sub(r"energy=(\S+)", lambda m: f"energy={float(m.group(1)) + 0.75!r}", text))
    data = fit_json(moved, *ORACLE, "--forces", "--offset", "constant")
    assert_truth(data)
    assert data["offset"] == pytest.approx(0.75, rel=1e-8)


def test_fit_forces_and_per_atom(small):
    data = fit_json(small, *ORACLE, "--forces", "--per-atom", "--force-weight", "2")
    assert_truth(data)
    assert data["fit"]["options"]["per_atom"] is True
    assert data["statistics"]["forces"]["n"] == 6 * 64 * 3
    assert data["statistics"]["energy"]["unit"].endswith("/atom")


def test_basinhopping_is_reproducible(small):
    args = [small, *ORACLE, "--forces", "--method", "basinhopping", "--niter", "5", "--seed", "3"]
    first, second = fit_json(*args), fit_json(*args)
    assert species_values(first) == species_values(second)
    assert first["fit"]["seed"] == second["fit"]["seed"] == 3
    assert first["fit"]["basinhopping"]["hops"] == 5
    assert_truth(first)


def test_energy_unit_round_trip(tmp_path):
    """The same data in kcal/mol: epsilon comes out in kcal/mol, sigma unchanged."""
    ev = first_frames(CUBIC, 10, tmp_path / "ev.extxyz")
    per_kcal = energy_factor("kcal/mol")  # eV per kcal/mol
    kcal = scaled_energies(ev, tmp_path / "kcal.extxyz", per_kcal)
    in_ev = fit_json(ev, *ORACLE, "--forces")
    in_kcal = fit_json(kcal, *ORACLE, "--forces", "--energy-unit", "kcal/mol")
    assert in_kcal["units"] == {"energy": "kcal/mol", "length": "angstrom"}
    for t in in_ev["species"]:
        assert in_kcal["species"][t]["epsilon"] == pytest.approx(in_ev["species"][t]["epsilon"] / per_kcal, rel=1e-8)
        assert in_kcal["species"][t]["sigma"] == pytest.approx(in_ev["species"][t]["sigma"], rel=1e-8)
    assert in_kcal["statistics"]["energy"]["unit"] == "kcal/mol"


def test_fit_plot(small, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "parity.png"
    invoke(["fit", small, *ORACLE, "--forces", "--plot", png])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- predict


def test_predict_reproduces_reference(tmp_path, truth_file):
    data = first_frames(SLAB, 8, tmp_path / "slab8.extxyz", named=True)
    result = invoke(["predict", data, "--params", truth_file])
    assert result.stdout.splitlines()[0] == "name,n_atoms,energy_ref,energy_pred,residual"
    rows = read_csv(result.stdout)
    assert [r["name"] for r in rows] == [f"frame{k}" for k in range(8)]
    for r in rows:
        assert float(r["energy_pred"]) == pytest.approx(float(r["energy_ref"]), rel=1e-9)
        assert abs(float(r["residual"])) < 1e-8
        assert r["n_atoms"] == "100"


def test_predict_write_structures_forces(tmp_path, truth_file):
    ase_io = pytest.importorskip("ase.io")
    data = first_frames(CUBIC, 5, tmp_path / "five.extxyz")
    out = tmp_path / "pred.extxyz"
    invoke(["predict", data, "--params", truth_file, "--write-structures", out, "-q"])
    reference, predicted = ase_io.read(data, ":"), ase_io.read(out, ":")
    assert len(predicted) == 5
    for ref, pred in zip(reference, predicted):
        np.testing.assert_allclose(pred.positions, ref.positions, atol=1e-9)
        f_ref, f_pred = ref.get_forces(), pred.get_forces()
        np.testing.assert_allclose(f_pred, f_ref, rtol=1e-8, atol=1e-8 * np.abs(f_ref).max())
        assert pred.get_potential_energy() == pytest.approx(ref.get_potential_energy(), rel=1e-9)


def test_predict_engines_agree(small, truth_file):
    moments = read_csv(invoke(["predict", small, "--params", truth_file]).stdout)
    direct = read_csv(invoke(["predict", small, "--params", truth_file, "--engine", "direct"]).stdout)
    for a, b in zip(moments, direct, strict=True):
        assert float(a["energy_pred"]) == pytest.approx(float(b["energy_pred"]), rel=1e-10)


def test_predict_json(small, truth_file):
    data = json.loads(invoke(["predict", small, "--params", truth_file, "--format", "json"]).stdout)
    assert data["unit"] == "eV" and len(data["frames"]) == 6
    assert data["statistics"]["rmse"] < 1e-8


def test_predict_with_fitted_params(small, fitted):
    rows = read_csv(invoke(["predict", small, "--params", fitted]).stdout)
    assert max(abs(float(r["residual"])) for r in rows) < 1e-8


# ---------------------------------------------------------------- export


def lammps_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_export_lammps(truth_file):
    text = invoke(["export", truth_file, "--to", "lammps"]).stdout
    assert "pair_style lj/cut 8.5" in text
    assert "pair_modify mix arithmetic shift yes" in text
    for k, name in enumerate(["Ar", "Kr", "Xe"], start=1):
        assert f"# type {k} = {name}" in text
    coeffs = [line.split() for line in lammps_lines(text) if line.startswith("pair_coeff")]
    assert [c[1:3] for c in coeffs] == [["1", "1"], ["2", "2"], ["3", "3"]]  # the rule gives the others
    t = truth()["params"]
    assert float(coeffs[0][3]) == pytest.approx(t["Ar"]["epsilon"], rel=1e-9)
    assert float(coeffs[0][4]) == pytest.approx(t["Ar"]["sigma"], rel=1e-9)


def test_export_lammps_real_units(truth_file):
    text = invoke(["export", truth_file, "--to", "lammps", "--lammps-units", "real"]).stdout
    coeffs = [line.split() for line in lammps_lines(text) if line.startswith("pair_coeff")]
    t = truth()["params"]
    assert float(coeffs[2][3]) == pytest.approx(t["Xe"]["epsilon"] / energy_factor("kcal/mol"), rel=1e-9)
    assert float(coeffs[2][4]) == pytest.approx(t["Xe"]["sigma"], rel=1e-9)


def test_export_lammps_explicit_pairs(tmp_path, truth_file):
    """mixing none, or a pair override: every pair gets its own pair_coeff line."""
    eps, sig = 0.012, 3.5
    override = write_json(tmp_path / "override.json",
                          truth_params(pairs={"Kr-Ar": {"epsilon": eps, "sigma": sig}}))
    coeffs = [line.split() for line in lammps_lines(invoke(["export", override, "--to", "lammps"]).stdout)
              if line.startswith("pair_coeff")]
    assert sorted(tuple(c[1:3]) for c in coeffs) == [("1", "1"), ("1", "2"), ("1", "3"), ("2", "2"), ("2", "3"),
                                                     ("3", "3")]
    pair = next(c for c in coeffs if c[1:3] == ["1", "2"])
    assert (float(pair[3]), float(pair[4])) == (eps, sig)
    t = truth()["params"]
    xe_kr = next(c for c in coeffs if c[1:3] == ["2", "3"])
    assert float(xe_kr[3]) == pytest.approx(np.sqrt(t["Kr"]["epsilon"] * t["Xe"]["epsilon"]), rel=1e-9)
    assert float(xe_kr[4]) == pytest.approx((t["Kr"]["sigma"] + t["Xe"]["sigma"]) / 2, rel=1e-9)

    pairs = {"Ar-Ar": {"epsilon": 0.01, "sigma": 3.4}, "Ar-Kr": {"epsilon": 0.012, "sigma": 3.5}}
    none = write_json(tmp_path / "none.json", truth_params(mixing="none", species={"Ar": {}, "Kr": {}},
                                                           pairs=pairs))
    text = invoke(["export", none, "--to", "lammps"]).stdout
    assert "pair_modify shift yes" in text and "mix" not in lammps_lines(text)[1]
    coeffs = [line.split() for line in lammps_lines(text) if line.startswith("pair_coeff")]
    assert sorted(tuple(c[1:3]) for c in coeffs) == [("1", "1"), ("1", "2")]


def test_export_openmm(truth_file):
    root = ET.fromstring(invoke(["export", truth_file, "--to", "openmm"]).stdout)
    assert root.tag == "ForceField"
    atoms = {a.get("type"): a for a in root.find("NonbondedForce").iter("Atom")}
    t = truth()["params"]
    assert set(atoms) == set(t)
    kj = energy_factor("kJ/mol")
    for name, entry in t.items():
        assert float(atoms[name].get("sigma")) == pytest.approx(entry["sigma"] / 10, rel=1e-9)
        assert float(atoms[name].get("epsilon")) == pytest.approx(entry["epsilon"] / kj, rel=1e-9)


def test_export_openmm_pair_override(tmp_path):
    override = write_json(tmp_path / "override.json",
                          truth_params(pairs={"Ar-Kr": {"epsilon": 0.012, "sigma": 3.5}}))
    root = ET.fromstring(invoke(["export", override, "--to", "openmm"]).stdout)
    fixes = {(p.get("type1"), p.get("type2")): p for p in root.iter("NBFixPair")}
    assert float(fixes["Ar", "Kr"].get("sigma")) == pytest.approx(0.35, rel=1e-9)


def test_export_csv_and_output_file(truth_file, tmp_path):
    rows = read_csv(invoke(["export", truth_file, "--to", "csv"]).stdout)
    assert [r["name"] for r in rows] == ["Ar", "Kr", "Xe"]
    assert float(rows[1]["sigma"]) == 3.65 and rows[1]["energy_unit"] == "eV"
    out = tmp_path / "in.lj"
    result = invoke(["export", truth_file, "--to", "lammps", "-o", out])
    assert result.stdout == "" and "pair_style lj/cut 8.5" in out.read_text()


def test_export_lammps_needs_a_cutoff(tmp_path):
    no_cutoff = write_json(tmp_path / "nocut.json", truth_params(cutoff=None))
    result = invoke(["export", no_cutoff, "--to", "lammps"], code=1)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and "cutoff: null" in result.stderr
    assert result.stderr.rstrip().endswith("give --cutoff")
    assert len(result.stderr.strip().splitlines()) == 1
    text = invoke(["export", no_cutoff, "--to", "lammps", "--cutoff", "10"]).stdout
    assert "pair_style lj/cut 10" in text


def test_export_cutoff_option_does_not_override_the_file(truth_file):
    result = invoke(["export", truth_file, "--to", "lammps", "--cutoff", "10"])
    assert "pair_style lj/cut 8.5" in result.stdout
    assert result.stderr.startswith("warning: --cutoff 10 ignored")


# ---------------------------------------------------------------- known problems outside the CLI layer


def test_energies_table_joins_on_frame_names_not_config_keys(small, tmp_path):
    """Frame names follow the issue's rule (name= key, else stem, else stem:index); config= stays frame info."""
    table = tmp_path / "energies.csv"
    table.write_text("name,energy\nsmall:0,-1.0\nframe0,-2.0\n")
    result = invoke(["inspect", small, "--energies", table, "--format", "json"])
    assert "1 row(s) match no frame: frame0" in result.stderr


def test_fit_records_its_command(small):
    data = fit_json(small, *ORACLE, "--forces")
    assert data["fit"]["command"] == f"ljfit fit {small} --cutoff 8.5 --shift --forces --format json"


def test_piping_into_head_is_not_an_error(small, truth_file):
    """The reader of stdout closing the pipe early (head) ends the command quietly, exit 0."""
    import subprocess
    import sys
    from pathlib import Path
    ljfit = Path(sys.executable).parent / "ljfit"
    for fmt in ("csv", "table"):
        run = subprocess.run(f"'{ljfit}' predict '{small}' --params '{truth_file}' --format {fmt} | head -c 1; "
                             "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True, text=True)
        assert run.returncode == 0 and "Traceback" not in run.stderr and "error" not in run.stderr


def test_predict_cutoff_stands_in_for_a_missing_one(small, tmp_path):
    params = truth_params()
    params["cutoff"] = None
    path = write_json(tmp_path / "nocut.json", params)
    assert "has cutoff null (give --cutoff)" in invoke(["predict", small, "--params", path], code=1).stderr
    rows = invoke(["predict", small, "--params", path, "--cutoff", "8.5"]).stdout.splitlines()[1:]
    assert all(abs(float(r.split(",")[4])) < 1e-8 for r in rows)  # the shifted truth again, given the cutoff


def test_openmm_export_maps_atomic_numbers_and_warns_for_other_names(tmp_path):
    params = truth_params()
    params["species"] = {"18": params["species"]["Ar"], "Kr": params["species"]["Kr"], "X1": params["species"]["Xe"]}
    result = invoke(["export", write_json(tmp_path / "p.json", params), "--to", "openmm"])
    assert 'name="18" class="18" element="Ar" mass="39.948"' in result.stdout
    assert 'name="X1" class="X1" mass="0.0"' in result.stdout and "'X1' is not an element" in result.stderr
