"""Where the frames of an XYZ file are: count line, comment line and atom lines, as byte offsets.

Frames are located with ``bytes.find``/``bytes.count`` (C speed): lines of equal width,
as ASE writes them, are skipped in O(1) per frame; other files get an index of every
newline, built once. Nothing here parses a comment or an atom line.
"""
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError, where

_NON_BLANK = re.compile(rb"\S")
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, as some Windows editors write


class FrameSpan(NamedTuple):
    """One frame of a file with count lines: its 1-based count line and byte offsets into the file."""
    line: int
    n_atoms: int
    start: int  # the count line
    comment_start: int
    atoms_start: int  # the atom lines, atoms_start:atoms_end
    atoms_end: int


@dataclass(frozen=True, kw_only=True)
class FilePart:
    """Whole frames of a file, ``start:end`` in bytes, for reading a large file in pieces."""
    start: int
    end: int
    first_frame: int  # index in the file of the part's first frame
    first_line: int  # line number of the part's first line
    frames_in_file: int


def read_bytes(path: str, part: FilePart | None = None) -> tuple[str, bytes]:
    """The name to show for ``path`` (``-`` is stdin) and its bytes (of ``part`` only, if given)."""
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


def first_line(buf: bytes, source: str) -> bytes:
    """The first non-blank line, stripped; InputError for an empty or binary file."""
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


def check_no_nul(buf: bytes, source: str, first_line_number: int) -> None:
    """A NUL byte past the start (where first_line looks) would vanish from a label: damaged text."""
    at = buf.find(b"\0")
    if at >= 0:
        line = first_line_number + buf.count(b"\n", 0, at)
        raise InputError(f"{where(source, line)}: NUL byte in the text (a binary or damaged file?)")


def is_count(text: bytes) -> bool:
    return text.isdigit()


def show(text: bytes, width: int = 40) -> str:
    """``text`` for an error message: decoded, cut at ``width`` characters, quoted."""
    shown = text.decode(errors="replace")
    return repr(shown if len(shown) <= width else shown[:width] + "...")


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


def walk(buf: bytes, source: str, first_line_number: int = 1) -> Iterator[FrameSpan]:
    """Every frame of ``buf``, a file (or whole frames of one) with count lines; InputError naming the line."""
    index = _LineIndex(buf)
    pos, line = 0, first_line_number
    previous = None
    while pos < len(buf):
        eol = buf.find(b"\n", pos)
        eol = len(buf) if eol < 0 else eol
        text = buf[pos:eol].strip()
        if not text:
            if _NON_BLANK.search(buf, pos) is None:
                break
            raise InputError(f"{where(source, line)}: blank line where the atom count of a frame was expected")
        if not is_count(text):
            hint = ""
            if previous:
                hint = f" (does the frame at line {previous[0]} really have {previous[1]} atoms?)"
            raise InputError(f"{where(source, line)}: expected the atom count of a frame, got {show(text)}{hint}")
        n_atoms = int(text)
        if n_atoms == 0:
            raise InputError(f"{where(source, line)}: frame has 0 atoms")
        if eol >= len(buf):
            raise InputError(f"{where(source, line)}: file ends before the comment line of this frame")
        comment_end = buf.find(b"\n", eol + 1)
        comment_end = len(buf) if comment_end < 0 else comment_end
        start = comment_end + 1
        end = index.skip(start, n_atoms) if start <= len(buf) else None
        if end is None:
            left = index.lines_left(min(start, len(buf)))
            raise InputError(f"{where(source, line)}: frame says {n_atoms} atoms but the file ends after {left} more lines")
        yield FrameSpan(line=line, n_atoms=n_atoms, start=pos, comment_start=eol + 1, atoms_start=start, atoms_end=end)
        previous = (line, n_atoms)
        pos, line = end, line + n_atoms + 2


def headerless_span(buf: bytes) -> tuple[int, int, int]:
    """(1-based line of the first row, number of rows, byte offset of the first row) of a headerless file."""
    start = len(buf) - len(buf.lstrip(b" \t\r\n"))
    start = buf.rfind(b"\n", 0, start) + 1
    n_atoms = buf[start:].rstrip().count(b"\n") + 1
    return buf.count(b"\n", 0, start) + 1, n_atoms, start


def frame_parts(path: str, n_parts: int) -> list[FilePart]:
    """Up to ``n_parts`` pieces of whole frames and similar size (one piece for headerless files)."""
    source, buf = read_bytes(path)
    first = first_line(buf, source)
    if not is_count(first) or buf.startswith(BOM):
        return [FilePart(start=0, end=len(buf), first_frame=0, first_line=1, frames_in_file=1)]
    starts = [(span.start, span.line) for span in walk(buf, source)]
    n = len(starts)
    bounds = sorted({int(np.searchsorted([s for s, _ in starts], len(buf) * k / n_parts)) for k in range(n_parts)})
    parts = []
    for a, b in zip(bounds, bounds[1:] + [n]):
        if a < b:
            end = starts[b][0] if b < n else len(buf)
            parts.append(FilePart(start=starts[a][0], end=end, first_frame=a, first_line=starts[a][1],
                                  frames_in_file=n))
    return parts
