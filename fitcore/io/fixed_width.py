"""Atom lines in fixed-width columns, as ASE writes them, parsed as columns of bytes.

ASE's extended XYZ writes every atom line of a file with one layout: labels left
aligned (``%-2s``), reals right aligned with a fixed number of decimals (``%16.8f``).
When all lines have one length, the fields are cut apart at columns that are a
space in every line, and each field is a block of bytes [n_lines, width]:

- a label, starting where the first line's does, is its block with the padding
  spaces zeroed, viewed as a byte string;
- a real ``[-]ddd.dddddddd``, with its point and last digit where the first line
  has them, is two integers, the digits before and after the point, read eight
  bytes at a time as little-endian uint64 words (the SWAR digit sum of
  simdjson/fast_float: three multiply-and-shift steps per word), then one division
  by 10**decimals. With the digits below 2**53 and the power of ten exact, IEEE
  division rounds the exact decimal once: the result equals ``float(text)``.

Every byte of every line is checked, with byte-class masks on the same uint64
words (digits and point in place, at most one minus right before the digits,
spaces elsewhere). Anything else (exponents, ``+``, tabs, integer or logical
columns, a field out of place) returns None, and the caller parses with
numpy.loadtxt instead.
"""
import sys

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


def parse_fixed_width(lines: np.ndarray, columns: tuple[Column, ...]) -> dict[str, np.ndarray] | None:
    """Columns of atom lines ``lines`` [n_lines, line_bytes] uint8 (each ending in a newline), or None.

    Labels come back as byte strings (dtype S, width a multiple of 8), reals as float64
    ([n] or [n, count]). Every line must have exactly the fields ``columns`` name.
    """
    if sys.byteorder != "little" or any(kind not in "SR" for _, kind, _ in columns) or len(lines) == 0:
        return None
    content = _content_width(lines)
    if content is None:
        return None
    tokens = _tokens(lines[0, :content])
    if len(tokens) != sum(count for _, _, count in columns):
        return None  # (plain XYZ lines with further columns included: loadtxt ignores those)
    # fields are cut at a column that is a space in every line (a label may be longer in some lines than
    # in the first, a number wider), so that no token can straddle two fields
    cuts = [_blank_column(lines, end, next_start) for (_, end), (next_start, _) in zip(tokens, tokens[1:])]
    if None in cuts:
        return None
    bounds = [0, *cuts, content]
    out: dict[str, np.ndarray] = {}
    k = 0
    for name, kind, count in columns:
        values = []
        for _ in range(count):
            field, (start, end) = lines[:, bounds[k]:bounds[k + 1]], tokens[k]
            if kind == "S":
                value = _labels(field, start - bounds[k])
            else:
                value = _reals(field, lines[0, start:end], start - bounds[k])
            if value is None:
                return None
            values.append(value)
            k += 1
        out[name] = values[0] if count == 1 else np.stack(values, axis=1)
    return out


def _blank_column(lines: np.ndarray, start: int, stop: int) -> int | None:
    """The first column in ``start:stop`` that is a space in every line."""
    for column in range(start, stop):
        if (lines[:, column] == _SPACE).all():
            return column
    return None


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


def _is_blank(block: np.ndarray) -> bool:
    return bool((block == _SPACE).all())


def _labels(block: np.ndarray, token_at: int) -> np.ndarray | None:
    """Left-aligned labels starting at column ``token_at`` of ``block``, as S-strings; None if out of place."""
    if not _is_blank(block[:, :token_at]):
        return None
    text = block[:, token_at:]
    space = text == _SPACE
    printable = (text - np.uint8(33)) < 94  # 33..126; uint8 arithmetic wraps the rest above
    # the label is one run of printable bytes from the first column, then only spaces
    if not ((space | printable).all() and printable[:, 0].all() and (space[:, 1:] >= space[:, :-1]).all()):
        return None
    width = -(-text.shape[1] // 8) * 8  # a multiple of 8 lets labels be compared as uint64 words
    padded = np.zeros((len(text), width), np.uint8)
    padded[:, :text.shape[1]] = np.where(space, 0, text)
    return padded.view(f"S{width}")[:, 0]


def _reals(block: np.ndarray, token: np.ndarray, token_at: int) -> np.ndarray | None:
    """Right-aligned ``[-]digits.digits`` in ``block``, the point and the last digit where the first
    line's ``token`` (at column ``token_at``) has them; spaces elsewhere."""
    points = np.flatnonzero(token == _POINT)
    if len(points) != 1:
        return None
    point = token_at + int(points[0])
    end = token_at + len(token)
    decimals = end - point - 1
    if not (1 <= decimals <= 16 and (block[:, point] == _POINT).all() and _is_blank(block[:, end:])):
        return None
    if point > 8:  # the integer part of a number has at most eight bytes here; the rest must be spaces
        if not _is_blank(block[:, :point - 8]):
            return None
        block, point, end = block[:, point - 8:end], 8, end - point + 8
    whole = _words(block[:, :point], _SPACE)[:, 0]
    fraction = _words(block[:, point + 1:end], _ZERO)
    if not (_digit_bytes(fraction) == _HIGH).all():
        return None
    space, minus, digit = _equal_bytes(whole, _SPACE), _equal_bytes(whole, _MINUS), _digit_bytes(whole)
    below_digits = ~((digit >> np.uint64(7)) * np.uint64(0xFF))  # 2**(8 j) - 1 when the digits are the top bytes
    first_digit = below_digits + np.uint64(1)
    checks = (
        (space | minus | digit) == _HIGH,  # only spaces, minus and digits
        (below_digits & first_digit) == 0,  # the digits are one run up to the point
        digit >> np.uint64(63) == 1,  # at least one, right before the point
        (minus == 0) | (minus == ((first_digit << np.uint64(7)) >> np.uint64(8))),  # a minus right before them
    )
    if not all(check.all() for check in checks):
        return None
    units = _digits_value((whole & ~((minus >> np.uint64(7)) * np.uint64(0x0F)))[:, None])
    scale = 10 ** decimals
    if units.max(initial=0) >= _EXACT // scale:
        return None
    values = (units * np.uint64(scale) + _digits_value(fraction)).astype(np.float64) / float(scale)
    return np.negative(values, out=values, where=minus != 0)


def _words(block: np.ndarray, pad: int) -> np.ndarray:
    """``block`` [n, width] bytes, padded on the left with ``pad`` to whole words: [n, words] uint64."""
    n, width = block.shape
    words = -(-width // 8)
    padded = np.full((n, 8 * words), pad, np.uint8)
    padded[:, 8 * words - width:] = block
    return padded.view(np.uint64)


def _equal_bytes(words: np.ndarray, byte: int) -> np.ndarray:
    """0x80 in each byte of ``words`` that equals ``byte``, else 0 (exact: no carry crosses bytes)."""
    x = words ^ np.uint64(byte * _ONES)
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


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
