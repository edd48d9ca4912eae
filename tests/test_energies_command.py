"""`ljfit energies`: the energies table from comment lines, joined back by `--energies`."""
import csv
import io
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_support import invoke

from fitcore.io.energies import read_energy_table


def frame(energy_comment: str, z: float = 3.8) -> str:
    return f"2\n{energy_comment}\nAr 0 0 0\nAr 0 0 {z}\n"


def table(text: str) -> dict[str, float]:
    return {row["name"]: float(row["energy"]) for row in csv.DictReader(io.StringIO(text))}


def test_names_from_the_format_and_energies_from_the_comments(tmp_path):
    (tmp_path / "a.xyz").write_text(frame("energy=-1.5"))
    (tmp_path / "b.xyz").write_text(frame("-0.75"))  # plain XYZ: the comment's only number
    (tmp_path / "two.xyz").write_text(frame("energy=-1") + frame("energy=-2 name=second"))
    result = invoke(["energies", tmp_path / "*.xyz"])
    assert result.stderr == ""
    assert table(result.stdout) == {"a": -1.5, "b": -0.75, "two:0": -1.0, "second": -2.0}
    result = invoke(["energies", tmp_path / "a.xyz", tmp_path / "two.xyz", "--name-format", "{stem}_{index}_ext"])
    assert list(table(result.stdout)) == ["a_0_ext", "two_0_ext", "two_1_ext"]


def test_the_table_joins_onto_structures_named_by_the_format(tmp_path):
    """One structure per file, energies in the comment lines of another set of files."""
    (tmp_path / "energies").mkdir()
    (tmp_path / "structures").mkdir()
    for k, z in enumerate([3.6, 3.9, 4.3]):
        (tmp_path / "energies" / f"conf{k}.xyz").write_text(frame(f"energy={-0.01 * (k + 1)}", z))
        (tmp_path / "structures" / f"conf{k}_extended.xyz").write_text(frame("", z))
    out = tmp_path / "energies.csv"
    invoke(["energies", tmp_path / "energies" / "*.xyz", "--name-format", "{stem}_extended", "-o", out])
    result = invoke(["inspect", tmp_path / "structures" / "*.xyz", "--energies", out, "--format", "json"])
    summary = json.loads(result.stdout)["energy"]
    assert (summary["frames_with_energy"], summary["min"], summary["max"]) == (3, -0.03, -0.01)
    assert table(out.read_text()) == {"conf0_extended": -0.01, "conf1_extended": -0.02, "conf2_extended": -0.03}


def test_errors_name_the_file_and_line(tmp_path):
    (tmp_path / "a.xyz").write_text(frame("energy=-1.5") + frame("no number here"))
    result = invoke(["energies", tmp_path / "a.xyz"], code=1)
    assert result.stdout == "" and result.stderr.startswith(f"error: {tmp_path / 'a.xyz'}:6: frame")
    assert len(result.stderr.strip().splitlines()) == 1
    (tmp_path / "b.xyz").write_text(frame("energy=-1.5"))
    result = invoke(["energies", tmp_path / "b.xyz", tmp_path / "b.xyz"], code=1)
    assert "made twice" in result.stderr and result.stdout == ""
    result = invoke(["energies", tmp_path / "b.xyz", "--name-format", "{file}"], code=2)
    assert "--name-format" in result.stderr
    invoke(["energies", tmp_path / "missing.xyz"], code=2)
    out = tmp_path / "t.csv"
    invoke(["energies", tmp_path / "a.xyz", "-o", out], code=1)
    assert not out.exists()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=5),
       st.sampled_from(["eV", "kcal/mol", "K"]))
def test_round_trip_through_the_table_reader(tmp_path_factory, energies, unit):
    folder = tmp_path_factory.mktemp("round")
    paths = []
    for k, energy in enumerate(energies):
        paths.append(folder / f"s{k}.xyz")
        paths[-1].write_text(frame(f"energy={energy!r}"))
    out = folder / "table.csv"
    invoke(["energies", *paths, "--energy-unit", unit, "-o", out, "-q"])
    read = read_energy_table(str(out), unit)
    from fitcore.units import energy_factor
    got = np.array([read[f"s{k}"][0] for k in range(len(energies))]) / energy_factor(unit)
    np.testing.assert_allclose(got, energies, rtol=1e-11, atol=1e-12)
