"""``--potential`` and ``--tail`` through the command line: fit, params file, predict, export; and their errors."""
import json
from dataclasses import replace

import numpy as np
import pytest
from synth import random_dataset, with_reference
from test_cli_errors import assert_one_error_line
from test_cli_support import ORACLE, invoke, truth_params, write_json

from fitcore.io.write import extxyz_text
from fitcore.io.xyz import read_structures
from fitcore.params import Layout
from fitcore.potential import parse_form

THETA = np.array([0.0104, 3.40, 0.0141, 3.65, 0.0194, 3.95])  # Ar, Kr, Xe


def reference_file(rng, tmp_path, potential: str, mixing: str, tail: bool, pbc: str = "full"):
    """Frames with energies and forces of ``potential`` (direct engine), written and read back at full precision."""
    dataset = random_dataset(rng, n_frames=16, pbc=pbc, triclinic=True, length=10.0)
    path = tmp_path / "frames.extxyz"
    path.write_text(extxyz_text(dataset, np.zeros(dataset.n_frames), None))
    dataset = read_structures(str(path))
    layout = Layout(dataset.type_names, mixing, form=parse_form(potential))
    dataset = with_reference(dataset, layout, THETA, 7.5, shift=not tail, forces=True, tail=tail)
    path.write_text(extxyz_text(replace(dataset, energies=np.full(dataset.n_frames, np.nan)), dataset.energies,
                                dataset.forces))
    return path, dataset


@pytest.mark.parametrize("potential,mixing,tail", [("lj96", None, False), ("mie:14,6", "geometric", True),
                                                   ("mie:10.5,5.5", None, False), ("lj", "sixthpower", True)])
def test_fit_predict_export_with_a_form(rng, tmp_path, potential, mixing, tail):
    form = parse_form(potential)
    rule = mixing or form.default_mixing
    path, dataset = reference_file(rng, tmp_path, potential, rule, tail)
    out = tmp_path / "p.json"
    args = ["fit", path, "--cutoff", "7.5", "--potential", potential, "--forces", "-o", out, "--format", "json"]
    args += (["--mixing", mixing] if mixing else []) + (["--tail"] if tail else ["--shift"])
    invoke(args)
    data = json.loads(out.read_text())
    assert (data["potential"], data["mixing"], data["tail"], data["shift"]) == (form.name, rule, tail, not tail)
    assert data.get("exponents") == ([float(e) if not float(e).is_integer() else int(e) for e in form.exponents]
                                     if form.name == "mie" else None)
    fitted = [data["species"][t][k] for t in ("Ar", "Kr", "Xe") for k in ("epsilon", "sigma")]
    np.testing.assert_allclose(fitted, THETA, rtol=1e-8)
    predicted = invoke(["predict", path, "--params", out, "--format", "csv"]).stdout.splitlines()
    energies = [float(line.split(",")[3]) for line in predicted[1:]]
    np.testing.assert_allclose(energies, dataset.energies, rtol=1e-9)
    block = invoke(["export", out, "--to", "lammps"]).stdout
    assert f"pair_style {form.lammps_style} 7.5" in block and ("tail yes" in block) == tail


def test_potential_from_a_config_file(rng, tmp_path):
    path, _ = reference_file(rng, tmp_path, "lj96", "sixthpower", False)
    config = tmp_path / "options.toml"
    config.write_text('potential = "lj96"\ncutoff = 7.5\nshift = true\n')
    out = tmp_path / "p.json"
    invoke(["fit", path, "--config", config, "-o", out, "-q"])
    assert json.loads(out.read_text())["potential"] == "lj96"


@pytest.mark.parametrize("args,fragment", [
    (["--potential", "morse"], "unknown potential"),
    (["--potential", "mie:6,12"], "N > M"),
    (["--potential", "mie:14"], "mie:N,M"),
    (["--tail", "--shift"], "--tail with --shift"),
])
def test_usage_errors(small, args, fragment):
    result = invoke(["fit", small, "--cutoff", "8.5", *args], code=2)
    assert fragment in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


def test_tail_needs_bulk_frames(tmp_path, data_dir):
    slab = data_dir / "oracle_slab.extxyz"
    assert_one_error_line(invoke(["fit", slab, "--cutoff", "8.5", "--tail"], code=1), "--tail", "not periodic",
                          str(slab))


def test_tail_with_exponents_it_cannot_integrate(small):
    assert_one_error_line(invoke(["fit", small, "--cutoff", "8.5", "--tail", "--potential", "mie:8,3"], code=1),
                          "above 3")


@pytest.mark.parametrize("change, fragments", [
    ({"potential": "morse"}, ["unknown potential", "morse"]),
    ({"potential": "mie"}, ["exponents", "[N, M]"]),
    ({"potential": "mie", "exponents": [6, 12]}, ["N > M"]),
    ({"potential": "mie", "exponents": [14, "6"]}, ["exponents"]),
    ({"potential": "lj96", "exponents": [9, 6]}, ["only for mie"]),
    ({"tail": "yes"}, ["tail", "true or false"]),
    ({"tail": True}, ["tail", "shifted"]),  # truth_params shifts
    ({"tail": True, "shift": False, "cutoff": None}, ["tail", "cutoff"]),
], ids=["unknown", "mie-no-exponents", "mie-order", "mie-text", "lj96-exponents", "tail-text", "tail-shift",
        "tail-no-cutoff"])
def test_bad_potential_in_params_file(small, tmp_path, change, fragments):
    path = write_json(tmp_path / "bad.json", truth_params(**change))
    for args in (["predict", small, "--params", path], ["export", path, "--to", "lammps"],
                 ["fit", small, *ORACLE, "--init-file", path]):
        assert_one_error_line(invoke(args, code=1), "bad.json", *fragments)


def test_exports_without_the_form_refuse_it(tmp_path):
    path = write_json(tmp_path / "mie.json", truth_params(potential="mie", exponents=[14, 6]))
    assert_one_error_line(invoke(["export", path, "--to", "openmm"], code=1), "mie.json", "mie:14,6", "OpenMM")
