"""The structure reader against ASE (an independent extended-XYZ reader) and the plain formats it accepts.

ASE writes the files and reads them back; our reader must give bit-identical arrays to ASE's reading of the
same text (both parse the same decimals, so np.array_equal, never allclose).
"""
import io
import sys

import ase.io as ase_io
import ase.units
import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from fitcore.errors import InputError
from fitcore.io.inputs import DataOptions, load_dataset
from fitcore.io.xyz import ReadOptions, read_structures
from fitcore.units import ENERGY_UNITS, LENGTH_UNITS

CELLS = {  # pbc, cell rows
    "triclinic": ((True, True, True), [[9.5, 0.0, 0.0], [1.7, 8.9, 0.0], [-0.6, 1.3, 10.4]]),
    "slab": ((True, True, False), [[8.0, 0.0, 0.0], [2.5, 7.5, 0.0], [0.0, 0.0, 0.0]]),
    "slab_with_height": ((True, True, False), [[8.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 20.0]]),
    "wire": ((False, False, True), [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.3, -0.2, 6.0]]),
    "isolated": ((False, False, False), np.zeros((3, 3))),
    "isolated_with_cell": ((False, False, False), [[12.0, 0.0, 0.0], [0.0, 12.0, 0.0], [0.0, 0.0, 12.0]]),
}


def ase_frame(rng: np.random.Generator, kind: str, n_atoms: int, index: int, forces: bool = True) -> Atoms:
    pbc, cell = CELLS[kind]
    atoms = Atoms(symbols=rng.choice(["Ar", "Kr", "Xe", "Ne"], n_atoms), positions=rng.normal(0, 4, (n_atoms, 3)),
                  cell=cell, pbc=pbc)
    atoms.arrays["type"] = np.array([f"{s}_{'ab'[i % 2]}" for i, s in enumerate(atoms.get_chemical_symbols())])
    atoms.arrays["fragment"] = np.arange(n_atoms) % 3
    atoms.arrays["score"] = rng.normal(0, 1, n_atoms)
    atoms.info["name"] = f"{kind} frame {index}"
    atoms.info["REF_energy"] = float(rng.normal(-5, 1))
    atoms.info["note"] = "a value with spaces"
    atoms.info["step"] = index
    atoms.calc = SinglePointCalculator(atoms, energy=float(rng.normal(-3, 2)),
                                       forces=rng.normal(0, 0.5, (n_atoms, 3)) if forces else None)
    return atoms


@pytest.fixture
def ase_file(tmp_path, rng):
    frames = [ase_frame(rng, kind, 3 + k, k) for k, kind in enumerate(CELLS)]
    path = tmp_path / "ase_frames.extxyz"
    ase_io.write(path, frames, format="extxyz")
    return path


def ase_read(path) -> list[Atoms]:
    return ase_io.read(path, index=":", format="extxyz")


def labels(names, index) -> np.ndarray:
    return np.array(names)[index]


def assert_matches_ase(dataset, frames: list[Atoms]) -> None:
    assert dataset.n_frames == len(frames)
    assert np.array_equal(dataset.atoms_per_frame, [len(a) for a in frames])
    assert np.array_equal(dataset.positions, np.concatenate([a.positions for a in frames]))
    assert np.array_equal(dataset.cells, np.stack([a.cell.array for a in frames]))
    assert np.array_equal(dataset.pbc, np.stack([a.pbc for a in frames]))
    assert np.array_equal(dataset.energies, [a.get_potential_energy() for a in frames])
    assert np.array_equal(labels(dataset.species_names, dataset.species_index),
                          np.concatenate([a.get_chemical_symbols() for a in frames]))


def test_extxyz_matches_ase_exactly(ase_file):
    frames = ase_read(ase_file)
    dataset = read_structures(str(ase_file))
    assert_matches_ase(dataset, frames)
    assert np.array_equal(dataset.forces, np.concatenate([a.get_forces() for a in frames]))
    assert np.array_equal(dataset.fragments, np.concatenate([a.arrays["fragment"] for a in frames]))
    assert np.array_equal(dataset.extra["score"], np.concatenate([a.arrays["score"] for a in frames]))
    assert np.array_equal(dataset.extra["type"], np.concatenate([a.arrays["type"] for a in frames]))
    assert dataset.names == tuple(a.info["name"] for a in frames)
    assert dataset.type_names == dataset.species_names  # types are species unless --type-key
    assert np.array_equal(dataset.weights, np.ones(len(frames)))
    assert dataset.sources == (str(ase_file),) * len(frames)
    assert np.array_equal(dataset.first_atom_line, np.cumsum([0] + [len(a) + 2 for a in frames[:-1]]) + 3)
    for info, atoms in zip(dataset.info, frames):
        assert info["note"] == atoms.info["note"] == "a value with spaces"
        assert int(info["step"]) == atoms.info["step"]
        assert float(info["REF_energy"]) == atoms.info["REF_energy"]


@pytest.mark.parametrize("name", ["oracle_cubic", "oracle_slab"])
def test_oracle_files_match_ase_exactly(data_dir, name):
    path = data_dir / f"{name}.extxyz"
    frames = ase_read(path)
    dataset = read_structures(str(path))
    assert_matches_ase(dataset, frames)
    assert np.array_equal(dataset.forces, np.concatenate([a.get_forces() for a in frames]))
    assert [info["config"] for info in dataset.info] == [a.info["config"] for a in frames]


def test_slab_with_zero_third_vector_is_read(ase_file):
    dataset = read_structures(str(ase_file))
    slab = dataset.names.index("slab frame 1")
    assert dataset.pbc[slab].tolist() == [True, True, False]
    assert np.array_equal(dataset.cells[slab, 2], np.zeros(3))


def test_type_key_gives_types_from_that_column(ase_file):
    frames = ase_read(ase_file)
    dataset = read_structures(str(ase_file), ReadOptions(type_key="type"))
    expected = np.concatenate([a.arrays["type"] for a in frames])
    assert np.array_equal(labels(dataset.type_names, dataset.type_index), expected)
    assert dataset.type_names == tuple(sorted(set(expected)))
    assert "type" not in dataset.extra
    assert np.array_equal(labels(dataset.species_names, dataset.species_index),
                          np.concatenate([a.get_chemical_symbols() for a in frames]))


def test_energy_key_is_selectable(ase_file):
    frames = ase_read(ase_file)
    dataset = read_structures(str(ase_file), ReadOptions(energy_key="REF_energy"))
    assert np.array_equal(dataset.energies, [a.info["REF_energy"] for a in frames])
    assert all("REF_energy" not in info for info in dataset.info)


def test_fragment_key_selects_another_integer_column(tmp_path, rng):
    atoms = ase_frame(rng, "triclinic", 6, 0)
    atoms.arrays["molecule"] = np.array([0, 0, 1, 1, 2, 2])
    path = tmp_path / "mol.extxyz"
    ase_io.write(path, atoms, format="extxyz")
    dataset = read_structures(str(path), ReadOptions(fragment_key="molecule"))
    assert np.array_equal(dataset.fragments, [0, 0, 1, 1, 2, 2])
    assert np.array_equal(dataset.extra["fragment"], atoms.arrays["fragment"])


def test_frames_with_and_without_forces(tmp_path, rng):
    """Frames of one file may differ in their columns; frames without forces get NaN forces."""
    frames = [ase_frame(rng, "triclinic", 4, 0), ase_frame(rng, "isolated", 3, 1, forces=False),
              ase_frame(rng, "slab", 5, 2)]
    path = tmp_path / "mixed.extxyz"
    ase_io.write(path, frames, format="extxyz")
    back = ase_read(path)
    dataset = read_structures(str(path))
    assert_matches_ase(dataset, back)
    assert dataset.has_forces.tolist() == [True, False, True]
    assert np.array_equal(dataset.forces[:4], back[0].get_forces())
    assert np.all(np.isnan(dataset.forces[4:7]))
    assert np.array_equal(dataset.forces[7:], back[2].get_forces())


def test_frame_names(tmp_path):
    one = tmp_path / "single.xyz"
    one.write_text("2\nenergy=-1.5\nAr 0 0 0\nAr 0 0 3.5\n")
    many = tmp_path / "traj.data.xyz"
    many.write_text("1\n-1\nAr 0 0 0\n" * 3)
    named = tmp_path / "named.extxyz"
    named.write_text('1\nProperties=species:S:1:pos:R:3 name="first one"\nAr 0 0 0\n'
                     "1\nProperties=species:S:1:pos:R:3\nAr 0 0 0\n")
    assert read_structures(str(one)).names == ("single",)
    assert read_structures(str(many)).names == ("traj.data:0", "traj.data:1", "traj.data:2")
    assert read_structures(str(named)).names == ("first one", "named:1")


# ---------------------------------------------------------------- plain and headerless XYZ


@pytest.mark.parametrize("comment,energy", [
    ("energy=-1.5", -1.5),
    ("-1.5", -1.5),
    ("  -2.25e1  ", -22.5),
    ("step 7 energy = -1.5 eV", -1.5),
    ("Energy: -1.5", -1.5),
    ("generated by hand", None),
    ("", None),
])
def test_plain_xyz_comment_energy(tmp_path, comment, energy):
    path = tmp_path / "plain.xyz"
    path.write_text(f"2\n{comment}\nAr 0.0 0.0 0.0\nKr 0.0 0.5 3.75\n")
    dataset = read_structures(str(path))
    assert dataset.energies[0] == energy if energy is not None else np.isnan(dataset.energies[0])
    assert np.array_equal(dataset.positions, [[0.0, 0.0, 0.0], [0.0, 0.5, 3.75]])
    assert dataset.species_names == ("Ar", "Kr")
    assert not dataset.pbc.any() and not dataset.cells.any()


def test_plain_xyz_ignores_further_columns(tmp_path):
    """Without Properties= the rows are El x y z; further columns (velocities, charges) are ignored, as in ASE."""
    path = tmp_path / "plain.xyz"
    path.write_text("2\nenergy=-1.5\nAr 0 0 0 0.1 0.2 0.3\nAr 0 0 3.5 x y z\n")
    dataset = read_structures(str(path))
    assert dataset.energies.tolist() == [-1.5]
    assert np.array_equal(dataset.positions, [[0, 0, 0], [0, 0, 3.5]])
    assert dataset.forces is None


def test_headerless_savetxt_file(tmp_path, rng):
    symbols = rng.choice(["Ar", "Xe"], 7)
    positions = rng.normal(0, 5, (7, 3))
    rows = np.empty(7, dtype=[("El", "U2"), ("x", "f8"), ("y", "f8"), ("z", "f8")])
    rows["El"], rows["x"], rows["y"], rows["z"] = symbols, *positions.T
    path = tmp_path / "coords.txt"
    np.savetxt(path, rows, fmt=["%s", "%.17g", "%.17g", "%.17g"])
    dataset = read_structures(str(path))
    assert dataset.names == ("coords",)
    assert np.array_equal(dataset.positions, positions)
    assert np.array_equal(labels(dataset.species_names, dataset.species_index), symbols)
    assert np.isnan(dataset.energies).all()
    assert dataset.first_atom_line.tolist() == [1]


def test_headerless_leading_and_trailing_blank_lines(tmp_path):
    path = tmp_path / "coords.txt"
    path.write_text("\n\nAr 0 0 0\nXe 0 0 3.5\n\n\n")
    dataset = read_structures(str(path))
    assert np.array_equal(dataset.positions, [[0, 0, 0], [0, 0, 3.5]])
    assert dataset.first_atom_line.tolist() == [3]


# ---------------------------------------------------------------- bytes-level variations


def test_windows_line_endings(ase_file):
    crlf = ase_file.with_name("crlf.extxyz")
    crlf.write_bytes(ase_file.read_bytes().replace(b"\n", b"\r\n"))
    frames = ase_read(ase_file)
    dataset = read_structures(str(crlf), ReadOptions(type_key="type"))
    assert_matches_ase(dataset, frames)
    assert np.array_equal(labels(dataset.type_names, dataset.type_index),
                          np.concatenate([a.arrays["type"] for a in frames]))  # no "\r" in the last column
    assert dataset.names == tuple(a.info["name"] for a in frames)
    assert dataset.info[0]["note"] == "a value with spaces"


def test_plain_windows_line_endings(tmp_path):
    path = tmp_path / "plain.xyz"
    path.write_bytes(b"2\r\n-1.5\r\nAr 0 0 0\r\nAr 0 0 3.5\r\n")
    dataset = read_structures(str(path))
    assert dataset.energies.tolist() == [-1.5]
    assert np.array_equal(dataset.positions, [[0, 0, 0], [0, 0, 3.5]])


def test_file_without_trailing_newline(ase_file):
    text = ase_file.read_bytes()
    assert text.endswith(b"\n")
    cut = ase_file.with_name("cut.extxyz")
    cut.write_bytes(text.rstrip(b"\n"))
    frames = ase_read(ase_file)
    dataset = read_structures(str(cut))
    assert_matches_ase(dataset, frames)
    assert np.array_equal(dataset.forces, np.concatenate([a.get_forces() for a in frames]))


@pytest.mark.parametrize("text", ["1\nenergy=2\nAr 0 0 0", "Ar 0 0 0", "2\nenergy=2\nAr 0 0 0\r\nAr 0 0 4\r"])
def test_short_files_without_trailing_newline(tmp_path, text):
    path = tmp_path / "short.xyz"
    path.write_text(text)
    dataset = read_structures(str(path))
    assert np.array_equal(dataset.positions[0], [0, 0, 0])


@pytest.mark.parametrize("text,line", [("1\nenergy=1\nAr 0 0 0\n", 3), ("Ar 0 0 0\n", 1)])
def test_utf8_byte_order_mark(tmp_path, text, line):
    path = tmp_path / "bom.xyz"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    dataset = read_structures(str(path))
    assert dataset.species_names == ("Ar",) and dataset.first_atom_line.tolist() == [line]


class FakeStdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_stdin(monkeypatch, ase_file):
    monkeypatch.setattr(sys, "stdin", FakeStdin(ase_file.read_bytes()))
    dataset = read_structures("-")
    assert_matches_ase(dataset, ase_read(ase_file))
    assert set(dataset.sources) == {"<stdin>"}


def test_stdin_names_and_errors(monkeypatch):
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"1\n\nAr 0 0 0\n1\n\nAr 0 0 0\n"))
    assert read_structures("-").names == ("stdin:0", "stdin:1")
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"1\n\nAr 0 0 zero\n"))
    with pytest.raises(InputError, match=r"^<stdin>:3: pos value 'zero' is not a number"):
        read_structures("-")


def test_unit_conversion(tmp_path):
    path = tmp_path / "nm.extxyz"
    path.write_text('2\nLattice="2 0 0 0.1 2 0 0 0 3" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.5 '
                    'pbc="T T T"\nAr 0.1 0.2 0.3 1.0 -2.0 0.5\nAr 0.5 0.6 0.7 -1.0 2.0 -0.5\n')
    raw = read_structures(str(path))
    nm, kcal = LENGTH_UNITS["nm"], ENERGY_UNITS["kcal/mol"]
    dataset = read_structures(str(path), ReadOptions(length_unit="nm", energy_unit="kcal/mol"))
    np.testing.assert_allclose(dataset.positions, raw.positions * nm, rtol=1e-15, atol=0)
    np.testing.assert_allclose(dataset.cells, raw.cells * nm, rtol=1e-15, atol=0)
    np.testing.assert_allclose(dataset.energies, raw.energies * kcal, rtol=1e-15, atol=0)
    np.testing.assert_allclose(dataset.forces, raw.forces * kcal / nm, rtol=1e-15, atol=0)
    assert nm == 10.0
    assert kcal == pytest.approx(ase.units.kcal / ase.units.mol, rel=1e-7)  # ASE: CODATA 2014


def test_unknown_unit_is_an_error(tmp_path):
    path = tmp_path / "a.xyz"
    path.write_text("1\n\nAr 0 0 0\n")
    with pytest.raises(ValueError, match="unknown length unit 'furlong'"):
        read_structures(str(path), ReadOptions(length_unit="furlong"))


def test_utf8_labels(tmp_path):
    """Non-ASCII labels are read as UTF-8 (a UTF-8 byte such as 0xa0 is not a column separator)."""
    path = tmp_path / "utf8.extxyz"
    path.write_text("2\nProperties=species:S:1:pos:R:3:type:S:1\nAr 0 0 0 Ar_b\nAr 0 0 3.5 Ar_a\n"
                    "2\nProperties=species:S:1:pos:R:3:type:S:1:note:S:1\nAr 0 0 0 Ar_à\u00a0 x\nAr 0 0 3 Ar_b ü\n",
                    encoding="utf-8")  # the second frame (another layout) has a non-breaking space after its label
    dataset = read_structures(str(path), ReadOptions(type_key="type"))
    assert dataset.type_names == ("Ar_a", "Ar_b", "Ar_à")
    assert labels(dataset.type_names, dataset.type_index).tolist() == ["Ar_b", "Ar_a", "Ar_à", "Ar_b"]


def test_long_labels(tmp_path):
    label = "X" * 40
    path = tmp_path / "long.extxyz"
    path.write_text(f"2\nProperties=species:S:1:pos:R:3:type:S:1\nAr 0 0 0 {label}\nAr 0 0 3.5 b\n")
    dataset = read_structures(str(path), ReadOptions(type_key="type"))
    assert dataset.type_names == (label, "b")


def test_extra_column_with_different_layouts_is_dropped(tmp_path):
    """An extra column whose type or count differs between frames is not kept (it cannot be one array)."""
    path = tmp_path / "layouts.extxyz"
    path.write_text("1\nProperties=species:S:1:pos:R:3:q:R:1:m:I:1\nAr 0 0 0 0.5 1\n"
                    "1\nProperties=species:S:1:pos:R:3:q:R:3:m:I:1\nAr 0 0 0 1 2 3 2\n")
    dataset = read_structures(str(path))
    assert set(dataset.extra) == {"m"}
    assert dataset.extra["m"].tolist() == [1, 2]


def test_weight_key(tmp_path):
    path = tmp_path / "w.extxyz"
    path.write_text("1\nProperties=species:S:1:pos:R:3 energy=1 weight=2.5\nAr 0 0 0\n"
                    "1\nProperties=species:S:1:pos:R:3 energy=1\nAr 0 0 0\n")
    assert read_structures(str(path)).weights.tolist() == [2.5, 1.0]


# ---------------------------------------------------------------- several files


def test_load_dataset_concatenates_files_and_globs(tmp_path, rng):
    for k, kind in enumerate(["triclinic", "isolated"]):
        atoms = ase_frame(rng, kind, 3 + k, k)
        del atoms.arrays["fragment"]  # a fragment column in some inputs only is an error (test_reader_errors)
        ase_io.write(tmp_path / f"part{k}.extxyz", atoms, format="extxyz")
    (tmp_path / "plain.xyz").write_text("1\n-2\nHe 0 0 0\n")
    dataset = load_dataset([str(tmp_path / "part*.extxyz"), str(tmp_path / "plain.xyz")])
    frames = ase_read(tmp_path / "part0.extxyz") + ase_read(tmp_path / "part1.extxyz")
    assert dataset.names == ("triclinic frame 0", "isolated frame 1", "plain")
    assert np.array_equal(dataset.positions[:7], np.concatenate([a.positions for a in frames]))
    assert dataset.energies[2] == -2.0
    assert labels(dataset.species_names, dataset.species_index)[-1] == "He"
    assert dataset.sources[-1] == str(tmp_path / "plain.xyz")
    assert np.all(np.isnan(dataset.forces[7:]))


def test_load_dataset_keeps_extra_columns_all_files_agree_on(tmp_path):
    (tmp_path / "a.extxyz").write_text("1\nProperties=species:S:1:pos:R:3:q:R:1:m:R:2\nAr 0 0 0 0.5 1 2\n")
    (tmp_path / "b.extxyz").write_text("1\nProperties=species:S:1:pos:R:3:q:R:3:m:R:2\nAr 0 0 0 1 2 3 4 5\n")
    dataset = load_dataset([str(tmp_path / "a.extxyz"), str(tmp_path / "b.extxyz")])
    assert set(dataset.extra) == {"m"}
    assert np.array_equal(dataset.extra["m"], [[1, 2], [4, 5]])


def test_fragment_split(tmp_path):
    path = tmp_path / "dimer.xyz"
    path.write_text("3\n-1\nAr 0 0 0\nAr 0 0 4\nAr 0 0 8\n2\n-1\nAr 0 0 0\nAr 0 0 4\n")
    dataset = load_dataset([str(path)], DataOptions(fragment_split=1))
    assert dataset.fragments.tolist() == [0, 1, 1, 0, 1]


def test_a_unit_named_in_free_text_comments_is_checked(tmp_path):
    from fitcore.errors import LjfitWarning
    path = tmp_path / "ha.xyz"
    path.write_text("2\nE(Ha) -0.0123\nAr 0 0 0\nAr 0 0 3.8\n2\nE(Ha) -0.0124\nAr 0 0 0\nAr 0 0 3.9\n")
    with pytest.warns(LjfitWarning, match="comments give energies in hartree, but they are read as eV") as caught:
        read_structures(str(path))
    assert len(caught) == 1  # once per file, not per frame
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = read_structures(str(path), ReadOptions(energy_unit="hartree"))
    assert data.energies[0] == pytest.approx(-0.0123 * 27.211386245988)
