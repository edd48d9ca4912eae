"""The fixed-width column parser against an independent one: split each line, float() each token.

Soundness is the property that matters: whatever the bytes, when ``parse_fixed_width``
accepts a block its values equal ``float(token)`` of the split line exactly; when the
block is not in one fixed layout it must return None (the reader then uses loadtxt).
Separate tests show that ASE's own output takes the fast path, so the property is
not met by always returning None.
"""
import io

import ase
import ase.io
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fitcore.io.fixed_width import parse_fixed_width
from fitcore.io.xyz import read_structures

PROPERTY = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
COLUMNS = (("species", "S", 1), ("pos", "R", 3))
WITH_FRAGMENTS = COLUMNS + (("forces", "R", 3), ("fragment", "I", 1))
FORMATS = ["%16.8f", "%13.6f", "%10.3f", "%9.1f", "%20.12f", "%16.10f"]  # each wide enough for |x| < 1e5


def block(text: bytes) -> np.ndarray:
    """Lines of equal length (each ending in LF) as [n_lines, line_bytes], as the reader passes them."""
    return np.frombuffer(text, np.uint8).reshape(text.count(b"\n"), -1)


def reference(text: bytes, columns) -> dict[str, np.ndarray]:
    """Split each line on whitespace and float() (int()) each token; ValueError if a line does not fit."""
    rows = [line.decode("ascii").split() for line in text.split(b"\n")[:-1]]
    width = sum(count for _, _, count in columns)
    if any(len(row) != width for row in rows):
        raise ValueError("token count")
    out, k = {}, 0
    for name, kind, count in columns:
        cells = [[row[k + j] for j in range(count)] for row in rows]
        convert = {"S": str, "R": float, "I": int}[kind]
        values = np.array([[convert(c) for c in row] for row in cells], {"S": object, "R": float, "I": np.int64}[kind])
        out[name] = values[:, 0] if count == 1 else values
        k += count
    return out


def assert_same(parsed: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert parsed.keys() == expected.keys()
    for name, values in expected.items():
        if values.dtype == object:
            assert [v.decode() for v in parsed[name]] == list(values)
        elif values.dtype == np.int64:
            assert parsed[name].dtype == np.int64 and np.array_equal(parsed[name], values)
        else:
            assert parsed[name].dtype == np.float64
            # bitwise: the sign of zero counts too
            assert np.array_equal(parsed[name].view(np.int64), values.astype(np.float64).view(np.int64))


def formatted(labels, values, label_format: str, number_format: str, ending: bytes = b"\n") -> bytes:
    rows = [label_format % label + "".join(" " + number_format % v for v in row) for label, row in zip(labels, values)]
    return "".join(row + "\n" for row in rows).replace("\n", ending.decode()).encode()


finite = st.floats(-99999, 99999, allow_nan=False)
label = st.text("HeArKrXe_0123abc", min_size=1, max_size=4)


@PROPERTY
@given(st.lists(st.tuples(label, st.lists(finite, min_size=3, max_size=3)), min_size=1, max_size=20),
       st.sampled_from(FORMATS), st.sampled_from(["%-4s", "%4s", "%-2s"]), st.sampled_from([b"\n", b"\r\n"]))
def test_fixed_layouts_are_read_exactly(rows, number_format, label_format, ending):
    text = formatted([r[0] for r in rows], [r[1] for r in rows], label_format, number_format, ending)
    assume(len({len(line) for line in text.split(b"\n")}) <= 2)  # the reader sends only equal lines here
    parsed = parse_fixed_width(block(text), COLUMNS)
    decimals = int(number_format.split(".")[1][:-1])
    width = int(number_format[1:].split(".")[0])
    fits = all(abs(v) * 10 ** decimals < 2 ** 53 - 1 and len(number_format % v) == width for _, row in rows for v in row)
    # a fixed layout the parser is made for (no field wider than its format, which shifts the columns after it
    # while the lines may still end up equally long): it must not give up
    if label_format == "%-4s" and fits:
        assert parsed is not None
    if parsed is not None:
        assert_same(parsed, reference(text, COLUMNS))


MUTATIONS = st.sampled_from(b" -+.eE0159\t\rxA_\x80\xff")


@PROPERTY
@given(st.lists(st.lists(finite, min_size=6, max_size=6), min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(0, 10 ** 6), MUTATIONS), min_size=1, max_size=4))
def test_mutated_blocks_are_read_exactly_or_refused(values, mutations):
    lines = formatted(["Ar"] * len(values), values, "%-2s", "%16.8f").split(b"\n")[:-1]
    text = bytearray(b"".join(b"%s %8d\n" % (line, k - 3) for k, line in enumerate(lines)))  # ASE's integer format
    for position, byte in mutations:
        at = position % len(text)
        if text[at] != 10:  # keep the line structure; the reader finds lines before it parses them
            text[at] = byte
    parsed = parse_fixed_width(block(bytes(text)), WITH_FRAGMENTS)
    if parsed is None:
        return
    try:
        expected = reference(bytes(text), WITH_FRAGMENTS)
    except (ValueError, UnicodeDecodeError) as err:
        pytest.fail(f"accepted a block that does not split into its columns ({err}): {bytes(text)!r}")
    assert_same(parsed, expected)


def test_ase_output_takes_the_fast_path_and_matches_ase(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    frames = []
    for n in (5, 12, 7):
        atoms = ase.Atoms(rng.choice(["H", "Ar", "Xe"], n), positions=rng.normal(0, 40, (n, 3)),
                          cell=np.diag([30.0, 31.0, 32.0]), pbc=True)
        atoms.calc = ase.calculators.singlepoint.SinglePointCalculator(
            atoms, energy=float(rng.normal()), forces=rng.normal(0, 1, (n, 3)))
        atoms.new_array("fragment", rng.integers(-3, 1000, n))
        frames.append(atoms)
    path = tmp_path / "ase.extxyz"
    ase.io.write(path, frames)

    def no_loadtxt(*args, **kwargs):
        raise AssertionError("numpy.loadtxt was called: the fixed-width path was not taken")

    monkeypatch.setattr(np, "loadtxt", no_loadtxt)
    dataset = read_structures(str(path))
    back = ase.io.read(path, ":")
    assert np.array_equal(dataset.positions, np.concatenate([a.positions for a in back]))
    assert np.array_equal(dataset.forces, np.concatenate([a.get_forces() for a in back]))
    assert np.array_equal(dataset.fragments, np.concatenate([a.arrays["fragment"] for a in back]))
    symbols = [s for a in back for s in a.get_chemical_symbols()]
    assert [dataset.species_names[i] for i in dataset.species_index] == symbols


def test_labels_of_several_widths():
    text = b"H     1.50000000\nHe   -2.25000000\nAr_1  0.00000000\n"
    parsed = parse_fixed_width(block(text), (("species", "S", 1), ("x", "R", 1)))
    assert list(parsed["species"]) == [b"H", b"He", b"Ar_1"]
    assert parsed["species"].dtype.itemsize % 8 == 0
    assert parsed["x"].tolist() == [1.5, -2.25, 0.0]


def test_negative_zero_keeps_its_sign():
    parsed = parse_fixed_width(block(b"Ar  -0.000  1.000  2.000\n"), COLUMNS)
    assert np.signbit(parsed["pos"][0, 0]) and parsed["pos"][0].tolist() == [0.0, 1.0, 2.0]


def test_digits_up_to_the_exact_limit():
    # the digits as one integer: below 2**53 = 9007199254740992 it is exact; at or above, refused (not rounded twice)
    below = b"Ar 9007198.254740993  1.000000000  1.000000000\n"
    assert parse_fixed_width(block(below), COLUMNS)["pos"][0, 0] == float("9007198.254740993")
    assert parse_fixed_width(block(below.replace(b"9007198", b"9007199")), COLUMNS) is None


@pytest.mark.parametrize("text", [
    b"Ar  1.0e+00  2.000000  3.000000\n",  # exponent
    b"Ar  +1.00000  2.00000  3.00000\n",  # plus sign
    b"Ar   .500000  2.00000  3.00000\n",  # no digit before the point
    b"Ar  -1.00000  2.00000  3.00000\nAr   1-00000  2.00000  3.00000\n",  # minus inside the digits
    b"Ar  -1.00000  2.00000  3.00000\nAr  --1.0000  2.00000  3.00000\n",  # two minus signs
    b"Ar  -1.00000  2.00000  3.00000\nAr  - 1.0000  2.00000  3.00000\n",  # minus apart from the digits
    b"Ar  1.00000\t2.00000  3.00000\n",  # tab between fields
    b"Ar  1.00000  2.00000  3.00000\nAr  1.00000  2.000000 3.00000\n",  # point moved
    b"Ar  1.00000  2.00000  3.00000\nAr 11.00000  2.0000  3.000000\n",  # columns not in line
    b"Ar  1.00000  2.00000  3.00000\nArgo1.00000  2.00000  3.00000\n",  # label runs into the next field
    b"\xc3\x85r  1.00000  2.00000  3.00000\n",  # non-ASCII label (UTF-8 is left to loadtxt)
    b"Ar  1.00000  2.00000  3.00000  4.00000\n",  # a column too many
    b"Ar  1.00000  2.00000\n",  # a column too few
    b"Ar  1.00000  2.00000  3.00000\r\nAr  1.00000  2.00000  3.000000\n",  # CRLF on some lines only
    b"Ar  1.00000  2.00000  3.\n",  # no decimals
    b"Ar  123456789.0  2.00000  3.00000\n",  # more than eight characters before the point
])
def test_refused(text):
    assert parse_fixed_width(block(text), COLUMNS) is None


def test_integer_columns_right_aligned():
    text = formatted(["Ar", "Kr", "Xe"], [[0.5, 1, 2], [1.5, 2, 3], [2.5, 3, 4]], "%-2s", "%10.4f")
    text = b"".join(line + b" %8d\n" % k for line, k in zip(text.split(b"\n")[:-1], [7, -12, 12345678]))
    parsed = parse_fixed_width(block(text), COLUMNS + (("fragment", "I", 1),))
    assert parsed["fragment"].dtype == np.int64 and parsed["fragment"].tolist() == [7, -12, 12345678]


@pytest.mark.parametrize("value", [b"       1.0", b"        +1", b"       1e3", b"       1 2", b" 123456789"])
def test_integers_refused(value):
    """Not a plain integer, or more than eight characters of one (loadtxt reads those)."""
    text = b"Ar 1.0 1.0 1.0          0\nAr 1.0 1.0 1.0 " + value + b"\n"
    assert parse_fixed_width(block(text), COLUMNS + (("fragment", "I", 1),)) is None


def test_logical_columns_are_left_to_loadtxt():
    assert parse_fixed_width(block(b"Ar  1.000  2.000  3.000  T\n"), COLUMNS + (("fixed", "L", 1),)) is None


def test_same_values_as_loadtxt_on_crlf_lines():
    text = formatted(["Kr", "Xe"], [[-12.125, 1e-8, 1234567.0], [1.0, -0.5, 0.25]], "%-2s", "%16.8f", b"\r\n")
    parsed = parse_fixed_width(block(text), COLUMNS)
    rows = np.loadtxt(io.BytesIO(text), dtype=[("species", "S8"), ("pos", "f8", (3,))], comments=None)
    assert np.array_equal(parsed["pos"], rows["pos"]) and list(parsed["species"]) == list(rows["species"])

