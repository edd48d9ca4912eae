"""One test per bad input: an InputError whose message names the file and the line (or the frame)."""
import re

import numpy as np
import pytest

from fitcore.errors import InputError
from fitcore.io.inputs import DataOptions, expand_paths, load_dataset, require_energies
from fitcore.io.xyz import ReadOptions, read_structures
from fitcore.neighbors import iter_pairs

GOOD = "2\nProperties=species:S:1:pos:R:3 energy=-1.5\nAr 0 0 0\nAr 0 0 3.5\n"


def write(tmp_path, text: str | bytes, name: str = "bad.xyz") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def read_error(path: str, line: int | None, match: str, options: ReadOptions = ReadOptions()) -> str:
    """Read ``path``, expecting an InputError that starts with ``path:line:`` and matches ``match``."""
    place = re.escape(path if line is None else f"{path}:{line}") + ":"
    with pytest.raises(InputError, match=f"^{place} .*{match}") as info:
        read_structures(path, options)
    return str(info.value)


# ---------------------------------------------------------------- atom counts


def test_too_many_atom_lines(tmp_path):
    path = write(tmp_path, "2\nenergy=1\nAr 0 0 0\nAr 0 0 3\nAr 0 0 6\n" + GOOD)
    message = read_error(path, 5, "expected the atom count of a frame, got 'Ar 0 0 6'")
    assert "frame at line 1 really have 2 atoms" in message


def test_too_few_atom_lines(tmp_path):
    path = write(tmp_path, "3\nenergy=1\nAr 0 0 0\nAr 0 0 3\n" + GOOD)
    read_error(path, 6, r"expected the atom count of a frame, got .*frame at line 1 really have 3 atoms")


def test_too_few_atom_lines_at_end_of_file(tmp_path):
    path = write(tmp_path, GOOD + "3\nenergy=1\nAr 0 0 0\nAr 0 0 3\n")
    read_error(path, 5, "frame says 3 atoms but the file ends after 2 more lines")


def test_too_few_atom_lines_at_end_without_newline(tmp_path):
    path = write(tmp_path, GOOD + "3\nenergy=1\nAr 0 0 0\nAr 0 0 3")
    read_error(path, 5, "frame says 3 atoms but the file ends after 2 more lines")


def test_too_many_atom_lines_at_end_of_file(tmp_path):
    path = write(tmp_path, GOOD + "1\nenergy=1\nAr 0 0 0\nAr 0 0 3\n")
    read_error(path, 8, r"expected the atom count of a frame, got 'Ar 0 0 3' \(does the frame at line 5")


def test_count_line_at_end_of_file(tmp_path):
    read_error(write(tmp_path, GOOD + "2"), 5, "file ends before the comment line")
    read_error(write(tmp_path, GOOD + "2\n"), 5, "frame says 2 atoms but the file ends after 0 more lines")


def test_zero_atoms(tmp_path):
    read_error(write(tmp_path, GOOD + "0\nenergy=1\n"), 5, "frame has 0 atoms")


def test_blank_line_between_frames(tmp_path):
    read_error(write(tmp_path, GOOD + "\n" + GOOD), 5, "blank line where the atom count of a frame was expected")


def test_blank_atom_line(tmp_path):
    read_error(write(tmp_path, "2\nenergy=1\nAr 0 0 0\n\n" + GOOD), 4, r"expected 4 columns \(El x y z\), got 0")


# ---------------------------------------------------------------- atom lines


@pytest.mark.parametrize("row,match", [
    ("Ar 0 zero 0", "pos value 'zero' is not a number"),
    ("Ar 0 1_000.5 0", "pos value '1_000.5' is not a number"),  # Python's float() takes it; loadtxt does not
    ("Ar 0 \u0661.5 0", "pos value '\u0661.5' is not a number"),  # Arabic-Indic digit one
    ("Ar 0 1.0\r2.0 0", "carriage return inside"),
    ("Ar 0 0", r"expected 4 columns \(El x y z\), got 3"),
    ("Ar", r"expected 4 columns \(El x y z\), got 1"),
])
def test_bad_plain_row(tmp_path, row, match):
    read_error(write(tmp_path, f"3\n-1\nAr 0 0 0\nAr 0 0 3\n{row}\n"), 5, match)


@pytest.mark.parametrize("row,match", [
    ("Ar 0 0 3 1 1 1.0.0 7", "forces value '1.0.0' is not a number"),
    ("Ar 0 0 3 1 1 1", r"expected 8 columns \(species:S:1:pos:R:3:forces:R:3:fragment:I:1\), got 7"),
    ("Ar 0 0 3 1 1 1 7 extra", "expected 8 columns .*, got 9"),
    ("Ar 0 0 3 1 1 1 1.5", "fragment value '1.5' is not an integer"),
])
def test_bad_extended_row(tmp_path, row, match):
    """With Properties= the row must have exactly its columns: a mismatch means the file is corrupt."""
    header = "2\nProperties=species:S:1:pos:R:3:forces:R:3:fragment:I:1 energy=1\nAr 0 0 0 0 0 0 1\n"
    read_error(write(tmp_path, GOOD + header + row + "\n"), 8, match)


def test_bad_row_in_a_later_frame_of_a_long_file(tmp_path):
    """The error names the right line also when many frames go through one parse."""
    path = write(tmp_path, GOOD * 50 + "2\nProperties=species:S:1:pos:R:3 energy=1\nAr 0 0 0\nAr 0 0 x\n" + GOOD)
    read_error(path, 204, "pos value 'x' is not a number")


def test_bad_logical_value(tmp_path):
    path = write(tmp_path, "1\nProperties=species:S:1:pos:R:3:fixed:L:1\nAr 0 0 0 maybe\n")
    read_error(path, 3, "fixed value 'maybe' is not T or F")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
def test_non_finite_coordinates(tmp_path, value):
    read_error(write(tmp_path, f"{GOOD}2\nenergy=1\nAr 0 0 0\nAr 0 {value} 3\n"), 8,
               r"coordinates are not finite \(NaN or inf\)")


def test_non_finite_forces(tmp_path):
    path = write(tmp_path, "2\nProperties=species:S:1:pos:R:3:forces:R:3 energy=1\nAr 0 0 0 0 0 0\nAr 0 0 3 0 nan 0\n")
    read_error(path, 4, r"forces are not finite")


def test_atom_line_not_utf8(tmp_path):
    read_error(write(tmp_path, b"2\nenergy=1\nAr 0 0 0\nAr\xe9 0 0 3\n"), 4, "atom line is not UTF-8 text")


def test_label_too_long(tmp_path):
    path = write(tmp_path, f"2\nenergy=1\nAr 0 0 0\n{'X' * 300} 0 0 3\n")
    read_error(path, None, "a string column has an entry longer than 255 characters")


# ---------------------------------------------------------------- comment lines


@pytest.mark.parametrize("properties,match", [
    ("species:S:1:pos:X:3", r"unknown type 'X' for column 'pos' .*expected S, R, I or L"),
    ("species:S:1:pos:R", "malformed Properties='species:S:1:pos:R': expected name:type:count triples"),
    ("species:S:1:pos:R:three", "bad column count 'three' for 'pos'"),
    ("species:S:1:pos:R:0", "bad column count '0' for 'pos'"),
    ("species:S:1:pos:R:3:pos:R:3", "column 'pos' appears twice"),
    ("pos:R:3", "has no species:S:1 column"),
    ("species:S:1:positions:R:3", "has no pos:R:3 column"),
    ("species:S:1:pos:R:2", "has no pos:R:3 column"),
    ("species:S:1:pos:R:3:forces:R:1", "forces must be R:3"),
    ("species:S:1:pos:R:3:fragment:R:1", "fragment column 'fragment' must be I:1"),
])
def test_bad_properties(tmp_path, properties, match):
    read_error(write(tmp_path, GOOD + f"2\nProperties={properties} energy=1\nAr 0 0 0\nAr 0 0 3\n"), 6, match)


@pytest.mark.parametrize("energy", ["nan", "inf", "-Infinity"])
def test_non_finite_energy(tmp_path, energy):
    read_error(write(tmp_path, f"{GOOD}1\nProperties=species:S:1:pos:R:3 energy={energy}\nAr 0 0 0\n"), 6,
               f"energy={energy} is not finite")


def test_non_finite_energy_in_free_text(tmp_path):
    read_error(write(tmp_path, "1\nnan\nAr 0 0 0\n"), 2, "energy=nan is not finite")


def test_non_numeric_energy(tmp_path):
    read_error(write(tmp_path, "1\nProperties=species:S:1:pos:R:3 energy=low\nAr 0 0 0\n"), 2,
               "energy='low' is not a number")


def test_energy_key_without_value(tmp_path):
    """A bare ``energy`` flag is not energy 1.0."""
    read_error(write(tmp_path, "1\nProperties=species:S:1:pos:R:3 energy\nAr 0 0 0\n"), 2, "energy has no value")


def test_selected_energy_key_not_a_number(tmp_path):
    path = write(tmp_path, "1\nProperties=species:S:1:pos:R:3 energy=1 dft=n/a\nAr 0 0 0\n")
    read_error(path, 2, "dft='n/a' is not a number", ReadOptions(energy_key="dft"))


@pytest.mark.parametrize("weight", ["0", "-1", "heavy"])
def test_bad_weight(tmp_path, weight):
    read_error(write(tmp_path, f"1\nProperties=species:S:1:pos:R:3 energy=1 weight={weight}\nAr 0 0 0\n"), 2,
               "weight=")


def test_unbalanced_quote_in_extended_comment(tmp_path):
    """A broken extended-XYZ comment is an error, not silently read as a free-text comment without its cell."""
    path = write(tmp_path, '1\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 pbc="T T T\nAr 0 0 0\n')
    read_error(path, 2, "cannot parse this extended-XYZ comment line")


def test_pbc_without_lattice(tmp_path):
    read_error(write(tmp_path, '1\nProperties=species:S:1:pos:R:3 pbc="T T T"\nAr 0 0 0\n'), 2,
               "pbc='T T T' but no Lattice")


@pytest.mark.parametrize("lattice", ["5 0 0 0 5 0 0 0", "5 0 0 0 5 0 0 0 x", "5 0 0 0 5 0 0 0 nan"])
def test_bad_lattice(tmp_path, lattice):
    read_error(write(tmp_path, f'1\nLattice="{lattice}" Properties=species:S:1:pos:R:3\nAr 0 0 0\n'), 2,
               "must be 9 finite numbers")


@pytest.mark.parametrize("pbc", ["T T", "T T X", "yes yes yes"])
def test_bad_pbc(tmp_path, pbc):
    read_error(write(tmp_path, f'1\nLattice="5 0 0 0 5 0 0 0 5" pbc="{pbc}"\nAr 0 0 0\n'), 2,
               "must be three of T/F")


# ---------------------------------------------------------------- cells


@pytest.mark.parametrize("lattice,pbc", [
    ("5 0 0 5 0 0 0 0 5", "T T T"),  # two equal vectors
    ("5 0 0 0 5 0 0 0 0", "T T T"),  # zero vector along a periodic direction
    ("5 0 0 10 0 0 0 0 0", "T T F"),  # the two periodic vectors are parallel
    ("0 0 0 0 5 0 0 0 5", "T F F"),  # the only periodic vector is zero
])
def test_singular_cell_with_pbc(tmp_path, lattice, pbc):
    path = write(tmp_path, f'{GOOD}2\nLattice="{lattice}" pbc="{pbc}" energy=1\nAr 0 0 0\nAr 0 0 3\n')
    read_error(path, 6, f"the cell is singular along its periodic directions \\(pbc={pbc}\\)")


@pytest.mark.parametrize("lattice,pbc", [
    ("5 0 0 0 5 0 0 0 0", "T T F"),  # slab with a zero third vector
    ("5 0 0 1 5 0 0 0 0", "T T F"),
    ("0 0 0 0 0 0 0 0 7", "F F T"),  # wire
    ("0 0 0 0 0 0 0 0 0", "F F F"),
])
def test_cell_singular_only_along_non_periodic_directions_is_accepted(tmp_path, lattice, pbc):
    dataset = read_structures(write(tmp_path, f'2\nLattice="{lattice}" pbc="{pbc}" energy=1\nAr 0 0 0\nAr 0 0 3\n'))
    assert dataset.pbc[0].tolist() == [p == "T" for p in pbc.split()]


# ---------------------------------------------------------------- close contacts


def test_close_atoms_are_an_error_naming_both(tmp_path):
    path = write(tmp_path, GOOD + "3\nenergy=1\nAr 0 0 0\nAr 0 0 3\nXe 0 0.0005 3\n")
    dataset = read_structures(path)
    with pytest.raises(InputError, match=re.escape(f"{path}:8 (frame bad:1, atom 2 Ar) is 0.0005 Å from atom at "
                                                   f"{path}:9 (frame bad:1, atom 3 Xe)")):
        for _ in iter_pairs(dataset, None):
            pass


def test_close_periodic_image_is_an_error(tmp_path):
    path = write(tmp_path, '2\nLattice="5 0 0 0 5 0 0 0 5" energy=1\nAr 0 0 0\nXe 4.9995 0 0\n')
    with pytest.raises(InputError, match=re.escape(f"{path}:3 (frame bad, atom 1 Ar)") + ".*" + re.escape(
            f"from atom at {path}:4 (frame bad, atom 2 Xe)")):
        list(iter_pairs(read_structures(path), 3.0))


# ---------------------------------------------------------------- whole files


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"  "])
def test_empty_file(tmp_path, content):
    read_error(write(tmp_path, content), None, "file is empty")


@pytest.mark.parametrize("content", [bytes(range(256)), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
                                     b"\xff\xfe\xfd 1 2 3\n"])
def test_binary_file(tmp_path, content):
    read_error(write(tmp_path, content), None, "looks like a binary file, not XYZ text")


def test_missing_file(tmp_path):
    path = str(tmp_path / "nowhere.xyz")
    read_error(path, None, "cannot read: No such file or directory")
    with pytest.raises(InputError, match=f"^{re.escape(path)}: cannot read"):
        load_dataset([path])


def test_directory_instead_of_file(tmp_path):
    read_error(str(tmp_path), None, "cannot read")


def test_glob_matching_nothing(tmp_path):
    pattern = str(tmp_path / "*.extxyz")
    with pytest.raises(InputError, match=f"^{re.escape(pattern)}: no file matches this pattern"):
        expand_paths([pattern])
    with pytest.raises(InputError, match="no file matches"):
        load_dataset([pattern])


def test_no_input_files():
    with pytest.raises(InputError, match="no input files given"):
        expand_paths([])


# ---------------------------------------------------------------- dataset-level checks


def test_frame_without_energy(tmp_path):
    path = write(tmp_path, GOOD + "1\nProperties=species:S:1:pos:R:3 name=nothing\nAr 0 0 0\n")
    dataset = read_structures(path)
    with pytest.raises(InputError, match=f"^{re.escape(path)}: 1 frame\\(s\\) have no energy: nothing"):
        require_energies(dataset)


def test_headerless_file_has_no_energy(tmp_path):
    path = write(tmp_path, "Ar 0 0 0\nAr 0 0 3\n", "coords.txt")
    with pytest.raises(InputError, match=f"^{re.escape(path)}: 1 frame\\(s\\) have no energy: coords"):
        require_energies(read_structures(path))


def test_duplicate_names_across_files(tmp_path):
    first = write(tmp_path, '1\nProperties=species:S:1:pos:R:3 energy=1 name="same"\nAr 0 0 0\n', "a.extxyz")
    second = write(tmp_path, '1\nProperties=species:S:1:pos:R:3 energy=2 name=same\nAr 0 0 0\n', "b.extxyz")
    with pytest.raises(InputError, match=f"^{re.escape(second)}: frame name 'same' is used twice "
                                         f"\\(also in {re.escape(first)}\\)"):
        load_dataset([first, second])


def test_duplicate_names_in_one_file(tmp_path):
    frame = '1\nProperties=species:S:1:pos:R:3 energy=1 name="dup"\nAr 0 0 0\n'
    path = write(tmp_path, frame + frame)
    with pytest.raises(InputError, match=f"^{re.escape(path)}: frame name 'dup' is used twice"):
        load_dataset([path])


def test_same_file_twice(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(InputError, match="frame name 'bad' is used twice"):
        load_dataset([path, path])


@pytest.mark.parametrize("split,frame,atoms", [(2, 1, 2), (3, 0, 3), (5, 0, 3)])
def test_fragment_split_larger_than_a_frame(tmp_path, split, frame, atoms):
    path = write(tmp_path, "3\n-1\nAr 0 0 0\nAr 0 0 4\nAr 0 0 8\n2\n-1\nAr 0 0 0\nAr 0 0 4\n")
    with pytest.raises(InputError, match=f"^--fragment-split {split}: frame bad:{frame} \\({re.escape(path)}\\) "
                                         f"has only {atoms} atoms"):
        load_dataset([path], DataOptions(fragment_split=split))


# ---------------------------------------------------------------- --type-key and fragments


def test_type_key_not_a_column(tmp_path):
    read_error(write(tmp_path, GOOD), 2, "--type-key 'type' is not a string column", ReadOptions(type_key="type"))


def test_type_key_not_a_string_column(tmp_path):
    path = write(tmp_path, "1\nProperties=species:S:1:pos:R:3:type:I:1\nAr 0 0 0 1\n")
    read_error(path, 2, "--type-key 'type' is not a string column", ReadOptions(type_key="type"))


@pytest.mark.parametrize("text,line", [("1\nenergy=1\nAr 0 0 0\n", 2), ("1\nfree text\nAr 0 0 0\n", 2),
                                       ("Ar 0 0 0\n", 1)])
@pytest.mark.parametrize("options", [ReadOptions(type_key="type"), ReadOptions(fragment_key="mol")])
def test_column_keys_on_plain_files(tmp_path, text, line, options):
    """Plain and headerless files have no columns to name: an InputError, not a KeyError."""
    read_error(write(tmp_path, text), line, "names a Properties= column, but this frame has no Properties=", options)


def test_fragment_key_not_a_column(tmp_path):
    read_error(write(tmp_path, GOOD), 2, "--fragment-key 'mol' is not a column", ReadOptions(fragment_key="mol"))


def test_fragment_column_in_some_frames_only(tmp_path):
    with_fragments = "2\nProperties=species:S:1:pos:R:3:fragment:I:1 energy=1\nAr 0 0 0 0\nAr 0 0 3 1\n"
    read_error(write(tmp_path, with_fragments + GOOD), 6, "this frame has no 'fragment' column but other frames")


def test_fragment_column_in_some_files_only(tmp_path):
    first = write(tmp_path, "2\nProperties=species:S:1:pos:R:3:fragment:I:1 energy=1\nAr 0 0 0 0\nAr 0 0 3 1\n",
                  "with.extxyz")
    second = write(tmp_path, GOOD, "without.xyz")
    with pytest.raises(InputError, match=f"^{re.escape(second)}: has no fragment column but other inputs do"):
        load_dataset([first, second])


def test_unknown_property_columns_of_other_types_are_kept(tmp_path):
    """Not an error: columns ljfit does not use are read and kept (a sanity check for the error tests above)."""
    path = write(tmp_path, "1\nProperties=species:S:1:pos:R:3:fixed:L:1:tag:I:1:m:R:2:note:S:1\nAr 0 0 0 T 3 1 2 x\n")
    dataset = read_structures(path)
    assert dataset.extra["tag"].tolist() == [3]
    assert np.array_equal(dataset.extra["m"], [[1.0, 2.0]])
    assert dataset.extra["note"].tolist() == ["x"]


def test_nul_byte_far_into_a_file_is_named(tmp_path):
    """A NUL byte past the first 64 KiB: an error naming its line (a label ending in NUL would lose it)."""
    frames = "".join(f"1\nenergy={k}\nAr 0 0 0\n" for k in range(8000))  # 3 lines a frame, > 64 KiB
    read_error(write(tmp_path, frames + "1\nenergy=1\nH\0 1.0 2.0 3.0\n"), 24003, "NUL byte in the text")
