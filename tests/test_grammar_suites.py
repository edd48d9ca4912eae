"""Every case of libAtoms' and ASE's own extended-XYZ test suites, read by ljfit and by ``ase.io.read``.

Inputs (tests/data/grammar/, sources named in each file): ``libatoms_kv_cases.json``, the comment fragments of
libAtoms extxyz's grammar tests (``kv_tests.md`` via ``examples/create_kv_tests.py``, the key cases of
``python/ase-extxyz/tests/test_kv_parsing_key.py``, ``tests/test_single_quote.py``), valid and "should fail";
``ase_cases.json``, the files of ASE 3.29's ``ase/test/fio/test_extxyz.py`` and ``test_xyz.py`` and of the
``ase/io/extxyz.py`` docstring.

Where ASE reads a case, ljfit must give the same frames, positions, cells, pbc and energies, bit for bit, and
every number ASE reads from a key must be what ljfit reads from it as the energy key. The deliberate
differences are listed in tests/test_comment_grammar.py; those these cases meet: ASE keeps Fortran numbers
(``f=-12.0d2``) as strings where ljfit reads the number; ASE reads the libAtoms "should fail" lines (all of
them), ljfit refuses them with file:line:column except the four ASE's own tests need (``s=abc=def``,
``s=abc,def``, ``s=abc def``, ``s='abc'``; libAtoms' own reader reads ``s=[1, 2, ]`` and ``s=[ , 2, 3]`` as
strings, against its kv_tests.md); ASE splits libAtoms' 2-d arrays (``i_aa=[ [ 1, 2 ], [ 3, 4 ] ]``)
into stray keys (``' 3, 4 '``, ``']'``), ljfit reads one key.

libAtoms' extxyz package (in the test extra) is the third reader: cells, pbc and numbers must agree with it too.
"""
import json
import re
import warnings
from pathlib import Path

import ase.io
import numpy as np
import pytest

from fitcore.errors import InputError
from fitcore.io.xyz import ReadOptions, read_structures

DATA = Path(__file__).parent / "data" / "grammar"
KV = json.loads((DATA / "libatoms_kv_cases.json").read_text())
ASE_CASES = json.loads((DATA / "ase_cases.json").read_text())["cases"]
READ_ALTHOUGH_LIBATOMS_REFUSES = {"s=abc=def", "s=abc,def", "s=abc def", "s='abc'"}
FORTRAN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[dD][+-]?\d+")
ISSUE_CASES = [  # issue 11: lines ljfit refused or misread although ASE reads them
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 energy=-1.0 note=\'DFT energy=-2.0 eV\'',
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 energy=-1 note=\'input pbc="F F F" ignored\'',
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 "with space"=3 energy=-1.5',
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 s_a=[ "a", "b" ] energy=-1.5',
    "Lattice='4 0 0 0 4 0 0 0 4' Properties=species:S:1:pos:R:3 pbc='F F F' energy='-1.5'",
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="True" energy=[-1.5]',
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="False" energy={-1.5}',
    'Lattice="4, 0, 0, 0, 4, 0, 0, 0, 10" Properties=species:S:1:pos:R:3 pbc="T, T, F" energy=-1.5',
    "Lattice=[4, 0, 0, 0, 4, 0, 0, 0, 10] Properties=species:S:1:pos:R:3 energy=-1.5",
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc=T energy=-1.5',
]


def read_both(path: Path, options: ReadOptions = ReadOptions()):
    """(ASE's frames or its exception, ljfit's Dataset or its InputError) for the file ``path``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = ase.io.read(path, index=":", format="extxyz")
    except Exception as err:  # noqa: BLE001 - any failure of ASE's reader counts as a refusal
        frames = err
    try:
        data = read_structures(str(path), options)
    except InputError as err:
        data = err
    return frames, data


def assert_same_frames(data, frames) -> None:
    assert data.n_frames == len(frames)
    assert np.array_equal(data.positions, np.concatenate([a.positions for a in frames]))
    assert np.array_equal(data.cells, np.stack([a.cell.array for a in frames]))
    assert np.array_equal(data.pbc, np.stack([a.pbc for a in frames]))
    energies = [a.calc.results.get("energy", np.nan) if a.calc is not None else np.nan for a in frames]
    assert np.array_equal(data.energies, energies, equal_nan=True)


def kv_file(tmp_path, fragments: list[str]) -> Path:
    """One frame per fragment, as create_kv_tests.py's print_config writes them."""
    path = tmp_path / "case.extxyz"
    path.write_text("".join(f"1\n{KV['prefix']}{fragment}\nSi 0.0 0.0 0.0\n" for fragment in fragments))
    return path


def key_groups(fragments: list[str]) -> dict[str, list[str]]:
    """The fragments by key (``f=...`` under "f"), those with other keys under "other"; one file per group."""
    groups: dict[str, list[str]] = {}
    for fragment in fragments:
        key = re.match(r"([A-Za-z_]+)\s*=", fragment)
        groups.setdefault(key.group(1) if key else "other", []).append(fragment)
    return groups


VALID = key_groups(KV["valid"])


def is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


@pytest.mark.parametrize("key", list(VALID))
def test_libatoms_valid_lines(tmp_path, key):
    fragments = VALID[key]
    path = kv_file(tmp_path, fragments)
    frames, data = read_both(path)
    assert not isinstance(data, InputError), data
    assert not isinstance(frames, Exception), frames  # ASE reads every valid line of the grammar
    assert_same_frames(data, frames)
    for fragment, atoms, info in zip(fragments, frames, data.info):
        if "_aa=" not in fragment:  # ASE splits 2-d arrays into stray keys
            assert set(info) == set(atoms.info), fragment
    values = [atoms.info.get(key) for atoms in frames] if key != "other" else []
    if values and all(is_number(v) or (isinstance(v, str) and FORTRAN.fullmatch(v)) for v in values):
        # every number ASE reads, and each Fortran number it leaves as text, is the number ljfit reads
        numbers = [float(v.translate(str.maketrans("dD", "ee"))) if isinstance(v, str) else float(v) for v in values]
        assert read_structures(str(path), ReadOptions(energy_key=key)).energies.tolist() == numbers


def test_libatoms_cases_cover_the_grammar():
    assert len(KV["valid"]) == 1310 and {"i", "f", "b", "bs", "qs", "i_a", "s_a", "i_aa", "f_aa", "s_aa"} <= set(VALID)
    assert sum(1 for v in KV["valid"] if FORTRAN.search(v)) > 500


@pytest.mark.parametrize("fragment", KV["invalid"])
def test_libatoms_should_fail_lines(tmp_path, fragment):
    path = kv_file(tmp_path, [fragment])
    frames, data = read_both(path)
    assert not isinstance(frames, Exception)  # ASE reads them all, one way or another
    if fragment in READ_ALTHOUGH_LIBATOMS_REFUSES:
        assert_same_frames(data, frames)
        assert data.info[0] == {k: v if v is not True else True for k, v in frames[0].info.items()}
    else:
        assert isinstance(data, InputError)
        assert re.match(rf"{re.escape(str(path))}:2: cannot parse this extended-XYZ comment line, column \d+: ",
                        str(data)), data


def test_should_fail_lines_are_the_twenty_of_the_suite():
    assert len(KV["invalid"]) == 20 and READ_ALTHOUGH_LIBATOMS_REFUSES <= set(KV["invalid"])


@pytest.mark.parametrize("name", list(ASE_CASES))
def test_ase_cases(tmp_path, name):
    path = tmp_path / "case.xyz"
    path.write_text(ASE_CASES[name])
    frames, data = read_both(path)
    assert not isinstance(frames, Exception), frames
    assert not isinstance(data, InputError), data
    assert_same_frames(data, frames)


def test_ase_complex_line_keys_and_values(tmp_path):
    """ASE's test_complex_key_val: every key ASE finds, with the text of its value."""
    path = tmp_path / "complex.xyz"
    path.write_text(ASE_CASES["test_complex_key_val"])
    info = read_structures(str(path)).info[0]
    assert set(info) == set(ase.io.read(path).info)
    assert info["quot"] == "quoted value" and info["escaped_quote"] == 'esc"aped'
    assert info["with space"] == "a value" and info['space"'] == "a value"
    assert info["double_equals"] == "abc=xyz" and info["f_dict"] == '_JSON {"a" : 1}'
    assert info["true_value"] is True and info["bool_array_commas"] == ("T", "T", "F", "T")
    assert info["f_str_looks_like_array"] == "[[1, 2, 3], [4, 5, 6]]"


@pytest.mark.parametrize("comment", ISSUE_CASES)
def test_issue_cases(tmp_path, comment):
    path = tmp_path / "issue.extxyz"
    path.write_text(f"2\n{comment}\nAr 0 0 0\nAr 0 0 3.5\n")
    frames, data = read_both(path)
    assert not isinstance(frames, Exception) and not isinstance(data, InputError), (frames, data)
    assert_same_frames(data, frames)


@pytest.mark.parametrize("energy,value", [("1.0d2", 100.0), ("-1D-12", -1e-12), ("-12.0D+02", -1200.0)])
def test_fortran_energy_is_a_number(tmp_path, energy, value):
    """ASE keeps ``energy=1.0d2`` as the string '1.0d2'; ljfit reads the number (a deliberate difference)."""
    path = tmp_path / "fortran.extxyz"
    path.write_text(f'2\nProperties=species:S:1:pos:R:3 energy={energy}\nAr 0 0 0\nAr 0 0 3.5\n')
    frames, data = read_both(path)
    assert frames[0].calc.results["energy"] == energy
    assert data.energies.tolist() == [value]


# ---------------------------------------------------------------- libAtoms' own reader


LIBATOMS_CELLS = [  # comment lines whose cell and pbc libAtoms' reader must agree on
    'Lattice="9.5 0 0 1.7 8.9 0 -0.6 1.3 10.4" pbc=[T, T, F] Properties=species:S:1:pos:R:3',
    "Lattice=[[9.5, 1.7, -0.6], [0, 8.9, 1.3], [0, 0, 10.4]] pbc=[F, T, T] Properties=species:S:1:pos:R:3",
    "Lattice=[9.5, 0, 0, 1.7, 8.9, 0, -0.6, 1.3, 10.4] pbc='T F T' Properties=species:S:1:pos:R:3",
    'Lattice=[4.5, 5, 6.25] pbc="T T T" Properties=species:S:1:pos:R:3',
    "Lattice={9.5 0 0 1.7 8.9 0 -0.6 1.3 10.4} pbc=[true, false, TRUE] Properties=species:S:1:pos:R:3",
]


@pytest.fixture(scope="module")
def libatoms():
    return pytest.importorskip("extxyz", reason="libAtoms' extxyz (in the test extra) is not installed")


@pytest.mark.parametrize("use_c", [True, False], ids=["C reader", "Python reader"])
def test_libatoms_reader_agrees_on_every_valid_line(tmp_path, libatoms, use_c):
    """libAtoms' extxyz, the grammar's reference implementation: cells, pbc, and every number of i= and f=."""
    fragments = KV["valid"] if use_c else VALID["f"][::7] + VALID["i"]  # its Python reader is slow
    path = kv_file(tmp_path, fragments)
    frames = libatoms.read_dicts(str(path), use_cextxyz=use_c)
    data = read_structures(str(path))
    assert np.array_equal(data.cells, [f.cell.T for f in frames])  # libAtoms' Frame.cell holds the vectors as columns
    assert np.array_equal(data.pbc, [f.pbc for f in frames])
    for key in ("i", "f"):
        rows = [k for k, fragment in enumerate(fragments) if re.match(rf"{key}\s*=", fragment)]
        subset = kv_file(tmp_path, [fragments[k] for k in rows])
        assert read_structures(str(subset), ReadOptions(energy_key=key)).energies.tolist() == \
            [float(frames[k].info[key]) for k in rows]


@pytest.mark.parametrize("comment", LIBATOMS_CELLS)
def test_libatoms_reader_agrees_on_cells(tmp_path, libatoms, comment):
    path = tmp_path / "cell.extxyz"
    path.write_text(f"1\n{comment}\nSi 0.0 0.0 0.0\n")
    frame = libatoms.read_dicts(str(path), use_cextxyz=False)
    data = read_structures(str(path))
    assert np.array_equal(data.cells[0], frame.cell.T) and np.array_equal(data.pbc[0], frame.pbc)
