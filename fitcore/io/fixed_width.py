"""Atom lines in fixed-width columns, as ASE writes them, parsed as columns of bytes.

ASE's extended XYZ writes every atom line of a file with one layout: labels left
aligned (``%-2s``), reals right aligned with a fixed number of decimals (``%16.8f``).
When all lines have one length, the fields are cut apart at columns that are a
space in every line, and any eight bytes at one place of every line are read as
one little-endian uint64 per line (a strided view of the text, then one copy):

- a label (at most eight bytes), starting where the first line's does, is its word
  with the padding spaces zeroed, viewed as a byte string;
- a real ``[-]ddd.dddddddd``, with its point and last digit where the first line
  has them, is two integers: the word of (up to) eight bytes before the point and
  the word(s) of the decimals, each summed with the SWAR digit arithmetic of
  simdjson/fast_float (three multiply-and-shift steps per word), then one division
  by 10**decimals. With the digits below 2**53 and the power of ten exact, IEEE
  division rounds the exact decimal once: the result equals ``float(text)``;
- an integer ``[-]ddd`` (ASE's ``%8d``), right-aligned, is the word before its end.

Every byte of every line is checked, columns that must hold a space or the point
one by one, the rest with byte-class masks on the same words (digits, at most one
minus right before them, spaces elsewhere). Anything else (exponents, ``+``, tabs,
logical columns, labels over eight bytes, integers over eight, a field out of place)
returns None, and the caller parses with numpy.loadtxt instead.
"""
import sys
from dataclasses import dataclass

import numpy as np

Column = tuple[str, str, int]  # name, kind letter (S/R/I/L), number of sub-columns

_SPACE, _MINUS, _POINT, _ZERO = 32, 45, 46, 48
_SWAR_STEPS = tuple((np.uint64(mask), np.uint64(factor), np.uint64(shift)) for mask, factor, shift in (
    (0x0F0F0F0F0F0F0F0F, 2561, 8),  # pairs of digits: 10 * d0 + d1 in every other byte
    (0x00FF00FF00FF00FF, 6553601, 16),  # groups of four
    (0x0000FFFF0000FFFF, 42949672960001, 32),  # all eight
))
_ONES = 0x0101010101010101
_LOW7 = np.uint64(0x7F * _ONES)
_HIGH = np.uint64(0x80 * _ONES)
_EXACT = 2 ** 53


@dataclass(frozen=True)
class _Label:
    start: int  # first column of the label (left-aligned)
    stop: int  # end of its field


@dataclass(frozen=True)
class _Number:
    first: int  # first column of its field
    point: int  # column of the decimal point; of the end for an integer
    end: int  # column after the last digit


def parse_fixed_width(lines: np.ndarray, columns: tuple[Column, ...]) -> dict[str, np.ndarray] | None:
    """Columns of atom lines ``lines`` [n_lines, line_bytes] uint8 (each ending in a newline), or None.

    Labels come back as byte strings (dtype S8), reals as float64 and integers as int64, each
    [n] or [n, count]. Every line must have exactly the fields ``columns`` name.
    """
    if sys.byteorder != "little" or any(kind not in "SRI" for _, kind, _ in columns) or len(lines) == 0:
        return None
    fields = _layout(lines, [kind for _, kind, count in columns for _ in range(count)])
    if fields is None:
        return None
    words = _Words(lines)
    values = [_labels(words, f) if isinstance(f, _Label) else _numbers(words, f) for f in fields]
    if any(v is None for v in values):
        return None
    out, k = {}, 0
    for name, _, count in columns:
        out[name] = values[k] if count == 1 else np.stack(values[k:k + count], axis=1)
        k += count
    return out


def _layout(lines: np.ndarray, kinds: list[str]) -> list[_Label | _Number] | None:
    """Where each field sits, from the first line, checked column by column on all lines; None if the
    lines do not share one layout of ``kinds``."""
    content = _content_width(lines)
    if content is None:
        return None
    tokens = _tokens(lines[0, :content])
    if len(tokens) != len(kinds):
        return None  # (plain XYZ lines with further columns included: loadtxt ignores those)
    # fields are cut at a column that is a space in every line (a label may be longer in some lines than
    # in the first, a number wider), so that no token can straddle two fields
    cuts = [_blank_column(lines, end, next_start) for (_, end), (next_start, _) in zip(tokens, tokens[1:])]
    if None in cuts:
        return None
    fields: list[_Label | _Number] = []
    for kind, (start, end), first, stop in zip(kinds, tokens, [0] + [c + 1 for c in cuts], cuts + [content]):
        if kind == "S":
            if stop - start > 8 or not _blank_columns(lines, first, start):
                return None
            fields.append(_Label(start, stop))
            continue
        point = end if kind == "I" else _point(lines, start, end)
        if point is None:
            return None
        if not (_blank_columns(lines, end, stop) and _blank_columns(lines, first, point - 8)):
            return None  # (at most eight bytes before the point, or the end, hold a number's digits)
        fields.append(_Number(first, point, end))
    return fields


def _point(lines: np.ndarray, start: int, end: int) -> int | None:
    """The column of the one point in the first line's token ``start:end``, followed by 1 to 16 decimals
    and a point in that column of every line; None otherwise."""
    points = start + np.flatnonzero(lines[0, start:end] == _POINT)
    if len(points) != 1 or not 1 <= end - points[0] - 1 <= 16 or not (lines[:, points[0]] == _POINT).all():
        return None
    return int(points[0])


class _Words:
    """Any eight consecutive bytes of every line as one little-endian uint64 each."""

    def __init__(self, lines: np.ndarray):
        self.n_lines, self.width = lines.shape
        self.padded = np.full(lines.size + 16, _SPACE, np.uint8)  # 8 spaces before and after: windows may overhang
        self.padded[8:-8] = lines.reshape(-1)

    def at(self, column: int) -> np.ndarray:
        """[n_lines] uint64: bytes ``column`` .. ``column + 7`` of each line (byte ``column`` is the lowest)."""
        return np.ndarray((self.n_lines,), "<u8", self.padded, offset=8 + column, strides=(self.width,)).copy()


def _blank_column(lines: np.ndarray, start: int, stop: int) -> int | None:
    """The first column in ``start:stop`` that is a space in every line."""
    for column in range(start, stop):
        if (lines[:, column] == _SPACE).all():
            return column
    return None


def _blank_columns(lines: np.ndarray, start: int, stop: int) -> bool:
    return all((lines[:, column] == _SPACE).all() for column in range(start, stop))


def _content_width(lines: np.ndarray) -> int | None:
    """Bytes before the line ending (LF or CRLF, the same on every line), or None."""
    width = lines.shape[1]
    if not (lines[:, -1] == 10).all():
        return None
    if width > 1 and lines[0, -2] == 13:
        return width - 2 if (lines[:, -2] == 13).all() else None
    return width - 1


def _tokens(first: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each space-separated token of the first line."""
    filled = np.concatenate([[False], first != _SPACE, [False]])
    edges = np.flatnonzero(filled[1:] != filled[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _low_bytes(count: int) -> np.uint64:
    """A mask of the lowest ``count`` bytes of a word (its first ``count`` characters)."""
    return np.uint64((1 << (8 * count)) - 1)


def _with_low_bytes(word: np.ndarray, count: int, byte: int) -> np.ndarray:
    """``word`` with its lowest ``count`` bytes replaced by ``byte``."""
    return (word & ~_low_bytes(count)) | (np.uint64(byte * _ONES) & _low_bytes(count))


def _labels(words: _Words, field: _Label) -> np.ndarray | None:
    """The left-aligned labels of ``field`` as S8 strings; None if one is not a run of printable bytes."""
    inside = _low_bytes(field.stop - field.start)
    word = words.at(field.start) & inside
    printable = _printable_bytes(word) & inside
    space = _equal_bytes(word, _SPACE) & inside
    run = (printable >> np.uint64(7)) * np.uint64(0xFF)  # must be 2**(8 j) - 1: printable bytes, then spaces
    if not (((printable | space) == (_HIGH & inside)).all() and ((run & (run + np.uint64(1))) == 0).all()
            and (printable & np.uint64(0x80)).all()):
        return None
    return (word & run).view("S8")


def _numbers(words: _Words, field: _Number) -> np.ndarray | None:
    """The numbers ``[-]digits.digits`` (``[-]digits`` for an integer) of ``field``, right-aligned on its
    point or end; None if one is not."""
    whole = _with_low_bytes(words.at(field.point - 8), max(0, field.first - (field.point - 8)), _SPACE)
    signed = _signed_digits(whole)
    if signed is None:
        return None
    units, negative = signed
    if field.point == field.end:
        integers = units.astype(np.int64)
        return np.negative(integers, out=integers, where=negative)
    decimals = field.end - field.point - 1
    fraction = np.stack([words.at(field.end - 8 * k) for k in range(-(-decimals // 8), 0, -1)], axis=1)
    fraction[:, 0] = _with_low_bytes(fraction[:, 0], 8 * fraction.shape[1] - decimals, _ZERO)
    scale = 10 ** decimals
    if not (_digit_bytes(fraction) == _HIGH).all() or units.max(initial=0) >= _EXACT // scale:
        return None
    values = (units * np.uint64(scale) + _digits_value(fraction)).astype(np.float64) / float(scale)
    return np.negative(values, out=values, where=negative)


def _signed_digits(word: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(value, whether negative) of ``word``s that read spaces, an optional minus, then at least one digit
    up to their last byte; None if one does not."""
    space, minus, digit = _equal_bytes(word, _SPACE), _equal_bytes(word, _MINUS), _digit_bytes(word)
    below_digits = ~((digit >> np.uint64(7)) * np.uint64(0xFF))  # 2**(8 j) - 1 when the digits are the top bytes
    first_digit = below_digits + np.uint64(1)
    checks = (
        (space | minus | digit) == _HIGH,  # only spaces, minus and digits
        (below_digits & first_digit) == 0,  # the digits are one run up to the last byte
        digit >> np.uint64(63) == 1,  # at least one, in the last byte
        (minus == 0) | (minus == ((first_digit << np.uint64(7)) >> np.uint64(8))),  # a minus right before them
    )
    if not all(check.all() for check in checks):
        return None
    return _digits_value((word & ~((minus >> np.uint64(7)) * np.uint64(0x0F)))[:, None]), minus != 0


def _equal_bytes(words: np.ndarray, byte: int) -> np.ndarray:
    """0x80 in each byte of ``words`` that equals ``byte``, else 0 (exact: no carry crosses bytes)."""
    x = words ^ np.uint64(byte * _ONES)
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


def _printable_bytes(words: np.ndarray) -> np.ndarray:
    """0x80 in each byte of ``words`` that is printable ASCII other than space (33..126), else 0."""
    low = words & _LOW7
    at_least_33 = low + np.uint64(0x5F * _ONES)  # bit 7 set when low >= 33
    is_127 = low + np.uint64(_ONES)  # bit 7 set when low == 127
    return at_least_33 & ~is_127 & ~words & _HIGH


def _digit_bytes(words: np.ndarray) -> np.ndarray:
    """0x80 in each byte of ``words`` that is an ASCII digit, else 0."""
    x = words ^ np.uint64(_ZERO * _ONES)
    return ~(((x & _LOW7) + np.uint64(0x76 * _ONES)) | x | _LOW7)  # bit 7 set unless x < 10


def _digits_value(words: np.ndarray) -> np.ndarray:
    """The integer written in each row of ``words`` [n, k] (digits, spaces read as 0; most significant
    word first) as uint64."""
    value = np.zeros(len(words), np.uint64)
    for word in words.T:
        for mask, factor, shift in _SWAR_STEPS:
            word = ((word & mask) * factor) >> shift
        value = value * np.uint64(10 ** 8) + word
    return value
