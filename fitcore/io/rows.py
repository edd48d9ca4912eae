"""The atom lines of frames that share a column layout, parsed together into columns.

As columns of bytes when every line has the same length and fields (fixed_width.py;
ASE writes such files), else by ONE ``numpy.loadtxt`` call with a structured dtype.
When that call fails, a slow line-by-line check finds the first bad line so the
error can name it.
"""
import io
import warnings

import numpy as np

from ..errors import InputError, where
from .fixed_width import parse_fixed_width
from .framing import show
from .header import Column, Frame

_LABEL_BYTES = (16, 256)  # widths tried for string columns; a label filling one is retried wider


def _dtype(columns: tuple[Column, ...], label_bytes: int, text: str = "S") -> np.dtype:
    """``text`` is the kind of string columns: S (bytes, for ASCII lines) or U (str, for UTF-8 lines)."""
    base = {"S": f"{text}{label_bytes}", "R": "f8", "I": "i8", "L": f"{text}8"}
    return np.dtype([(name, base[kind]) if count == 1 else (name, base[kind], (count,))
                     for name, kind, count in columns])


def parse_rows(buf: bytes, source: str, frames: list[Frame]) -> dict[str, np.ndarray]:
    """The columns of the atom lines of ``frames`` (which share one column layout), by name."""
    columns, plain = frames[0].header.columns, frames[0].header.plain
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


def _equal_width_lines(buf: bytes, frames: list[Frame]) -> np.ndarray | None:
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


def _locate_bad_line(buf: bytes, source: str, frames: list[Frame]) -> None:
    """Raise InputError naming the first atom line that does not fit its frame's columns."""
    converters = {"R": _strict(float), "I": _strict(int),
                  "L": lambda t: {"T": 1, "F": 0, "TRUE": 1, "FALSE": 0}[t.upper()], "S": str}
    for frame in frames:
        columns, plain = frame.header.columns, frame.header.plain
        kinds = [(name, kind) for name, kind, count in columns for _ in range(count)]
        width = 4 if plain else len(kinds)
        spec = "El x y z" if plain else ":".join(f"{n}:{k}:{c}" for n, k, c in columns)
        lines = buf[frame.start:frame.end].split(b"\n")
        for k, raw in enumerate(lines[:frame.n_atoms]):
            at = where(source, frame.first_atom_line + k)
            try:
                tokens = raw.decode().split()
            except UnicodeDecodeError:
                raise InputError(f"{at}: atom line is not UTF-8 text: {show(raw)}") from None
            if b"\r" in raw.rstrip(b"\r"):
                raise InputError(f"{at}: atom line has a carriage return inside it: {show(raw)}")
            if len(tokens) < width or (len(tokens) > width and not plain):
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


def _fills_width(labels: np.ndarray) -> bool:
    """Whether any fixed-width byte string uses its last byte (it may have been cut short)."""
    width = labels.dtype.itemsize
    return len(labels) > 0 and bool(np.ascontiguousarray(labels).view(np.uint8)[width - 1::width].any())
