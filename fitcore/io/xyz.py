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
from .framing import BOM, FilePart, check_no_nul, first_line, frame_parts, headerless_span, is_count, read_bytes, walk
from .header import Frame, ReadOptions, check_plain, parse_header, pbc_text, plain_header

__all__ = ["FilePart", "ReadOptions", "frame_parts", "read_structures"]


def read_structures(path: str, options: ReadOptions = ReadOptions(), part: FilePart | None = None) -> Dataset:
    """All frames of one file (``-`` is stdin), or of one part of it, as a Dataset in eV and Å."""
    source, buf = read_bytes(path, part)
    if part is None or part.start == 0:
        buf = buf.removeprefix(BOM)
    first = first_line(buf, source)
    first_line_number = part.first_line if part else 1
    check_no_nul(buf, source, first_line_number)
    if is_count(first):
        frames = _frames(buf, source, options, first_line_number)
        _check_cells(frames, source)
        _check_comment_units(frames, source, options)
    else:
        line, n_atoms, start = headerless_span(buf)
        check_plain(options, where(source, line))
        frames = [Frame(line=line, first_atom_line=line, n_atoms=n_atoms, start=start, end=len(buf),
                        header=plain_header())]
    return assemble(buf, source, frames, options, part)


def _frames(buf: bytes, source: str, options: ReadOptions, first_line_number: int) -> list[Frame]:
    return [Frame(line=span.line, first_atom_line=span.line + 2, n_atoms=span.n_atoms, start=span.atoms_start,
                  end=span.atoms_end,
                  header=parse_header(buf[span.comment_start:span.atoms_start].decode(errors="replace").strip(),
                                      where(source, span.line + 1), options))
            for span in walk(buf, source, first_line_number)]


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
