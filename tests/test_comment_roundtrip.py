"""Comment lines generated from the extended-XYZ grammar round-trip through ljfit's reader and writer.

Hypothesis draws frame info (keys and values of any text, flags, 1-d and 2-d arrays) and renders it in
any of the grammar's spellings (bare, bare with backslash escapes, double or single quotes, braces,
brackets with commas or whitespace, spaces around ``=``), by rules written here from the grammar
(libAtoms' kv_tests.md and ASE's extensions), not from fitcore's regular expressions. The reader must give
back the drawn info, energy, cell and pbc; ljfit's writer (fitcore/io/write.py, what ``predict
--write-structures`` runs) must write what the reader reads back to the same.
"""
import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_support import CUBIC, first_frames, invoke

from fitcore.io.comment import parse_key_values
from fitcore.io.write import extxyz_text
from fitcore.io.xyz import read_structures

ROUND_TRIP = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
RESERVED = {"lattice", "properties", "pbc", "name", "weight", "energy", "energy_ref"}
SPECIAL = ' \t"\'=,{}[]\\'
TEXT = st.text(st.sampled_from(list(SPECIAL) + list("aZ09.+-_:/#é") + ["\n", "\u00a0", "ü", "T", "F"]), max_size=8)
SPACE = st.sampled_from([" ", "  ", "\t", " \t "])
BARE_FORBIDDEN = re.compile(r'[\s"{}\[\]\\]')  # a bare value holds none of these (and starts with no quote)
KEY_FORBIDDEN = re.compile(r'[\s"{}\[\]\\=,]')  # a bare key neither '=' nor ','
ELEMENT_FORBIDDEN = re.compile(r'[\s"\'{}\[\]\\=,]')
ESCAPABLE = set(" \t\"'=,{}[]\\")  # what a backslash may escape in a bare token


def is_number(text: str) -> bool:
    try:
        float(text.replace("d", "e").replace("D", "e"))
    except ValueError:
        return False
    return True


def quoted(draw, text: str) -> str:
    mark = draw(st.sampled_from(['"', "'"]))
    return mark + text.replace("\\", "\\\\").replace(mark, "\\" + mark).replace("\n", "\\n") + mark


def render_token(draw, text: str, forbidden: re.Pattern, flag: bool = False) -> str:
    """``text`` as a key or a scalar value: bare where the grammar allows it, else (or at random) quoted."""
    styles = ["quoted"]
    bare_ok = text and not forbidden.search(text) and text[0] not in "\"'" and not (flag and is_number(text))
    if bare_ok:
        styles.append("bare")
    if text and "\n" not in text and not text[-1].isspace() and not (flag and is_number(text)):
        styles.append("escaped")  # (not for a trailing space: a line's trailing whitespace is not part of it)
    if forbidden is BARE_FORBIDDEN and "{" not in text and "}" not in text and "\n" not in text:
        styles.append("braces")
    style = draw(st.sampled_from(styles))
    if style == "bare":
        return text
    if style == "escaped":  # libAtoms' bare string: a backslash before each special character
        return "".join("\\" + c if c in ESCAPABLE or c.isspace() else c for c in text)
    if style == "braces":
        return "{" + text + "}"
    return quoted(draw, text)


def render_array(draw, value: tuple) -> str:
    def element(e):
        return render_token(draw, e, ELEMENT_FORBIDDEN) if isinstance(e, str) else render_array(draw, e)
    nested = any(isinstance(e, tuple) for e in value)
    if value and not nested and draw(st.booleans()):  # whitespace-separated, as ASE's [T F S]
        return "[" + draw(SPACE).join(element(e) for e in value) + "]"
    comma = draw(st.sampled_from([",", ", ", " , ", ",\t"]))
    return "[" + draw(st.sampled_from(["", " "])) + comma.join(element(e) for e in value) + "]"


def render_pair(draw, key: str, value) -> str:
    key_text = render_token(draw, key, KEY_FORBIDDEN, flag=value is True)
    if value is True:
        return key_text
    value_text = render_array(draw, value) if isinstance(value, tuple) else render_token(draw, value, BARE_FORBIDDEN)
    return key_text + draw(st.sampled_from(["=", " =", "= ", " = "])) + value_text


KEYS = st.text(st.sampled_from(list(SPECIAL) + list("akZ09._-é") + ["\n"]), min_size=1, max_size=6).filter(
    lambda k: k.lower() not in RESERVED)
ELEMENT = TEXT
ROWS = st.integers(1, 3).flatmap(lambda n: st.lists(st.tuples(*[ELEMENT] * n), min_size=1, max_size=3).map(tuple))
VALUES = st.one_of(TEXT, st.just(True), st.lists(ELEMENT, max_size=4).map(tuple), ROWS)
INFO = st.dictionaries(KEYS, VALUES, max_size=5)


@st.composite
def frames(draw):
    """(comment line, info, energy, cell, pbc) of one frame."""
    info = draw(INFO)
    energy = draw(st.integers(-4000, 4000)) / 8  # exact in the writer's %.12f
    cell = np.diag([draw(st.integers(8, 40)) / 4 for _ in range(3)])
    pbc = tuple(draw(st.booleans()) for _ in range(3))
    pairs = [render_pair(draw, k, v) for k, v in info.items()]
    pairs += ['Lattice="' + " ".join(repr(float(x)) for x in cell.ravel()) + '"', "Properties=species:S:1:pos:R:3",
              f"energy={energy!r}", "pbc=" + quoted(draw, " ".join("T" if p else "F" for p in pbc))]
    order = draw(st.permutations(range(len(pairs))))
    line = draw(st.sampled_from(["", " "])) + "".join(pairs[k] + draw(SPACE) for k in order[:-1]) + pairs[order[-1]]
    return line, info, energy, cell, pbc


@ROUND_TRIP
@given(frames())
def test_generated_lines_parse_to_what_was_drawn(frame):
    line, info, energy, _, pbc = frame
    parsed = parse_key_values(line)
    assert parsed is not None, line
    assert {k: v for k, v in parsed.items() if k.lower() not in RESERVED} == info


@ROUND_TRIP
@given(st.lists(frames(), min_size=1, max_size=3))
def test_reader_and_writer_round_trip(tmp_path_factory, drawn):
    path = tmp_path_factory.mktemp("roundtrip") / "drawn.extxyz"
    path.write_text("".join(f"2\n{line}\nAr 0 0 0\nAr 0 0 3.5\n" for line, *_ in drawn), encoding="utf-8")
    first = read_structures(str(path))
    assert list(first.info) == [info for _, info, *_ in drawn]
    assert first.energies.tolist() == [energy for _, _, energy, _, _ in drawn]
    assert np.array_equal(first.cells, [cell for *_, cell, _ in drawn])
    assert first.pbc.tolist() == [list(pbc) for *_, pbc in drawn]

    written = path.with_name("written.extxyz")
    written.write_text(extxyz_text(first, first.energies, None), encoding="utf-8")
    second = read_structures(str(written))
    assert [{k: v for k, v in i.items() if k != "energy_ref"} for i in second.info] == list(first.info)
    assert np.array_equal(second.energies, first.energies)
    assert np.array_equal(second.cells, first.cells) and np.array_equal(second.pbc, first.pbc)
    assert second.names == first.names


def test_predict_write_structures_keeps_every_key(tmp_path, truth_file):
    """``ljfit predict --write-structures``: the keys of a complex comment line come back with their values."""
    frames_file = first_frames(CUBIC, 2, tmp_path / "two.extxyz")
    extra = ' "with space"="a value" s_a=[ "a, b", "c]" ] note=\'was energy=-9 pbc="F F F"\' m=[[1, 2], [3, 4]] done'
    lines = frames_file.read_text().split("\n")
    comments = [k for k in range(len(lines) - 1) if lines[k].strip().isdigit()]
    for k in comments:
        lines[k + 1] += extra
    frames_file.write_text("\n".join(lines))
    before = read_structures(str(frames_file))
    out = tmp_path / "pred.extxyz"
    invoke(["predict", frames_file, "--params", truth_file, "--write-structures", out, "-q"])
    after = read_structures(str(out))
    for info_before, info_after in zip(before.info, after.info):
        assert info_after["with space"] == "a value" and info_after["s_a"] == ("a, b", "c]")
        assert info_after["note"] == 'was energy=-9 pbc="F F F"' and info_after["m"] == (("1", "2"), ("3", "4"))
        assert info_after["done"] is True
        assert {k: v for k, v in info_after.items() if k != "energy_ref"} == info_before
    np.testing.assert_allclose(after.cells, before.cells, atol=1e-12)
    assert np.array_equal(after.pbc, before.pbc)
    np.testing.assert_allclose([float(i["energy_ref"]) for i in after.info], before.energies, atol=1e-12)
