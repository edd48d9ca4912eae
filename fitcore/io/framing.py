"""Where the frames of an XYZ file are: count line, comment line and atom lines, as byte offsets.

Frames are located with ``bytes.find``/``bytes.count`` (C speed): lines of equal width,
as ASE writes them, are skipped in O(1) per frame; other files get an index of every
newline, built once. Nothing here parses a comment or an atom line.
"""
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError, where

NON_BLANK = re.compile(rb"\S")
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, as some Windows editors write
BINARY_HEAD = 65536  # a NUL byte in this many first bytes: a binary file


def check_not_binary(head: bytes, source: str) -> None:
    """InputError if the first BINARY_HEAD bytes of a file (``head``) hold a NUL byte."""
    if b"\0" in head[:BINARY_HEAD]:
        raise InputError(f"{source}: looks like a binary file, not XYZ text")


class FrameSpan(NamedTuple):
    """One frame of a file with count lines: its 1-based count line and byte offsets into the file."""
    line: int
    n_atoms: int
    start: int  # the count line
    comment_start: int
    atoms_start: int  # the atom lines, atoms_start:atoms_end
    atoms_end: int


def read_bytes(path: str) -> tuple[str, bytes]:
    """The name to show for ``path`` (``-`` is stdin) and its bytes."""
    if path == "-":
        return "<stdin>", sys.stdin.buffer.read()
    try:
        return path, Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None


def first_line(buf: bytes, source: str) -> bytes:
    """The first non-blank line, stripped; InputError for an empty or binary file."""
    text = NON_BLANK.search(buf)  # (strip() would copy the whole file)
    if text is None:
        raise InputError(f"{source}: file is empty")
    check_not_binary(buf, source)
    end = buf.find(b"\n", text.start())
    first = buf[text.start():end if end >= 0 else len(buf)].strip()
    try:
        first.decode()
    except UnicodeDecodeError:
        raise InputError(f"{source}: looks like a binary file, not XYZ text") from None
    return first


def check_no_nul(buf: bytes, source: str, first_line_number: int, start: int = 0, end: int | None = None) -> None:
    """A NUL byte past the start (where first_line looks) would vanish from a label: damaged text.
    ``buf[start:end]`` is looked at; ``first_line_number`` is the line at ``start``."""
    end = len(buf) if end is None else end
    at = buf.find(b"\0", start, end)
    if at >= 0:
        line = first_line_number + buf.count(b"\n", start, at)
        raise InputError(f"{where(source, line)}: NUL byte in the text (a binary or damaged file?)")


def is_count(text: bytes) -> bool:
    return text.isdigit()


def show(text: bytes, width: int = 40) -> str:
    """``text`` for an error message: decoded, cut at ``width`` characters, quoted."""
    shown = text.decode(errors="replace")
    return repr(shown if len(shown) <= width else shown[:width] + "...")


class LineIndex:
    """Byte offsets of every newline, built only when a file has lines of unequal width.

    ``complete`` False: ``buf`` is not the end of the file, so its lines end at its last newline
    (``size``); what follows it is the start of a line still to be read."""

    def __init__(self, buf: bytes, complete: bool = True):
        self.buf, self.complete = buf, complete
        self.size = len(buf) if complete else buf.rfind(b"\n") + 1
        self.newlines: np.ndarray | None = None

    def skip(self, start: int, count: int) -> int | None:
        """Offset just past ``count`` lines from ``start``; None if the file ends first."""
        buf = self.buf
        if count == 0:
            return start
        first = buf.find(b"\n", start)
        if first >= 0:
            end = start + count * (first + 1 - start)
            if end <= self.size and buf[end - 1] == 10 and buf.count(b"\n", start, end) == count:
                return end
        if self.newlines is None:
            self.newlines = np.flatnonzero(np.frombuffer(buf, np.uint8, count=self.size) == 10)
        k = int(np.searchsorted(self.newlines, start)) + count - 1
        if k < len(self.newlines):
            return int(self.newlines[k]) + 1
        unterminated = self.complete and len(buf) > start and buf[-1] != 10
        return len(buf) if unterminated and k == len(self.newlines) else None

    def lines_left(self, start: int) -> int:
        rest = self.buf[start:]
        return rest.count(b"\n") + (1 if rest and not rest.endswith(b"\n") else 0)


def walk(buf: bytes, source: str, first_line_number: int = 1, start: int = 0, limit: int | None = None,
         complete: bool = True, index: LineIndex | None = None,
         previous: tuple[int, int] | None = None) -> Iterator[FrameSpan]:
    """Every frame of ``buf``, a file (or whole frames of one) with count lines; InputError naming the line.

    From offset ``start`` (a frame start, on line ``first_line_number``), frames that start before
    ``limit``. ``complete`` False: ``buf`` ends after a whole line but is not the end of the file, so a
    frame it does not hold whole (or blank space at its end) ends the walk, with no error.
    ``previous``: (count line, atoms) of the frame before ``start``, for the hint of an error there."""
    index = index or LineIndex(buf, complete)
    size = index.size  # the end of the lines read whole
    limit = size if limit is None else limit
    pos, line = start, first_line_number
    while pos < size and pos < limit:
        eol = buf.find(b"\n", pos, size)
        eol = size if eol < 0 else eol
        text = buf[pos:eol].strip()
        if not text:
            if NON_BLANK.search(buf, pos) is None:
                return
            raise InputError(f"{where(source, line)}: blank line where the atom count of a frame was expected")
        if not is_count(text):
            hint = ""
            if previous:
                hint = f" (does the frame at line {previous[0]} really have {previous[1]} atoms?)"
            raise InputError(f"{where(source, line)}: expected the atom count of a frame, got {show(text)}{hint}")
        n_atoms = int(text)
        if n_atoms == 0:
            raise InputError(f"{where(source, line)}: frame has 0 atoms")
        comment_end = buf.find(b"\n", eol + 1, size) if eol < size else -1
        if comment_end < 0 and not complete:
            return
        if eol >= size:
            raise InputError(f"{where(source, line)}: file ends before the comment line of this frame")
        comment_end = size if comment_end < 0 else comment_end
        atoms = comment_end + 1
        end = index.skip(atoms, n_atoms) if atoms <= size else None
        if end is None:
            if not complete:
                return
            left = index.lines_left(min(atoms, size))
            raise InputError(f"{where(source, line)}: frame says {n_atoms} atoms but the file ends after {left} more lines")
        yield FrameSpan(line=line, n_atoms=n_atoms, start=pos, comment_start=eol + 1, atoms_start=atoms, atoms_end=end)
        previous = (line, n_atoms)
        pos, line = end, line + n_atoms + 2


def headerless_span(buf: bytes) -> tuple[int, int, int]:
    """(1-based line of the first row, number of rows, byte offset of the first row) of a headerless file."""
    start = len(buf) - len(buf.lstrip(b" \t\r\n"))
    start = buf.rfind(b"\n", 0, start) + 1
    n_atoms = buf[start:].rstrip().count(b"\n") + 1
    return buf.count(b"\n", 0, start) + 1, n_atoms, start
