"""Energies tables (CSV/TSV ``name,energy[,weight]``) and their join onto the frames."""
import re

import numpy as np
import pytest

from fitcore.errors import InputError
from fitcore.io.energies import LjfitWarning, join_energies, read_energy_table
from fitcore.io.inputs import DataOptions, load_dataset, require_energies
from fitcore.io.xyz import ReadOptions, read_structures
from fitcore.units import ENERGY_UNITS

FRAMES = "".join(f'1\nProperties=species:S:1:pos:R:3 name={name}{energy}\nAr 0 0 0\n'
                 for name, energy in [("a", " energy=-1"), ("b", ""), ("c", " energy=-3")])


@pytest.fixture
def frames_path(tmp_path) -> str:
    path = tmp_path / "frames.extxyz"
    path.write_text(FRAMES)
    return str(path)


def table_error(tmp_path, text: str | bytes, line: int | None, match: str) -> None:
    """Reading the table ``text`` fails with an InputError that starts with ``path:line:`` and matches ``match``."""
    path = table(tmp_path, text)
    place = re.escape(path if line is None else f"{path}:{line}")
    with pytest.raises(InputError, match=f"^{place}: {match}"):
        read_energy_table(path)


def table(tmp_path, text: str | bytes, name: str = "energies.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_csv_with_weights(tmp_path):
    path = table(tmp_path, "name,energy,weight\na,-1.5,2\nb,0.25,0.5\n")
    assert read_energy_table(path) == {"a": (-1.5, 2.0, 2), "b": (0.25, 0.5, 3)}


def test_tsv_column_order_spaces_and_blank_lines(tmp_path):
    path = table(tmp_path, "Energy\t Name \n-1.5\t a \n\n  \t  \n2\tb\n", "energies.tsv")
    assert read_energy_table(path) == {"a": (-1.5, 1.0, 2), "b": (2.0, 1.0, 5)}


def test_quoted_names_with_commas(tmp_path):
    path = table(tmp_path, 'name,energy\n"water, dimer",-0.2\n')
    assert read_energy_table(path) == {"water, dimer": (-0.2, 1.0, 2)}


def test_spreadsheet_csv_with_bom_and_windows_line_endings(tmp_path):
    path = table(tmp_path, b"\xef\xbb\xbfname,energy\r\na,-1.5\r\nb,2\r\n")
    assert read_energy_table(path) == {"a": (-1.5, 1.0, 2), "b": (2.0, 1.0, 3)}


def test_energy_unit(tmp_path):
    path = table(tmp_path, "name,energy\na,-1.5\n")
    energy, _, _ = read_energy_table(path, "kcal/mol")["a"]
    assert energy == -1.5 * ENERGY_UNITS["kcal/mol"]


def test_join_table_wins_over_file_energies(tmp_path, frames_path):
    dataset = read_structures(frames_path)
    joined = join_energies(dataset, read_energy_table(table(tmp_path, "name,energy,weight\nb,-2,3\nc,-30,1\n")),
                           "energies.csv")
    assert joined.energies.tolist() == [-1.0, -2.0, -30.0]
    assert joined.weights.tolist() == [1.0, 3.0, 1.0]
    assert np.isnan(dataset.energies[1])  # the input is not modified
    require_energies(joined)


def test_load_dataset_with_table(tmp_path, frames_path):
    path = table(tmp_path, "name,energy\nb,-47.0\n")
    dataset = load_dataset([frames_path], DataOptions(read=ReadOptions(energy_unit="kcal/mol"), energies=path))
    kcal = ENERGY_UNITS["kcal/mol"]
    np.testing.assert_allclose(dataset.energies, np.array([-1.0, -47.0, -3.0]) * kcal, rtol=1e-15)


def test_table_names_match_default_frame_names(tmp_path):
    structures = tmp_path / "traj.xyz"
    structures.write_text("1\n\nAr 0 0 0\n1\n\nAr 0 0 0\n")
    path = table(tmp_path, "name,energy\ntraj:0,1\ntraj:1,2\n")
    dataset = load_dataset([str(structures)], DataOptions(energies=path))
    assert dataset.energies.tolist() == [1.0, 2.0]


def test_rows_matching_no_frame_warn(tmp_path, frames_path):
    path = table(tmp_path, "name,energy\nb,-2\nzz,1\nyy,2\n")
    with pytest.warns(LjfitWarning, match=f"^{re.escape(path)}: 2 row\\(s\\) match no frame: zz, yy$"):
        dataset = load_dataset([frames_path], DataOptions(energies=path))
    assert dataset.energies.tolist() == [-1.0, -2.0, -3.0]


def test_missing_energies_after_join_are_an_error(tmp_path, frames_path):
    dataset = load_dataset([frames_path], DataOptions(energies=table(tmp_path, "name,energy\na,-2\n")))
    with pytest.raises(InputError, match=f"^{re.escape(frames_path)}: 1 frame\\(s\\) have no energy: b"):
        require_energies(dataset)


# ---------------------------------------------------------------- bad tables


@pytest.mark.parametrize("header,missing", [("frame,energy", "name"), ("name,e", "energy"), ("name\tvalue", "energy"),
                                            ("a,-1", "name")])
def test_header_without_name_or_energy(tmp_path, header, missing):
    table_error(tmp_path, f"{header}\na,-1\n", 1, f"header has no '{missing}' column")


@pytest.mark.parametrize("value,match", [("low", "energy 'low' is not a number"), ("", "energy '' is not a number"),
                                         ("nan", "energy nan is not finite"), ("-inf", "energy -inf is not finite")])
def test_bad_energy_names_the_line(tmp_path, value, match):
    table_error(tmp_path, f"name,energy\na,-1\n\nb,{value}\n", 4, match)


@pytest.mark.parametrize("weight,match", [("0", "weight 0.0 must be positive"), ("-2", "weight -2.0 must be positive"),
                                          ("x", "weight 'x' is not a number")])
def test_bad_weight(tmp_path, weight, match):
    table_error(tmp_path, f"name,energy,weight\na,-1,{weight}\n", 2, match)


def test_duplicate_names(tmp_path):
    table_error(tmp_path, "name,energy\na,-1\nb,2\na,-1\n", 4, "name 'a' appears twice \\(first at line 2\\)")


def test_short_row(tmp_path):
    table_error(tmp_path, "name,energy,weight\na,-1\n", 2, "2 fields but the header has 3")


def test_decimal_comma_is_an_error_not_a_silent_zero(tmp_path):
    table_error(tmp_path, "name,energy\na,-1.5\nb,-0,042\n", 3, "3 fields but the header has 2 .*decimal comma")


@pytest.mark.parametrize("content", [b"", b"\n\nname,energy\n"])
def test_empty_table(tmp_path, content):
    table_error(tmp_path, content, None, "energies table is empty")


def test_binary_table(tmp_path):
    table_error(tmp_path, b"\xff\xd8\xff\xe0 jpeg", None, "looks like a binary file")


def test_missing_table(tmp_path, frames_path):
    path = str(tmp_path / "nowhere.csv")
    with pytest.raises(InputError, match=f"^{re.escape(path)}: cannot read"):
        load_dataset([frames_path], DataOptions(energies=path))
