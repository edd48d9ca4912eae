"""A large file read in pieces by several tasks, each byte read by one of them (but for the few lines
where a piece's last frame runs on into the next piece's range, and a 64 kB look at the file's head).

The caller cuts a file by its size alone (``byte_ranges``; ``split_mode`` says whether to). The reader
of a range ``start:end`` (``PartWindow``) finds the first frame start at or after ``start`` (``sync``:
a line holding only a count N > 0, a comment line and N more lines, followed by another count line or
the end of the file), walks every frame that starts before ``end``, the last one to its own end past
``end``, and reports where the piece began and ended (``PartSpan``). A sync can be fooled by odd data
(a comment line that is a number, say), so the frames of a piece are right exactly when it began where
the piece before it ended: piece 0 begins at byte 0, so by induction the whole chain is right where
every link is (``fitcore.pipeline`` checks the links and reads a piece again from its true start
where one fails). Lines and frames of a synced piece are numbered from its own start (line 1, frame
0); the caller, who knows the lines and frames of the pieces before it, adds them.
"""
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import InputError
from .framing import BINARY_HEAD, BOM, FrameSpan, LineIndex, NON_BLANK, is_count, walk

MIN_READ = 4096  # bytes read at least when a window must grow
MARGIN = 65536  # read past a part's end at once: its last frame usually ends there (more is read if not)
_COUNT_LINE = re.compile(rb"^[ \t\r\x0b\x0c]*[0-9]+[ \t\r\x0b\x0c]*$", re.M)  # what is_count accepts


@dataclass(frozen=True, kw_only=True)
class FilePart:
    """Bytes ``start:end`` of a large file: the piece of it whose frames *start* there.

    ``first_line`` None: ``start`` is a byte offset only, and the reader syncs to the first frame start
    at or after it, numbering lines and frames from there (1 and 0). Otherwise ``start`` is a frame
    start of the file, on line ``first_line``, whose index in the file is ``first_frame``."""
    start: int
    end: int
    first_line: int | None = None
    first_frame: int = 0
    previous: tuple[int, int] | None = None  # (count line, atoms) of the frame before (for error hints)

    @property
    def synced(self) -> bool:
        return self.first_line is None


class PartSpan(NamedTuple):
    """Where the frames read for a FilePart lie in the file."""
    start: int | None  # byte offset of the first frame; None: no frame starts in the part
    end: int  # byte offset just past the last frame (the part's start when it has none)
    lines: int  # lines from start to end
    frames: int
    at_end: bool  # nothing but blank space follows ``end`` in the file
    unnamed: tuple[int, ...] = ()  # frames (counted in the part) named after the file, for renumbering
    last: tuple[int, int] | None = None  # (count line, atoms) of the last frame, in the part's numbering


def byte_ranges(size: int, n_parts: int) -> list[tuple[int, int]]:
    """``n_parts`` consecutive ranges of about equal size covering ``0:size`` (no reading)."""
    bounds = [size * k // n_parts for k in range(n_parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if a < b]


def split_mode(path: str) -> str:
    """How several tasks read a large file, judged from its first 64 kB:

    - ``"bytes"``: in byte ranges (frames with count lines, the first one well under half the file);
    - ``"shared"``: whole, by every task, each taking its share of the blocks of large frames (a
      headerless file, which is one frame, or a first frame of about half the file or more);
    - ``"whole"``: whole, by one task (a byte order mark, empty or binary text: the reader judges it).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(BINARY_HEAD)  # the head the reader checks for a binary file
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return "whole"  # the reader reports it
    text = NON_BLANK.search(head)
    if head.startswith(BOM) or text is None or b"\0" in head:
        return "whole"
    lines = head[text.start():].split(b"\n")
    if not is_count(lines[0].strip()):
        return "shared"
    atom_lines = lines[2:-1][:1000]  # whole lines after the comment line
    width = sum(len(line) + 1 for line in atom_lines) / len(atom_lines) if atom_lines else len(head)
    return "shared" if 2 * int(lines[0].strip()) * width >= size else "bytes"


class PartWindow:
    """The bytes of a FilePart, read from its start (synced) and on as far as its last frame needs.

    ``data`` holds the bytes from byte ``base`` of the file on (offsets into it are relative to
    ``base``), its last line whole only when ``complete`` (the end of the file was read)."""

    def __init__(self, path: str, part: FilePart):
        self.part = part
        try:
            self.handle = open(path, "rb")
            self.size = os.fstat(self.handle.fileno()).st_size
            self.base = part.start - 1 if part.synced and part.start > 0 else part.start  # a line start is after "\n"
            self.handle.seek(self.base)
            self.data, self.complete, self.index = b"", False, None
            self.grow(part.end - self.base + MARGIN)
        except OSError as err:
            raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
        self.limit = part.end - self.base  # frames starting at or after this are the next piece's
        self.first = self._sync() if part.synced else 0

    def close(self) -> None:
        self.handle.close()

    def grow(self, at_least: int) -> None:
        """Read at least ``at_least`` more bytes (fewer at the end of the file)."""
        chunk = self.handle.read(max(at_least, MIN_READ))
        self.data += chunk  # (a copy: rare, past the first read of the part and its margin)
        self.complete = not chunk or self.handle.tell() >= self.size

    def _sync(self) -> int | None:
        """Offset (into ``data``) of the first frame start at or after the part's start, before its end.

        Candidates whose frame runs past the bytes read so far are tried last (a comment line holding a
        large number would otherwise have the window read that many lines): in a valid file no later
        line looks like a frame start inside a true frame, so one that does means the earlier was false."""
        first = self.data.find(b"\n") + 1 if self.base < self.part.start else 0
        if first == 0 and self.base < self.part.start:
            return None  # no line starts in the part
        deferred = []
        for at in self._candidates(first):
            verdict = self._frame_follows(at, grow=False)
            if verdict:
                return at
            if verdict is None:
                deferred.append(at)
        for at in deferred:
            while (verdict := self._frame_follows(at, grow=True)) is None:
                pass
            if verdict:
                return at
        return None

    def _candidates(self, line: int) -> Iterator[int]:
        """Offsets of the lines that hold only a number, from ``line`` to the part's end."""
        while (match := _COUNT_LINE.search(self.data, line)) is not None and match.start() < self.limit:
            yield match.start()
            line = match.end() + 1

    def _frame_follows(self, at: int, grow: bool) -> bool | None:
        """Whether a whole frame starts at ``at``, followed by a count line or the end of the file;
        None when more bytes are needed to tell (read now if ``grow``)."""
        try:
            span = next(walk(self.data, "", start=at, complete=self.complete, index=self._index()), None)
        except InputError:
            return False
        if span is None:
            if self.complete:
                return False
            if grow:
                self.grow(self._shortfall(at))
            return None
        text = NON_BLANK.search(self.data, span.atoms_end)
        eol = self.data.find(b"\n", span.atoms_end)
        if text is None or eol < 0:
            if self.complete:
                return text is None or is_count(self.data[span.atoms_end:].strip())
            if grow:
                self.grow(MIN_READ)
            return None
        return is_count(self.data[span.atoms_end:eol].strip())

    def _index(self) -> LineIndex:
        """The line index of ``data`` as it is now (made again when it grew)."""
        if self.index is None or self.index.buf is not self.data or self.index.complete != self.complete:
            self.index = LineIndex(self.data, self.complete)
        return self.index

    def spans(self, source: str, first_line_number: int) -> Iterator[FrameSpan]:
        """The frames that start in the part (offsets into ``data``, which grows while this runs)."""
        pos, line = self.first, first_line_number
        self.end, self.lines, self.last = pos, 0, self.part.previous
        if pos is None:
            self.end, self.at_end = self.limit, False
            return
        while True:
            for span in walk(self.data, source, line, start=pos, limit=self.limit, complete=self.complete,
                             index=self._index(), previous=self.last):
                yield span
                pos, line = span.atoms_end, span.line + span.n_atoms + 2
                self.end, self.lines, self.last = pos, line - first_line_number, (span.line, span.n_atoms)
            if pos >= self.limit or self.complete:
                break
            self.grow(self._shortfall(pos))
        while NON_BLANK.search(self.data, pos) is None and not self.complete:
            self.grow(MIN_READ)
        self.at_end = NON_BLANK.search(self.data, pos) is None

    def _shortfall(self, pos: int) -> int:
        """About how many more bytes the frame at ``pos`` needs: its line count times the width seen."""
        eol = self.data.find(b"\n", pos)
        text = self.data[pos:eol].strip() if eol >= 0 else b""
        seen = max(0, pos - MARGIN)  # the width of the lines before, from the last 64 kB of them
        width = (pos - seen) / max(1, self.data.count(b"\n", seen, pos)) if pos > 0 else 64
        need = (int(text) + 2) * width - (len(self.data) - pos) if is_count(text) else MIN_READ
        return int(need * 1.1) + MIN_READ

    def span(self, unnamed: tuple[int, ...] = (), frames: int = 0) -> PartSpan:
        """Where the frames walked by ``spans`` lie in the file (call it after ``spans`` is exhausted)."""
        if self.first is None:
            return PartSpan(start=None, end=self.part.end, lines=0, frames=0, at_end=False)
        return PartSpan(start=self.base + self.first, end=self.base + self.end, lines=self.lines, frames=frames,
                        at_end=self.at_end, unnamed=unnamed, last=self.last)
