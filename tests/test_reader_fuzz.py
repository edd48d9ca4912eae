"""Property tests for the structure reader (hypothesis, derandomized so CI sees the same examples every run).

(a) whatever the bytes, ``read_structures`` returns a Dataset or raises InputError, nothing else;
(b) structures written in ASE's extended-XYZ layout by a writer of our own come back exactly;
(c) the result does not depend on the spacing between columns or on trailing whitespace.
"""
from dataclasses import dataclass

import ase.io as ase_io
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fitcore.dataset import Dataset
from fitcore.errors import InputError
from fitcore.io.xyz import ReadOptions, read_structures

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
ROUND_TRIP = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

SPECIES = ["H", "He", "Ar", "Kr", "Xe"]
TYPES = ["a", "b", "Ar_1", "Ar_2"]
OPTIONS = [ReadOptions(), ReadOptions(type_key="type"), ReadOptions(fragment_key="fragment"),
           ReadOptions(energy_key="REF_energy"), ReadOptions(length_unit="nm", energy_unit="kcal/mol")]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One file that every example overwrites (hypothesis runs many examples per test function)."""
    return tmp_path_factory.mktemp("fuzz") / "input.extxyz"


def read_bytes_as_file(scratch, data: bytes, options: ReadOptions = ReadOptions()) -> Dataset | None:
    scratch.write_bytes(data)
    try:
        dataset = read_structures(str(scratch), options)
    except InputError as err:
        assert str(scratch) in str(err) or "--" in str(err), f"message does not name the file: {err}"
        return None
    check_consistent(dataset)
    return dataset


def check_consistent(d: Dataset) -> None:
    """What any returned Dataset must satisfy, however odd its input."""
    n_frames, n_atoms = d.n_frames, d.n_atoms
    assert n_frames >= 1 and n_atoms >= n_frames
    assert d.frame_offsets[0] == 0 and d.frame_offsets[-1] == n_atoms and np.all(np.diff(d.frame_offsets) > 0)
    assert d.positions.shape == (n_atoms, 3) and np.isfinite(d.positions).all()
    assert d.cells.shape == (n_frames, 3, 3) and d.pbc.shape == (n_frames, 3)
    assert d.energies.shape == d.weights.shape == (n_frames,) and np.all(d.weights > 0)
    assert not np.isinf(d.energies).any()
    assert len(d.names) == len(d.sources) == len(d.info) == len(d.first_atom_line) == n_frames
    assert 0 <= d.species_index.min() and d.species_index.max() < len(d.species_names)
    assert 0 <= d.type_index.min() and d.type_index.max() < len(d.type_names)
    assert all(isinstance(n, str) for n in d.names + d.species_names + d.type_names)


# ---------------------------------------------------------------- (a) arbitrary input

VALID = ('2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3:forces:R:3:type:S:1:fragment:I:1 '
         'energy=-1.5 REF_energy=2 name="a b" pbc="T T F"\nAr 0 0 0 0.1 0.2 0.3 a 0\nXe 0 0 3.5 0 0 0 b 1\n'
         '1\nProperties=species:S:1:pos:R:3:type:S:1:fragment:I:1 energy=1 REF_energy=3\nKr 1 2 3 c 0\n')
VALID_PLAIN = "1\n-2.5\nAr 1 2 3\n2\nstep 2 energy=-3\nAr 0 0 0 0.5 x\nXe 0 0 4\n"
TOKENS = ["\n", "\r\n", "\r", " ", "  ", "\t", "0", "1", "2", "3", "-1.5", "1e300", "1e999", "nan", "inf", "-",
          ".", "e", "Ar", "Xe", "Å", "\xa0", "\x85", "\x00", "\xff", "=", '"', "\\", "{", "}", ":",
          "energy=", "energy", "name=", "weight=", "pbc=", '"T T T"', '"T T F"', "T", "F", "Lattice=",
          '"5 0 0 0 5 0 0 0 5"', '"5 0 0 0 5 0 0 0 0"', "Properties=", "species:S:1:pos:R:3",
          ":forces:R:3", ":type:S:1", ":fragment:I:1", ":x:L:1", ":q:R:2", "species:S:1:pos:R:3:forces:R:3"]
xyz_like_text = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)


@st.composite
def mutated_valid(draw) -> bytes:
    """VALID with a few byte-level edits: deletions, insertions, replacements, duplicated spans."""
    data = bytearray(draw(st.sampled_from([VALID, VALID_PLAIN])).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        piece = draw(st.sampled_from([t.encode() for t in TOKENS]) | st.binary(min_size=1, max_size=3))
        if edit == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        elif edit == "insert":
            data[at:at] = piece
        elif edit == "replace":
            data[at:at + len(piece)] = piece
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 30))]
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=300), options=st.sampled_from(OPTIONS))
def test_any_bytes(scratch, data, options):
    read_bytes_as_file(scratch, data, options)


@FUZZ
@given(text=st.text(max_size=200), options=st.sampled_from(OPTIONS))
def test_any_text(scratch, text, options):
    read_bytes_as_file(scratch, text.encode("utf-8", errors="surrogatepass"), options)


@FUZZ
@given(text=xyz_like_text, options=st.sampled_from(OPTIONS))
def test_xyz_like_text(scratch, text, options):
    read_bytes_as_file(scratch, text.encode("utf-8"), options)


@FUZZ
@given(data=mutated_valid(), options=st.sampled_from(OPTIONS))
def test_mutated_valid_file(scratch, data, options):
    read_bytes_as_file(scratch, data, options)


def test_valid_seed_file_is_valid(scratch):
    """The seeds of test_mutated_valid_file read (else mutations test nothing)."""
    for options in OPTIONS:
        assert read_bytes_as_file(scratch, VALID.encode(), options) is not None
    for options in (OPTIONS[0], OPTIONS[3], OPTIONS[4]):
        assert read_bytes_as_file(scratch, VALID_PLAIN.encode(), options) is not None


# ---------------------------------------------------------------- (b) exact round trip


@dataclass
class Frame:
    species: list[str]
    positions: np.ndarray  # [n, 3]
    cell: np.ndarray | None  # [3, 3] or None for no Lattice
    pbc: tuple[bool, bool, bool]
    energy: float | None
    forces: np.ndarray | None
    types: list[str] | None
    name: str | None


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
name_text = st.text(st.sampled_from('ab Z09_-."\\=,:'), max_size=12)


@st.composite
def frames(draw, with_types: bool) -> Frame:
    n = draw(st.integers(1, 6))
    species = draw(st.lists(st.sampled_from(SPECIES), min_size=n, max_size=n))
    positions = np.array(draw(st.lists(finite, min_size=3 * n, max_size=3 * n))).reshape(n, 3)
    pbc = draw(st.sampled_from([(False,) * 3, (True,) * 3, (True, True, False), (False, False, True)]))
    cell = None
    if any(pbc) or draw(st.booleans()):
        lengths = draw(st.lists(st.floats(2.0, 100.0), min_size=3, max_size=3))
        tilt = draw(st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3))
        cell = np.diag(lengths)
        cell[1, 0], cell[2, 0], cell[2, 1] = tilt
        for axis in range(3):  # a zero vector along a non-periodic direction, as ASE writes slabs
            if not pbc[axis] and draw(st.booleans()):
                cell[axis] = 0.0
    energy = draw(st.none() | finite)
    forces = np.array(draw(st.lists(finite, min_size=3 * n, max_size=3 * n))).reshape(n, 3) \
        if draw(st.booleans()) else None
    types = draw(st.lists(st.sampled_from(TYPES), min_size=n, max_size=n)) if with_types else None
    return Frame(species, positions, cell, pbc, energy, forces, types, draw(st.none() | name_text))


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_extxyz(frames: list[Frame]) -> str:
    """Extended XYZ laid out as ``ase.io.write`` does, but with repr() numbers so that values survive exactly."""
    out = []
    for f in frames:
        properties = "species:S:1:pos:R:3" + (":forces:R:3" if f.forces is not None else "") \
            + (":type:S:1" if f.types is not None else "")
        comment = []
        if f.cell is not None:
            comment.append("Lattice=" + quote(" ".join(repr(float(v)) for v in f.cell.ravel())))
        comment.append(f"Properties={properties}")
        if f.energy is not None:
            comment.append(f"energy={f.energy!r}")
        if f.name is not None:
            comment.append(f"name={quote(f.name)}")
        comment.append("pbc=" + quote(" ".join("T" if p else "F" for p in f.pbc)))
        out.append(f"{len(f.species)}\n{' '.join(comment)}\n")
        for k, symbol in enumerate(f.species):
            row = [f"{symbol:<2}"] + [f"{float(v)!r:>24}" for v in f.positions[k]]
            if f.forces is not None:
                row += [f"{float(v)!r:>24}" for v in f.forces[k]]
            if f.types is not None:
                row.append(f.types[k])
            out.append(" ".join(row) + "\n")
    return "".join(out)


def assert_read_back(dataset: Dataset, frames: list[Frame], stem: str) -> None:
    assert dataset.atoms_per_frame.tolist() == [len(f.species) for f in frames]
    assert np.array_equal(dataset.positions, np.concatenate([f.positions for f in frames]))
    assert np.array_equal(dataset.cells, np.stack([f.cell if f.cell is not None else np.zeros((3, 3))
                                                   for f in frames]))
    assert dataset.pbc.tolist() == [list(f.pbc) for f in frames]
    assert np.array_equal(dataset.energies, [np.nan if f.energy is None else f.energy for f in frames],
                          equal_nan=True)
    assert np.array_equal(np.array(dataset.species_names)[dataset.species_index],
                          np.concatenate([f.species for f in frames]))
    if frames[0].types is not None:
        assert np.array_equal(np.array(dataset.type_names)[dataset.type_index],
                              np.concatenate([f.types for f in frames]))
    expected_forces = [f.forces if f.forces is not None else np.full((len(f.species), 3), np.nan) for f in frames]
    if all(f.forces is None for f in frames):
        assert dataset.forces is None
    else:
        assert np.array_equal(dataset.forces, np.concatenate(expected_forces), equal_nan=True)
    default = [stem if len(frames) == 1 else f"{stem}:{k}" for k in range(len(frames))]
    assert dataset.names == tuple(f.name if f.name is not None else d for f, d in zip(frames, default))


@ROUND_TRIP
@given(st.booleans().flatmap(lambda types: st.lists(frames(types), min_size=1, max_size=4)))
def test_generated_structures_round_trip(scratch, frames):
    scratch.write_text(write_extxyz(frames))
    with_types = frames[0].types is not None
    dataset = read_structures(str(scratch), ReadOptions(type_key="type" if with_types else None))
    check_consistent(dataset)
    assert_read_back(dataset, frames, scratch.stem)


@ROUND_TRIP
@given(frames=st.lists(frames(False), min_size=1, max_size=3))
def test_generated_structures_round_trip_through_ase(scratch, frames):
    """The writer above is ASE's format: ASE reads its files to the same values.

    Not with ``name=""``: ASE 3.29 then takes the rest of the line as the name (and loses pbc); we read "".
    """
    assume(all(f.name != "" for f in frames))
    scratch.write_text(write_extxyz(frames))
    back = ase_io.read(str(scratch), index=":", format="extxyz")
    assert np.array_equal(np.concatenate([a.positions for a in back]), np.concatenate([f.positions for f in frames]))
    assert [a.pbc.tolist() for a in back] == [list(f.pbc) for f in frames]


# ---------------------------------------------------------------- (c) whitespace invariance


@st.composite
def respaced(draw, text: str) -> str:
    """``text`` with every run of spaces in atom and count lines widened, and trailing whitespace added."""
    gaps = st.sampled_from([" ", "  ", "\t", " \t ", "     "])
    lines = text.split("\n")
    out = []
    for line in lines:
        if "=" in line or not line:  # comment lines keep their quoted values intact
            out.append(line)
            continue
        tokens = line.split()
        lead, trail = draw(st.sampled_from(["", " ", "\t"])), draw(st.sampled_from(["", " ", "\t", "  \t"]))
        out.append(lead + "".join(t + draw(gaps) for t in tokens[:-1]) + tokens[-1] + trail)
    return "\n".join(out)


@ROUND_TRIP
@given(data=st.data(), frames=st.booleans().flatmap(lambda types: st.lists(frames(types), min_size=1, max_size=3)))
def test_whitespace_does_not_matter(scratch, data, frames):
    options = ReadOptions(type_key="type" if frames[0].types is not None else None)
    text = write_extxyz(frames)
    scratch.write_text(text)
    plain = read_structures(str(scratch), options)
    spaced = data.draw(respaced(text))
    scratch.write_text(spaced)
    assert_same(read_structures(str(scratch), options), plain)


def assert_same(a: Dataset, b: Dataset) -> None:
    for field in ("positions", "cells", "pbc", "energies", "weights", "frame_offsets", "species_index",
                  "type_index", "first_atom_line"):
        assert np.array_equal(getattr(a, field), getattr(b, field), equal_nan=field == "energies"), field
    assert (a.forces is None) == (b.forces is None)
    if a.forces is not None:
        assert np.array_equal(a.forces, b.forces, equal_nan=True)
    assert (a.names, a.species_names, a.type_names, a.info) == (b.names, b.species_names, b.type_names, b.info)


def plain_rows(frame: Frame) -> str:
    rows = zip(frame.species, frame.positions)
    return "".join(f"{s} {float(x)!r} {float(y)!r} {float(z)!r}\n" for s, (x, y, z) in rows)


@ROUND_TRIP
@given(data=st.data(), frames=st.lists(frames(False), min_size=1, max_size=3))
def test_plain_xyz_whitespace_does_not_matter(scratch, data, frames):
    """Plain XYZ (lone-number comment) and headerless text: spacing and trailing whitespace do not matter."""
    plain = "".join(f"{len(f.species)}\n{f.energy if f.energy is not None else ''}\n{plain_rows(f)}" for f in frames)
    headerless = plain_rows(frames[0])
    for text in (plain, headerless):
        scratch.write_text(text)
        reference = read_structures(str(scratch))
        assert np.array_equal(reference.positions, np.concatenate([f.positions for f in frames])[:reference.n_atoms])
        scratch.write_text(data.draw(respaced(text)))
        assert_same(read_structures(str(scratch)), reference)
