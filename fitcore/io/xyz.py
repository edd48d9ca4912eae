"""Read XYZ, extended XYZ and headerless coordinate files into a Dataset.

Speed comes from never looping over atoms in Python: the file is read as bytes and
its frames located by byte offsets (framing.py), each frame's comment line is parsed
in Python, once per frame (comment.py, header.py), and the atom lines of all frames
that share a column layout are parsed together (rows.py) before the Dataset is
assembled (assembly.py).

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
import warnings

import numpy as np

from ..cells import singular_cells
from ..dataset import Dataset
from ..errors import InputError, LjfitWarning, where
from .assembly import assemble
from .framing import (BINARY_HEAD, BOM, FrameSpan, check_no_nul, check_not_binary, first_line, headerless_span, is_count,
                      read_bytes, walk)
from .header import Frame, ReadOptions, check_plain, parse_header, pbc_text, plain_header
from .pieces import FilePart, PartSpan, PartWindow

__all__ = ["FilePart", "ReadOptions", "check_rest", "read_part", "read_structures", "read_window"]

CHECK_CHUNK = 8 << 20  # bytes read at a time by check_rest


def read_structures(path: str, options: ReadOptions = ReadOptions()) -> Dataset:
    """All frames of one file (``-`` is stdin) as a Dataset in eV and Å."""
    source, buf = read_bytes(path)
    buf = buf.removeprefix(BOM)
    first = first_line(buf, source)
    check_no_nul(buf, source, 1)
    if is_count(first):
        frames = [_frame(buf, source, options, span) for span in walk(buf, source)]
        _check_cells(frames, source)
        _check_comment_units(frames, source, options)
    else:
        line, n_atoms, start = headerless_span(buf)
        check_plain(options, where(source, line))
        frames = [Frame(line=line, first_atom_line=line, n_atoms=n_atoms, start=start, end=len(buf),
                        header=plain_header())]
    return assemble(buf, source, frames, options)


def read_part(path: str, options: ReadOptions, part: FilePart) -> tuple[Dataset | None, PartSpan]:
    """The frames that start in ``part`` of a large file with count lines (see pieces.py) as a Dataset
    in eV and Å (None if no frame starts there), and where they lie in the file.

    A synced part numbers its lines and frames from its own start; its ``PartSpan`` says which frames
    are named after the file (``stem:index``), for the caller to number. Errors are those of
    ``read_structures`` for the same frames (numbered so, for a synced part)."""
    window = PartWindow(path, part)
    try:
        return read_window(window, path, options)
    finally:
        window.close()


def read_window(window: PartWindow, source: str, options: ReadOptions) -> tuple[Dataset | None, PartSpan]:
    """``read_part`` of an open PartWindow."""
    part = window.part
    if part.start == 0:
        first_line(window.data, source)  # empty or binary
    line = part.first_line or 1
    try:
        frames = [_frame(window.data, source, options, span) for span in window.spans(source, line)]  # data grows
    except InputError:  # a NUL byte (reported first by the whole-file reader) may be what broke the frame
        if window.first is not None:
            check_no_nul(window.data, source, line, window.first)
        raise
    unnamed = tuple(k for k, f in enumerate(frames) if f.header.name is None)
    span = window.span(unnamed, len(frames))
    if not frames:
        return None, span
    check_no_nul(window.data, source, line, window.first, window.end)
    _check_cells(frames, source)
    _check_comment_units(frames, source, options)
    one = not part.synced and part.first_frame == 0 and len(frames) == 1 and span.at_end
    return assemble(window.data, source, frames, options, first_frame=part.first_frame, single=one), span


def check_rest(path: str, options: ReadOptions, start: int, first_line_number: int,
               previous: tuple[int, int] | None = None) -> None:
    """Raise the error that a whole-file read raises first from byte ``start`` on (a frame start, on
    line ``first_line_number``) among those it checks before the atom lines: a NUL byte, then a
    framing or comment-line error, then a singular cell. Nothing if there is none. ``previous``:
    (count line, atoms) of the frame before ``start``.

    For the pieces of a large file: when one has an error, such an error further on comes first in a
    whole-file read. Streams the rest of the file (memory: a chunk and the largest frame)."""
    try:
        with open(path, "rb") as handle:
            check_not_binary(handle.read(BINARY_HEAD), path)  # as the whole-file read checks first
            handle.seek(start)
            line = first_line_number
            while chunk := handle.read(CHECK_CHUNK):
                check_no_nul(chunk, path, line)
                line += chunk.count(b"\n")
            handle.seek(start)
            _check_rest_frames(handle, path, options, first_line_number, previous)
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None


def _check_rest_frames(handle, path: str, options: ReadOptions, line: int, previous) -> None:
    singular, buf = None, b""
    while True:
        chunk = handle.read(CHECK_CHUNK)
        complete = not chunk
        buf += chunk
        cut = len(buf) if complete else buf.rfind(b"\n") + 1
        spans = walk(buf[:cut], path, line, complete=complete, previous=previous)
        frames = [_frame(buf, path, options, span) for span in spans]
        if frames and singular is None:
            try:
                _check_cells(frames, path)
            except InputError as err:
                singular = err
        if frames:
            line, previous = frames[-1].line + frames[-1].n_atoms + 2, (frames[-1].line, frames[-1].n_atoms)
            buf = buf[frames[-1].end:]
        if complete:
            break
    if singular is not None:
        raise singular


def _frame(buf: bytes, source: str, options: ReadOptions, span: FrameSpan) -> Frame:
    comment = buf[span.comment_start:span.atoms_start].decode(errors="replace").strip()
    return Frame(line=span.line, first_atom_line=span.line + 2, n_atoms=span.n_atoms, start=span.atoms_start,
                 end=span.atoms_end, header=parse_header(comment, where(source, span.line + 1), options))


def _check_cells(frames: list[Frame], source: str) -> None:
    cells = np.stack([f.header.cell for f in frames])
    pbc = np.array([f.header.pbc for f in frames], bool)
    bad = np.flatnonzero(singular_cells(cells, pbc))
    if len(bad):
        frame = frames[bad[0]]
        raise InputError(f"{where(source, frame.line + 1)}: the cell is singular along its periodic directions "
                         f"(pbc={pbc_text(frame.header.pbc)})")


def _check_comment_units(frames: list[Frame], source: str, options: ReadOptions) -> None:
    """Free-text comments that name another energy unit than --energy-unit: say so, once per file."""
    named = sorted({f.header.unit for f in frames if f.header.unit is not None and f.header.unit != options.energy_unit})
    if named:
        warnings.warn(LjfitWarning(f"{source}: comments give energies in {', '.join(named)}, but they are read as "
                                   f"{options.energy_unit} (--energy-unit)"), stacklevel=3)
