"""Read XYZ, extended XYZ and headerless coordinate files into a Dataset.

Speed comes from never looping over atoms in Python: the file is read as bytes,
frames are located with ``bytes.find``/``bytes.count`` (C speed; lines of equal
width, as ASE writes them, are skipped in O(1) per frame), each frame's comment
line is parsed in Python (once per frame), and the atom lines of all frames that
share a column layout are parsed together: as columns of bytes when every line has
the same length and fields (fixed_width.py; ASE writes such files), else by ONE
``numpy.loadtxt`` call with a structured dtype. When that call fails, a slow
line-by-line check finds the first bad line so the error can name it.

Formats:
- extended XYZ: count line, ``key=value`` comment (``Lattice``, ``pbc``,
  ``Properties``, the energy key, ``name``, ``weight``; others kept as info); rows
  have exactly the ``Properties`` columns, or are read as plain rows when a frame
  has no ``Properties`` (as ASE does);
- plain XYZ: count line, free comment (energy from ``energy=x`` or a lone number),
  rows ``El x y z`` (further columns ignored);
- headerless: rows ``El x y z`` only, one structure per file, recognised when the
  first line is not an atom count.
Text is ASCII or UTF-8 (a leading byte order mark is skipped); lines end in LF or CRLF.
"""
import io
import math
import re
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..cells import singular_cells
from ..dataset import Dataset
from ..errors import InputError, LjfitWarning, where
from ..units import energy_factor, length_factor
from .comment import (comment_error, free_text_energy, free_text_unit, looks_extended, parse_bools, parse_key_values,
                      parse_properties, scalar, to_float, values)
from .fixed_width import parse_fixed_width

_NON_BLANK = re.compile(rb"\S")
Column = tuple[str, str, int]  # name, kind letter (S/R/I/L), number of sub-columns
_PLAIN_COLUMNS: tuple[Column, ...] = (("species", "S", 1), ("pos", "R", 3))
_LABEL_BYTES = (16, 256)  # widths tried for string columns; a label filling one is retried wider
_RESERVED = {"lattice", "properties", "pbc", "name", "weight"}


@dataclass(frozen=True)
class ReadOptions:
    energy_key: str = "energy"
    type_key: str | None = None  # per-atom string column giving parameter types
    fragment_key: str | None = None  # None: use a "fragment" column where there is one
    length_unit: str = "angstrom"
    energy_unit: str = "eV"


@dataclass
class _Frame:
    line: int  # 1-based line of the count line (of the first row when headerless)
    first_atom_line: int
    n_atoms: int
    start: int  # byte range of the atom lines
    end: int
    columns: tuple[Column, ...]
    plain: bool  # plain XYZ or headerless: only the first four columns are read
    cell: np.ndarray
    pbc: tuple[bool, bool, bool]
    energy: float
    weight: float
    name: str | None
    info: dict
    unit: str | None = None  # an energy unit named in a free-text comment


@dataclass(frozen=True)
class FilePart:
    """Whole frames of a file, ``start:end`` in bytes, for reading a large file in pieces."""
    start: int
    end: int
    first_frame: int  # index in the file of the part's first frame
    first_line: int  # line number of the part's first line
    frames_in_file: int


def read_structures(path: str, options: ReadOptions = ReadOptions(), part: FilePart | None = None) -> Dataset:
    """All frames of one file (``-`` is stdin), or of one part of it, as a Dataset in eV and Å."""
    source, buf = _read_bytes(path, part)
    if part is None or part.start == 0:
        buf = buf.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark, as some Windows editors write
    first = _first_line(buf, source)
    _check_no_nul(buf, source, part.first_line if part else 1)
    if _is_count(first):
        frames = _frames(buf, source, options, part.first_line if part else 1)
        _check_cells(frames, source)
        _check_comment_units(frames, source, options)
    else:
        frames = [_headerless_frame(buf)]
        _check_plain(options, where(source, frames[0].line))
    return _assemble(buf, source, frames, options, part)


def _check_comment_units(frames: list[_Frame], source: str, options: ReadOptions) -> None:
    """Free-text comments that name another energy unit than --energy-unit: say so, once per file."""
    named = sorted({f.unit for f in frames if f.unit is not None and f.unit != options.energy_unit})
    if named:
        warnings.warn(LjfitWarning(f"{source}: comments give energies in {', '.join(named)}, but they are read as "
                                   f"{options.energy_unit} (--energy-unit)"), stacklevel=3)


def frame_parts(path: str, n_parts: int) -> list[FilePart]:
    """Up to ``n_parts`` pieces of whole frames and similar size (one piece for headerless files)."""
    source, buf = _read_bytes(path)
    first = _first_line(buf, source)
    if not _is_count(first) or buf.startswith(b"\xef\xbb\xbf"):
        return [FilePart(0, len(buf), 0, 1, 1)]
    starts = [(start, line) for line, _, start, _, _, _ in _walk(buf, source)]
    n = len(starts)
    bounds = sorted({int(np.searchsorted([s for s, _ in starts], len(buf) * k / n_parts)) for k in range(n_parts)})
    parts = []
    for a, b in zip(bounds, bounds[1:] + [n]):
        if a < b:
            end = starts[b][0] if b < n else len(buf)
            parts.append(FilePart(starts[a][0], end, a, starts[a][1], n))
    return parts


def _read_bytes(path: str, part: FilePart | None = None) -> tuple[str, bytes]:
    if path == "-":
        return "<stdin>", sys.stdin.buffer.read()
    try:
        if part is not None:
            with open(path, "rb") as handle:
                handle.seek(part.start)
                return path, handle.read(part.end - part.start)
        return path, Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None


def _first_line(buf: bytes, source: str) -> bytes:
    text = _NON_BLANK.search(buf)  # (strip() would copy the whole file)
    if text is None:
        raise InputError(f"{source}: file is empty")
    if b"\0" in buf[:65536]:
        raise InputError(f"{source}: looks like a binary file, not XYZ text")
    end = buf.find(b"\n", text.start())
    first = buf[text.start():end if end >= 0 else len(buf)].strip()
    try:
        first.decode()
    except UnicodeDecodeError:
        raise InputError(f"{source}: looks like a binary file, not XYZ text") from None
    return first


def _check_no_nul(buf: bytes, source: str, first_line: int) -> None:
    """A NUL byte past the start (where _first_line looks) would vanish from a label: damaged text."""
    at = buf.find(b"\0")
    if at >= 0:
        line = first_line + buf.count(b"\n", 0, at)
        raise InputError(f"{where(source, line)}: NUL byte in the text (a binary or damaged file?)")


def _is_count(text: bytes) -> bool:
    return text.isdigit()


class _LineIndex:
    """Byte offsets of every newline, built only when a file has lines of unequal width."""

    def __init__(self, buf: bytes):
        self.buf = buf
        self.newlines: np.ndarray | None = None

    def skip(self, start: int, count: int) -> int | None:
        """Offset just past ``count`` lines from ``start``; None if the file ends first."""
        buf = self.buf
        if count == 0:
            return start
        first = buf.find(b"\n", start)
        if first >= 0:
            end = start + count * (first + 1 - start)
            if end <= len(buf) and buf[end - 1] == 10 and buf.count(b"\n", start, end) == count:
                return end
        if self.newlines is None:
            self.newlines = np.flatnonzero(np.frombuffer(buf, np.uint8) == 10)
        k = int(np.searchsorted(self.newlines, start)) + count - 1
        if k < len(self.newlines):
            return int(self.newlines[k]) + 1
        unterminated = len(buf) > start and buf[-1] != 10
        return len(buf) if unterminated and k == len(self.newlines) else None

    def lines_left(self, start: int) -> int:
        rest = self.buf[start:]
        return rest.count(b"\n") + (1 if rest and not rest.endswith(b"\n") else 0)


def _frames(buf: bytes, source: str, options: ReadOptions, first_line: int = 1) -> list[_Frame]:
    return [_header(buf[comment_start:start].decode(errors="replace").strip(), source, line, n_atoms, start, end,
                    options)
            for line, n_atoms, _, comment_start, start, end in _walk(buf, source, first_line)]


def _walk(buf: bytes, source: str, first_line: int = 1):
    """(line, n_atoms, frame start, comment start, atoms start, atoms end) of every frame (bytes of ``buf``)."""
    index = _LineIndex(buf)
    pos, line = 0, first_line
    previous = None
    while pos < len(buf):
        eol = buf.find(b"\n", pos)
        eol = len(buf) if eol < 0 else eol
        text = buf[pos:eol].strip()
        if not text:
            if _NON_BLANK.search(buf, pos) is None:
                break
            raise InputError(f"{where(source, line)}: blank line where the atom count of a frame was expected")
        if not _is_count(text):
            hint = ""
            if previous:
                hint = f" (does the frame at line {previous[0]} really have {previous[1]} atoms?)"
            raise InputError(f"{where(source, line)}: expected the atom count of a frame, got {_show(text)}{hint}")
        n_atoms = int(text)
        if n_atoms == 0:
            raise InputError(f"{where(source, line)}: frame has 0 atoms")
        comment_end = buf.find(b"\n", eol + 1) if eol < len(buf) else -1
        if eol >= len(buf):
            raise InputError(f"{where(source, line)}: file ends before the comment line of this frame")
        comment_end = len(buf) if comment_end < 0 else comment_end
        start = comment_end + 1
        end = index.skip(start, n_atoms) if start <= len(buf) else None
        if end is None:
            left = index.lines_left(min(start, len(buf)))
            raise InputError(f"{where(source, line)}: frame says {n_atoms} atoms but the file ends after {left} more lines")
        yield line, n_atoms, pos, eol + 1, start, end
        previous = (line, n_atoms)
        pos, line = end, line + n_atoms + 2


def _show(text: bytes, width: int = 40) -> str:
    shown = text.decode(errors="replace")
    return repr(shown if len(shown) <= width else shown[:width] + "...")


def _header(comment: str, source: str, line: int, n_atoms: int, start: int, end: int,
            options: ReadOptions) -> _Frame:
    at = where(source, line + 1)
    pairs = parse_key_values(comment)
    if pairs is None:
        if looks_extended(comment):
            raise InputError(f"{at}: cannot parse this extended-XYZ comment line, {comment_error(comment)}: "
                             f"{_show(comment.encode(), 60)}")
        _check_plain(options, at)
        energy = free_text_energy(comment)
        return _Frame(line, line + 2, n_atoms, start, end, _PLAIN_COLUMNS, True, np.zeros((3, 3)), (False,) * 3,
                      _number(energy, at, "energy") if energy is not None else np.nan, 1.0, None, {},
                      free_text_unit(comment) if energy is not None else None)
    lower = {k.lower(): k for k in pairs}
    cell = np.zeros((3, 3))
    if "lattice" in lower:
        cell = _lattice(pairs[lower["lattice"]], at)
    pbc_default = (True,) * 3 if "lattice" in lower else (False,) * 3
    pbc = tuple(_pbc(pairs[lower["pbc"]], at)) if "pbc" in lower else pbc_default
    if any(pbc) and "lattice" not in lower:
        raise InputError(f"{at}: pbc={pairs[lower['pbc']]!r} but no Lattice")
    plain = "properties" not in lower  # no Properties: rows are El x y z, further columns ignored (as ASE does)
    if plain:
        _check_plain(options, at)
        columns = _PLAIN_COLUMNS
    else:
        spec = pairs[lower["properties"]]
        try:
            columns = _columns(spec if isinstance(spec, str) else "", options)
        except ValueError as err:
            raise InputError(f"{at}: {err}") from None
    energy = pairs.get(options.energy_key)
    weight = pairs[lower["weight"]] if "weight" in lower else "1"
    name = pairs[lower["name"]] if "name" in lower else None
    if name is not None and name is not True and scalar(name) is None:
        raise InputError(f"{at}: name={_shown(name)} must be one string")
    skip = {lower[k] for k in _RESERVED if k in lower} | {options.energy_key}
    return _Frame(
        line, line + 2, n_atoms, start, end, columns, plain, cell, pbc,
        _number(energy, at, options.energy_key) if energy is not None else np.nan,
        _positive(weight, at, "weight"),
        None if name is None or name is True else scalar(name),
        {k: v for k, v in pairs.items() if k not in skip},
    )


def _number(value, at: str, key: str) -> float:
    if value is True:  # a bare ``key`` flag, which float() would read as 1.0
        raise InputError(f"{at}: {key} has no value (expected {key}=NUMBER)")
    try:
        number = to_float(scalar(value))
    except (TypeError, ValueError):
        raise InputError(f"{at}: {key}={_shown(value)} is not a number") from None
    if not np.isfinite(number):
        raise InputError(f"{at}: {key}={scalar(value)} is not finite")
    return number


def _positive(value, at: str, key: str) -> float:
    number = _number(value, at, key)
    if number <= 0:
        raise InputError(f"{at}: {key}={scalar(value)} must be positive")
    return number


def _shown(value) -> str:
    """A value as it is shown in messages: ``'text'`` or ``[a, b]``."""
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(v)[1:-1] if isinstance(v, str) else _shown(v) for v in value) + "]"
    return repr(value)


def _lattice(value, at: str) -> np.ndarray:
    try:
        return _lattice_values(value)
    except (ValueError, TypeError):
        raise InputError(f"{at}: Lattice={_shown(value)} must be 9 finite numbers") from None


@lru_cache(maxsize=4096)
def _lattice_values(value) -> np.ndarray:
    numbers = [to_float(v) for v in values(value)]
    if len(numbers) != 9 or not all(map(math.isfinite, numbers)):
        raise ValueError(value)
    cell = np.array(numbers).reshape(3, 3)
    cell.flags.writeable = False
    return cell


def _pbc(value, at: str) -> list[bool]:
    """Three booleans, or one for all three directions (``pbc=T``, ASE's ``pbc="True"``)."""
    found = parse_bools(value)
    if found is None or len(found) not in (1, 3):
        raise InputError(f"{at}: pbc={_shown(value)} must be three of T/F (or one for all three)")
    return found * 3 if len(found) == 1 else found


def _check_cells(frames: list[_Frame], source: str) -> None:
    cells = np.stack([f.cell for f in frames])
    pbc = np.array([f.pbc for f in frames], bool)
    bad = np.flatnonzero(singular_cells(cells, pbc))
    if len(bad):
        frame = frames[bad[0]]
        raise InputError(f"{where(source, frame.line + 1)}: the cell is singular along its periodic directions "
                         f"(pbc={_pbc_text(frame.pbc)})")


def _check_plain(options: ReadOptions, at: str) -> None:
    """A frame without ``Properties=`` has no columns for --type-key or --fragment-key to name."""
    for flag, key in (("--type-key", options.type_key), ("--fragment-key", options.fragment_key)):
        if key:
            raise InputError(f"{at}: {flag} {key!r} names a Properties= column, but this frame has no Properties= "
                             f"(plain XYZ: El x y z)")


def _pbc_text(pbc) -> str:
    return " ".join("T" if p else "F" for p in pbc)


@lru_cache(maxsize=256)
def _columns(spec: str, options: ReadOptions) -> tuple[Column, ...]:
    """The columns of ``Properties=spec``, checked for what ljfit needs; ValueError if unusable."""
    columns = tuple(parse_properties(spec))
    kinds = {name: (kind, count) for name, kind, count in columns}
    if kinds.get("species") != ("S", 1):
        raise ValueError(f"Properties={spec!r} has no species:S:1 column")
    if kinds.get("pos") != ("R", 3):
        raise ValueError(f"Properties={spec!r} has no pos:R:3 column")
    if "forces" in kinds and kinds["forces"] != ("R", 3):
        raise ValueError(f"forces must be R:3 in Properties={spec!r}")
    if options.type_key and kinds.get(options.type_key) != ("S", 1):
        raise ValueError(f"--type-key {options.type_key!r} is not a string column (S:1) of Properties={spec!r}")
    key = options.fragment_key or "fragment"
    if key in kinds and kinds[key] != ("I", 1):
        raise ValueError(f"fragment column {key!r} must be I:1 in Properties={spec!r}")
    if options.fragment_key and key not in kinds:
        raise ValueError(f"--fragment-key {key!r} is not a column of Properties={spec!r}")
    return columns


def _headerless_frame(buf: bytes) -> _Frame:
    start = len(buf) - len(buf.lstrip(b" \t\r\n"))
    start = buf.rfind(b"\n", 0, start) + 1
    n_atoms = buf[start:].rstrip().count(b"\n") + 1
    line = buf.count(b"\n", 0, start) + 1
    return _Frame(line, line, n_atoms, start, len(buf), _PLAIN_COLUMNS, True,
                  np.zeros((3, 3)), (False,) * 3, np.nan, 1.0, None, {})


# ---------------------------------------------------------------- atom lines


def _dtype(columns: tuple[Column, ...], label_bytes: int, text: str = "S") -> np.dtype:
    """``text`` is the kind of string columns: S (bytes, for ASCII lines) or U (str, for UTF-8 lines)."""
    base = {"S": f"{text}{label_bytes}", "R": "f8", "I": "i8", "L": f"{text}8"}
    return np.dtype([(name, base[kind]) if count == 1 else (name, base[kind], (count,))
                     for name, kind, count in columns])


def _parse_group(buf: bytes, source: str, frames: list[_Frame]) -> dict[str, np.ndarray]:
    """The columns of the atom lines of ``frames`` (which share one column layout), by name."""
    columns, plain = frames[0].columns, frames[0].plain
    lines = _equal_width_lines(buf, frames)
    if lines is not None:
        parsed = parse_fixed_width(lines, columns)
        if parsed is not None:
            return parsed
    data = b"".join(buf[f.start:f.end] if buf[f.end - 1:f.end] == b"\n" else buf[f.start:f.end] + b"\n"
                    for f in frames)
    expected = sum(f.n_atoms for f in frames)
    # ASCII (the usual case) is parsed as bytes, which is fastest; anything else must be UTF-8, decoded as such
    # (loadtxt's default latin-1 would split a UTF-8 label at bytes such as 0x85 and 0xa0).
    text, encoding = ("S", "bytes") if data.isascii() else ("U", "utf-8")
    for width in _LABEL_BYTES:
        try:
            with warnings.catch_warnings():  # blank lines only: the row count check below reports them
                warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
                rows = np.loadtxt(io.BytesIO(data), dtype=_dtype(columns, width, text), comments=None, ndmin=1,
                                  usecols=range(4) if plain else None, encoding=encoding)
        except ValueError:
            rows = None
        if rows is None or len(rows) != expected or not _logicals_ok(rows, columns):
            _locate_bad_line(buf, source, frames)
            raise InputError(f"{source}: cannot parse the atom lines (expected {expected} rows)")
        strings = [name for name, kind, _ in columns if kind == "S"]
        if not any(_fills_width(rows[name]) for name in strings):
            return {name: rows[name] for name in rows.dtype.names}
    raise InputError(f"{source}: a string column has an entry longer than {_LABEL_BYTES[-1] - 1} characters")


def _equal_width_lines(buf: bytes, frames: list[_Frame]) -> np.ndarray | None:
    """The atom lines of ``frames`` as [n_lines, line_bytes] uint8 when all have one length (as ASE writes)."""
    first = frames[0]
    width = buf.find(b"\n", first.start) + 1 - first.start
    if width <= 0 or any(f.end - f.start != f.n_atoms * width for f in frames):
        return None
    raw = np.frombuffer(buf, np.uint8)
    return np.concatenate([raw[f.start:f.end] for f in frames]).reshape(-1, width)


def _logicals_ok(rows: np.ndarray, columns: tuple[Column, ...]) -> bool:
    """Whether the L columns (read as strings) hold only T/F/true/false."""
    logical = [name for name, kind, _ in columns if kind == "L"]
    return all(np.isin(np.char.upper(rows[name]), np.array(["T", "F", "TRUE", "FALSE"], rows[name].dtype)).all()
               for name in logical)


def _locate_bad_line(buf: bytes, source: str, frames: list[_Frame]) -> None:
    """Raise InputError naming the first atom line that does not fit its frame's columns."""
    converters = {"R": _strict(float), "I": _strict(int),
                  "L": lambda t: {"T": 1, "F": 0, "TRUE": 1, "FALSE": 0}[t.upper()], "S": str}
    for frame in frames:
        kinds = [(name, kind) for name, kind, count in frame.columns for _ in range(count)]
        width = 4 if frame.plain else len(kinds)
        spec = "El x y z" if frame.plain else ":".join(f"{n}:{k}:{c}" for n, k, c in frame.columns)
        lines = buf[frame.start:frame.end].split(b"\n")
        for k, raw in enumerate(lines[:frame.n_atoms]):
            at = where(source, frame.first_atom_line + k)
            try:
                tokens = raw.decode().split()
            except UnicodeDecodeError:
                raise InputError(f"{at}: atom line is not UTF-8 text: {_show(raw)}") from None
            if b"\r" in raw.rstrip(b"\r"):
                raise InputError(f"{at}: atom line has a carriage return inside it: {_show(raw)}")
            if len(tokens) < width or (len(tokens) > width and not frame.plain):
                raise InputError(f"{at}: expected {width} columns ({spec}), got {len(tokens)}")
            for token, (name, kind) in zip(tokens, kinds):
                try:
                    converters[kind](token)
                except (ValueError, KeyError):
                    what = {"R": "a number", "I": "an integer", "L": "T or F"}[kind]
                    raise InputError(f"{at}: {name} value {token!r} is not {what}") from None


def _strict(convert):
    """``convert`` (float or int), refusing what numpy.loadtxt refuses but Python takes: ``1_000``, non-ASCII digits."""
    def strict(token: str):
        if not token.isascii() or "_" in token:
            raise ValueError(token)
        return convert(token)
    return strict


# ---------------------------------------------------------------- assembly


def _assemble(buf: bytes, source: str, frames: list[_Frame], options: ReadOptions,
              part: FilePart | None = None) -> Dataset:
    groups = _groups(frames)
    parts = [_parse_group(buf, source, group) for group in groups]
    columns = _common_columns(groups)
    to_angstrom = length_factor(options.length_unit)
    to_ev = energy_factor(options.energy_unit)
    n_atoms = np.array([f.n_atoms for f in frames])
    offsets = np.concatenate([[0], np.cumsum(n_atoms)]).astype(np.int64)
    lines = np.array([f.first_atom_line for f in frames], np.int64)

    positions = np.concatenate([p["pos"] for p in parts]) * to_angstrom
    _check_finite(positions, "coordinates", source, offsets, lines)
    species, species_names = _labels(_column(parts, "species"))
    types, type_names = species, species_names
    if options.type_key:
        types, type_names = _labels(_column(parts, options.type_key))

    forces = None
    if any("forces" in p for p in parts):
        forces = np.concatenate([p["forces"] if "forces" in p else np.full((len(p["pos"]), 3), np.nan)
                                 for p in parts]) * (to_ev / to_angstrom)
        has = np.concatenate([np.full(len(p["pos"]), "forces" in p) for p in parts])
        _check_finite(np.where(has[:, None], forces, 0.0), "forces", source, offsets, lines)

    fragment_key = options.fragment_key or "fragment"
    fragments = _fragments(groups, parts, fragment_key, source)
    skip = {"species", "pos", "forces", fragment_key, options.type_key}
    extra = {name: _column(parts, name) for name in columns if name not in skip}
    extra = {k: (v.astype(str) if v.dtype.kind == "S" else v) for k, v in extra.items()}

    stem = "stdin" if source == "<stdin>" else Path(source).stem
    first, in_file = (part.first_frame, part.frames_in_file) if part else (0, len(frames))
    names = tuple(f.name if f.name is not None else (stem if in_file == 1 else f"{stem}:{first + k}")
                  for k, f in enumerate(frames))
    return Dataset(
        positions=positions,
        type_index=types,
        type_names=type_names,
        species_index=species,
        species_names=species_names,
        frame_offsets=offsets,
        cells=np.stack([f.cell for f in frames]) * to_angstrom,
        pbc=np.array([f.pbc for f in frames], bool),
        energies=np.array([f.energy for f in frames]) * to_ev,
        weights=np.array([f.weight for f in frames]),
        forces=forces,
        fragments=fragments,
        names=names,
        sources=(source,) * len(frames),
        first_atom_line=lines,
        info=tuple(f.info for f in frames),
        extra=extra,
    )


def _groups(frames: list[_Frame]) -> list[list[_Frame]]:
    """Runs of consecutive frames with the same column layout."""
    groups: list[list[_Frame]] = []
    for frame in frames:
        if groups and groups[-1][0].columns == frame.columns and groups[-1][0].plain == frame.plain:
            groups[-1].append(frame)
        else:
            groups.append([frame])
    return groups


def _common_columns(groups: list[list[_Frame]]) -> list[str]:
    """Names of the columns that every group has with the same type and count."""
    first, others = groups[0][0].columns, [g[0].columns for g in groups[1:]]
    return [column[0] for column in first if all(column in other for other in others)]


def _column(parts: list[dict[str, np.ndarray]], name: str) -> np.ndarray:
    """Column ``name`` of all parts; string columns parsed as bytes in some parts and as str in others become str."""
    values = [p[name] for p in parts]
    if len({v.dtype.kind for v in values}) > 1:
        values = [v.astype(str) for v in values]
    return np.concatenate(values)


def _fragments(groups: list[list[_Frame]], parts: list[dict[str, np.ndarray]], key: str,
               source: str) -> np.ndarray | None:
    """The fragment column of every frame; None if no frame has one, an error if only some do."""
    has = [key in p for p in parts]
    if not any(has):
        return None
    if not all(has):
        frame = groups[has.index(False)][0]
        raise InputError(f"{where(source, frame.line + 1)}: this frame has no {key!r} column but other frames "
                         f"of the file do")
    return np.concatenate([p[key] for p in parts]).astype(np.int64)


def _fills_width(labels: np.ndarray) -> bool:
    """Whether any fixed-width byte string uses its last byte (it may have been cut short)."""
    width = labels.dtype.itemsize
    return len(labels) > 0 and bool(np.ascontiguousarray(labels).view(np.uint8)[width - 1::width].any())


def _labels(raw: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Index into sorted distinct labels. A few distinct labels among many atoms (the usual case) are
    found by repeated vectorized comparison, far faster than sorting every string."""
    if raw.dtype.kind == "S" and raw.dtype.itemsize % 8 == 0 and len(raw) > 1000:
        words = np.ascontiguousarray(raw).view(np.uint64).reshape(len(raw), -1)
        index = np.full(len(raw), -1, np.int32)
        found: list[bytes] = []
        while len(found) < 64:
            left = np.flatnonzero(index < 0)
            if len(left) == 0:
                order = np.argsort(found)
                return np.argsort(order).astype(np.int32)[index], tuple(found[k].decode() for k in order)
            first = words[left[0]]
            same = words[:, 0] == first[0]
            for column in range(1, words.shape[1]):  # a column at a time: reductions along axis 1 are slow
                same &= words[:, column] == first[column]
            index[same] = len(found)
            found.append(raw[left[0]])
    names, index = np.unique(raw, return_inverse=True)
    return index.astype(np.int32), tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _check_finite(values: np.ndarray, what: str, source: str, offsets, lines) -> None:
    if np.isfinite(values).all():  # the usual case, cheaply; locate the culprit only when there is one
        return
    bad = np.flatnonzero(~np.all(np.isfinite(values), axis=1))
    atom = int(bad[0])
    frame = int(np.searchsorted(offsets, atom, side="right") - 1)
    line = int(lines[frame]) + atom - int(offsets[frame])
    raise InputError(f"{where(source, line)}: {what} are not finite (NaN or inf)")
