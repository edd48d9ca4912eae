"""What the comment line of a frame says: cell, pbc, column layout, energy, weight, name, other keys.

The comment is parsed once per frame (comment.py); the keys ljfit uses are checked here
and converted (``Lattice``, ``pbc``, ``Properties``, ``name``, ``weight`` in any case,
the energy key as given), every problem an InputError naming file and line.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .comment import (comment_error, free_text_energy, free_text_unit, looks_extended, parse_bools, parse_key_values,
                      parse_properties, scalar, to_float, values)
from .framing import show

Column = tuple[str, str, int]  # name, kind letter (S/R/I/L), number of sub-columns
PLAIN_COLUMNS: tuple[Column, ...] = (("species", "S", 1), ("pos", "R", 3))
_RESERVED = {"lattice", "properties", "pbc", "name", "weight"}
_NO_CELL = np.zeros((3, 3))
_NO_CELL.flags.writeable = False


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """How to read structure files: which keys and columns mean what, and the units of the file."""
    energy_key: str = "energy"
    type_key: str | None = None  # per-atom string column giving parameter types
    fragment_key: str | None = None  # None: use a "fragment" column where there is one
    length_unit: str = "angstrom"
    energy_unit: str = "eV"


class Header(NamedTuple):
    """One frame's comment line, in the file's units."""
    columns: tuple[Column, ...]
    plain: bool  # plain XYZ or headerless: only the first four columns (El x y z) are read
    cell: np.ndarray  # [3, 3], rows are the cell vectors; zeros when there is no Lattice
    pbc: tuple[bool, bool, bool]
    energy: float  # NaN when the frame has none
    weight: float
    name: str | None
    info: dict  # the other keys, values as comment.py gives them
    unit: str | None = None  # an energy unit named in a free-text comment


def plain_header(energy: float = np.nan, unit: str | None = None) -> Header:
    """The header of a frame without key=value pairs (plain XYZ, headerless): El x y z rows, no cell."""
    return Header(columns=PLAIN_COLUMNS, plain=True, cell=_NO_CELL, pbc=(False,) * 3, energy=energy, weight=1.0,
                  name=None, info={}, unit=unit)


class Frame(NamedTuple):
    """One frame: where its atom lines are, and its header."""
    line: int  # 1-based line of the count line (of the first row when headerless)
    first_atom_line: int
    n_atoms: int
    start: int  # byte range of the atom lines
    end: int
    header: Header


def parse_header(comment: str, at: str, options: ReadOptions) -> Header:
    """The header of a frame whose comment line is ``comment``; ``at`` is ``file:line`` for messages."""
    pairs = parse_key_values(comment)
    if pairs is None:
        return _free_text_header(comment, at, options)
    lower = {k.lower(): k for k in pairs}
    cell = _lattice(pairs[lower["lattice"]], at) if "lattice" in lower else _NO_CELL
    pbc_default = (True,) * 3 if "lattice" in lower else (False,) * 3
    pbc = _pbc(pairs[lower["pbc"]], at) if "pbc" in lower else pbc_default
    if any(pbc) and "lattice" not in lower:
        raise InputError(f"{at}: pbc={_shown(pairs[lower['pbc']])} but no Lattice")
    plain = "properties" not in lower  # no Properties: rows are El x y z, further columns ignored (as ASE does)
    if plain:
        check_plain(options, at)
        columns = PLAIN_COLUMNS
    else:
        spec = pairs[lower["properties"]]
        try:
            columns = _columns(spec if isinstance(spec, str) else "", options)
        except ValueError as err:
            raise InputError(f"{at}: {err}") from None
    energy = pairs.get(options.energy_key)
    name = pairs[lower["name"]] if "name" in lower else None
    if name is not None and name is not True and scalar(name) is None:
        raise InputError(f"{at}: name={_shown(name)} must be one string")
    skip = {lower[k] for k in _RESERVED if k in lower} | {options.energy_key}
    return Header(
        columns=columns, plain=plain, cell=cell, pbc=pbc,
        energy=_number(energy, at, options.energy_key) if energy is not None else np.nan,
        weight=_positive(pairs[lower["weight"]], at, "weight") if "weight" in lower else 1.0,
        name=None if name is None or name is True else scalar(name),
        info={k: v for k, v in pairs.items() if k not in skip},
    )


def _free_text_header(comment: str, at: str, options: ReadOptions) -> Header:
    """A comment that is not key=value pairs: plain XYZ, with the energy a free-text comment may give."""
    if looks_extended(comment):
        raise InputError(f"{at}: cannot parse this extended-XYZ comment line, {comment_error(comment)}: "
                         f"{show(comment.encode(), 60)}")
    check_plain(options, at)
    energy = free_text_energy(comment)
    if energy is None:
        return plain_header()
    return plain_header(_number(energy, at, "energy"), free_text_unit(comment))


def check_plain(options: ReadOptions, at: str) -> None:
    """A frame without ``Properties=`` has no columns for --type-key or --fragment-key to name."""
    for flag, key in (("--type-key", options.type_key), ("--fragment-key", options.fragment_key)):
        if key:
            raise InputError(f"{at}: {flag} {key!r} names a Properties= column, but this frame has no Properties= "
                             f"(plain XYZ: El x y z)")


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
        raise InputError(f"{at}: Lattice={_shown(value)} must be 9 finite numbers "
                         f"(or 3 x 3, or 3 for a diagonal)") from None


@lru_cache(maxsize=4096)
def _lattice_values(value) -> np.ndarray:
    """Rows are the cell vectors: ``"R1x R1y R1z R2x ... R3z"`` (9 numbers, as ASE writes them), the columns
    of a 2-d ``[[R1x, R2x, R3x], [R1y, ...], ...]`` (as libAtoms' extxyz reads and writes it), or the
    diagonal of an orthorhombic cell (3 numbers, libAtoms)."""
    if isinstance(value, tuple) and value and all(isinstance(row, tuple) for row in value):
        if len(value) != 3 or any(len(row) != 3 for row in value):
            raise ValueError(value)
        cell = np.array([[to_float(v) for v in row] for row in value]).T
    else:
        numbers = [to_float(v) for v in values(value)]
        if len(numbers) not in (3, 9):
            raise ValueError(value)
        cell = np.diag(numbers) if len(numbers) == 3 else np.array(numbers).reshape(3, 3)
    if not np.isfinite(cell).all():
        raise ValueError(value)
    cell.flags.writeable = False
    return cell


def _pbc(value, at: str) -> tuple[bool, bool, bool]:
    """Three booleans, or one for all three directions (``pbc=T``, ASE's ``pbc="True"``)."""
    found = parse_bools(value)
    if found is None or len(found) not in (1, 3):
        raise InputError(f"{at}: pbc={_shown(value)} must be three of T/F (or one for all three)")
    return tuple(found * 3 if len(found) == 1 else found)


def pbc_text(pbc) -> str:
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
