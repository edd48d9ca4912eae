"""Pair enumeration: which atom pairs (with which periodic image) interact.

Periodic frames may be periodic along any subset of their cell vectors, with
orthorhombic or triclinic cells and cutoffs larger than half the cell (an atom then
pairs with several images of another atom, and with images of itself). The
neighbour search is vesin's (a C++ cell list); frames are handled one at a time and
pairs are yielded in chunks of whole frames, so memory is bounded by a chunk.

A frame of more than ``BLOCK_ATOMS`` atoms is cut into blocks along its periodic
directions (``block_grid``), and its pairs are yielded block by block, so memory is
bounded by a block whatever the frame's size. A block is searched with its halo: the
images of the atoms within the cutoff of it, placed explicitly (its split directions
become non-periodic). A pair with both atoms in the block (its core) belongs to it; a
pair between a core atom and a halo atom is found by both blocks and kept by the one
whose core atom has the lower index; halo-halo pairs belong to other blocks.

A pair (i, j, shift) means atom j displaced by ``shift @ cell``; its vector is
``r_j + shift @ cell - r_i``. Each unordered pair appears once. Non-periodic frames
without a cutoff get all pairs.
"""
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .cells import cell_widths, completed_basis
from .dataset import Dataset
from .errors import InputError

CLOSE_CONTACT = 1e-3  # Å; atoms closer than this are an input error
PAIRS_PER_CHUNK = 250_000  # arrays of a chunk stay in cache: 22% faster than 2 million (measured)
BLOCK_ATOMS = 20_000  # atoms of a block with its halo: ~0.9 M pairs at liquid argon density and 10 Å (~80 MB)
SCOPES = ("all", "inter-fragment")


@dataclass(frozen=True, eq=False)
class PairSet:
    """Pairs of a contiguous range of frames; atom indices are global (into the dataset)."""
    frames: range  # the frames these pairs belong to
    frame: np.ndarray  # [n_pairs] int64
    first: np.ndarray  # [n_pairs] int64, atom i
    second: np.ndarray  # [n_pairs] int64, atom j
    shift: np.ndarray | None  # [n_pairs, 3] int32, cell shift of atom j (None: not asked for)
    vector: np.ndarray | None  # [n_pairs, 3] float64, Å, r_j + shift @ cell - r_i (None: not asked for)
    distance: np.ndarray  # [n_pairs] float64, Å

    def __len__(self) -> int:
        return len(self.frame)


def check_cutoff(dataset: Dataset, cutoff: float | None, need: str = "--cutoff") -> None:
    """Periodic frames need a cutoff; ``need`` says where it would come from, for the message."""
    if cutoff is None and dataset.pbc.any():
        k = int(np.flatnonzero(dataset.pbc.any(axis=1))[0])
        raise InputError(f"periodic frames need {need} (frame {dataset.names[k]} in {dataset.sources[k]} is periodic)")
    if cutoff is not None and not (np.isfinite(cutoff) and cutoff > 0):
        raise InputError(f"--cutoff {cutoff} must be a positive number")


def _vesin():
    """vesin (imported on first use). It imports torch when it can, only to accept torch tensors,
    which ljfit never passes it; the ljfit command imports it first with torch hidden (cli/runtime.py)."""
    import vesin
    return vesin


def _neighbor_list(cutoff: float):
    vesin = _vesin()
    try:
        return vesin.NeighborList(cutoff=cutoff, full_list=False, n_threads=1)
    except TypeError:  # vesin before 0.6 has no n_threads and is single-threaded anyway
        return vesin.NeighborList(cutoff=cutoff, full_list=False)


def frame_pairs(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float | None,
                searcher=None, vectors: bool = True) -> tuple[np.ndarray, ...]:
    """Pairs of one frame, indices local to it: (i, j, distance), then shift and vector if ``vectors``.

    i and j come as vesin gives them (unsigned); callers convert whole chunks at once."""
    if cutoff is None:  # non-periodic, all pairs: a cutoff beyond the frame's diameter
        extent = positions.max(axis=0) - positions.min(axis=0) if len(positions) else np.zeros(3)
        cutoff = float(np.linalg.norm(extent)) + 1.0
        searcher = None
    searcher = searcher or _neighbor_list(cutoff)
    box = np.where(pbc[:, None], cell, 0.0)
    return tuple(searcher.compute(positions, box, pbc.tolist(), quantities="ijdSD" if vectors else "ijd"))


def block_grid(n_atoms: int, cell: np.ndarray, pbc: np.ndarray, cutoff: float | None,
               max_atoms: int = BLOCK_ATOMS) -> tuple[int, int, int]:
    """Blocks along each cell vector, so that a block with its halo holds about ``max_atoms`` atoms
    (uniform density assumed); (1, 1, 1): the frame is searched whole.

    Frames are split only when every periodic direction is wider than two cutoffs (so that a pair
    is never an atom and its own image), and only along periodic directions at least four cutoffs
    wide, into blocks at least one cutoff wide: a block with its halo then spans less than the
    cell along a split direction and holds each atom there at most once."""
    counts = [1, 1, 1]
    if cutoff is None or n_atoms <= max_atoms or not pbc.any():
        return tuple(counts)
    widths = cell_widths(cell[None], pbc[None])[0]
    if np.any(widths[pbc] <= 2 * cutoff):
        return tuple(counts)
    while True:
        span = [1.0 / n + 2 * cutoff / w if p else 1.0 for n, w, p in zip(counts, widths, pbc)]
        splittable = [k for k in range(3)
                      if pbc[k] and widths[k] >= 4 * cutoff and widths[k] / (counts[k] + 1) >= cutoff]
        if n_atoms * np.prod(span) <= max_atoms or not splittable:
            return tuple(counts)
        counts[max(splittable, key=lambda k: widths[k] / counts[k])] += 1


def _block_copies(fractional: np.ndarray, pbc: np.ndarray, halo: np.ndarray, grid, block):
    """The atoms of a block and its halo: (atom, cell shift [n, 3] of the copy, whether in the core).

    Along a split direction each atom has at most one copy, the one whose fractional coordinate
    falls in [start, start + 1/n + 2 halo); along a periodic direction that is not split, the
    wrapped copy and the images within ``halo`` of the cell's faces."""
    atom = np.arange(len(fractional))
    shift = np.zeros((len(fractional), 3), np.int64)
    core = np.ones(len(fractional), bool)
    for k in np.flatnonzero(pbc):
        s = fractional[atom, k] + shift[:, k]
        if grid[k] > 1:
            start = block[k] / grid[k] - halo[k]
            offset = (s - start) % 1.0
            image = start + offset
            core &= np.minimum(np.floor((s % 1.0) * grid[k]).astype(np.int64), grid[k] - 1) == block[k]
            shift[:, k] += np.rint(image - s).astype(np.int64)
            keep = (offset < 1.0 / grid[k] + 2 * halo[k]) | core
        else:
            wrapped = np.floor(s).astype(np.int64)
            shift[:, k] -= wrapped
            s = s - wrapped
            below, above = s >= 1 - halo[k], s < halo[k]
            extra = np.concatenate([np.flatnonzero(below), np.flatnonzero(above)])
            moved = np.concatenate([-np.ones(below.sum(), np.int64), np.ones(above.sum(), np.int64)])
            atom, core = np.concatenate([atom, atom[extra]]), np.concatenate([core, np.zeros(len(extra), bool)])
            shift = np.concatenate([shift, shift[extra]])
            shift[len(shift) - len(extra):, k] += moved
            keep = np.ones(len(atom), bool)
        atom, shift, core = atom[keep], shift[keep], core[keep]
    return atom, shift, core


def block_pairs(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float, grid: tuple[int, int, int],
                blocks: list[tuple[int, int, int]], searcher=None,
                vectors: bool = True) -> Iterator[tuple[np.ndarray, ...]]:
    """For each of ``blocks`` of ``grid`` (``block_grid``), the pairs of one frame that belong to it, as
    ``frame_pairs`` gives them (indices local to the frame; i, j int64 here). Over all blocks of the
    grid, every pair once.

    A block and its halo are searched as a non-periodic system of explicit copies (the fast case of
    the neighbour search). A pair of two core atoms belongs to the block; a pair of a core atom and a
    halo copy is found by the blocks of both atoms and kept by the one whose core atom has the lower
    index (two copies of one atom are more than two cutoffs apart: never a pair)."""
    basis = completed_basis(cell[None], pbc[None])[0]
    fractional = positions @ np.linalg.inv(basis)
    halo = cutoff / cell_widths(cell[None], pbc[None])[0]
    for block in blocks:
        atom, shift, core = _block_copies(fractional, pbc, halo, grid, block)
        found = frame_pairs(positions[atom] + shift @ cell, cell, np.zeros(3, bool), cutoff, searcher, vectors)
        p, q = found[0].astype(np.int64), found[1].astype(np.int64)
        a, b, ca, cb = atom[p], atom[q], core[p], core[q]
        keep = (ca & cb) | (ca & ~cb & (a < b)) | (~ca & cb & (b < a))
        out = [a[keep], b[keep], found[2][keep]]
        if vectors:
            out += [(shift[q] - shift[p])[keep].astype(np.int32), found[4][keep]]
        yield tuple(out)


def iter_pairs(dataset: Dataset, cutoff: float | None, scope: str = "all", max_pairs: int = PAIRS_PER_CHUNK,
               all_pairs_if_isolated: bool = False, vectors: bool = True, max_atoms: int = BLOCK_ATOMS,
               share: tuple[int, int] = (0, 1)) -> Iterator[PairSet]:
    """PairSets over consecutive frames, each holding about ``max_pairs`` pairs or one frame, or one
    block of a frame of more than ``max_atoms`` atoms (then several PairSets have the same frames).

    ``all_pairs_if_isolated``: non-periodic frames get all their pairs whatever the cutoff.
    ``vectors``: whether shifts and pair vectors are wanted (forces, direct engine); without
    them the neighbour search is cheaper and the PairSet's shift and vector are None.
    ``share`` (k, n): only the k-th of n interleaved shares of the blocks of large frames, and the
    other frames only if k is 0 (n tasks share the work of one large frame; their moments add up).
    """
    check_cutoff(dataset, cutoff)
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if scope == "inter-fragment" and dataset.fragments is None:
        raise InputError("--interactions inter-fragment needs fragments: a 'fragment' column, --fragment-key "
                         "or --fragment-split")
    searcher = _neighbor_list(cutoff) if cutoff is not None else None
    offsets = dataset.frame_offsets
    parts: list[tuple[np.ndarray, ...]] = []
    held, chunk_start = 0, 0
    for k in range(dataset.n_frames):
        lo, hi = int(offsets[k]), int(offsets[k + 1])
        isolated = all_pairs_if_isolated and not dataset.pbc[k].any()
        frame_cutoff = None if isolated else cutoff
        grid = block_grid(hi - lo, dataset.cells[k], dataset.pbc[k], frame_cutoff, max_atoms)
        if grid != (1, 1, 1):  # a large frame: one PairSet per block, after those of the frames before it
            if parts:
                yield _chunk(dataset, range(chunk_start, k), parts, scope)
            blocks = list(np.ndindex(*grid))[share[0]::share[1]]
            for found in block_pairs(dataset.positions[lo:hi], dataset.cells[k], dataset.pbc[k], frame_cutoff,
                                     grid, blocks, searcher, vectors):
                yield _chunk(dataset, range(k, k + 1), [found], scope)
            if not blocks:
                yield _chunk(dataset, range(k, k + 1), [_no_pairs(vectors)], scope)
            parts, held, chunk_start = [], 0, k + 1
            continue
        parts.append(frame_pairs(dataset.positions[lo:hi], dataset.cells[k], dataset.pbc[k], frame_cutoff,
                                 searcher, vectors) if share[0] == 0 else _no_pairs(vectors))
        held += len(parts[-1][0])
        if held >= max_pairs or k == dataset.n_frames - 1:
            yield _chunk(dataset, range(chunk_start, k + 1), parts, scope)
            parts, held, chunk_start = [], 0, k + 1


def _no_pairs(vectors: bool) -> tuple[np.ndarray, ...]:
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return empty + (np.zeros((0, 3), np.int32), np.zeros((0, 3))) if vectors else empty


def _chunk(dataset: Dataset, frames: range, parts: list[tuple[np.ndarray, ...]], scope: str) -> PairSet:
    """One PairSet from the per-frame pair arrays of ``frames``, with global atom indices."""
    counts = [len(p[0]) for p in parts]
    frame = np.repeat(np.arange(frames.start, frames.stop), counts)
    first_atom = dataset.frame_offsets[frame]
    i = np.concatenate([p[0] for p in parts]).astype(np.int64) + first_atom
    j = np.concatenate([p[1] for p in parts]).astype(np.int64) + first_atom
    distance = np.concatenate([p[2] for p in parts])
    shift = np.concatenate([p[3] for p in parts]).astype(np.int32) if len(parts[0]) > 3 else None
    vector = np.concatenate([p[4] for p in parts]) if len(parts[0]) > 3 else None
    _check_contacts(dataset, i, j, distance)
    if scope == "inter-fragment":
        keep = dataset.fragments[i] != dataset.fragments[j]
        frame, i, j, distance = frame[keep], i[keep], j[keep], distance[keep]
        shift, vector = (None, None) if shift is None else (shift[keep], vector[keep])
    return PairSet(frames, frame, i, j, shift, vector, distance)


def _check_contacts(dataset: Dataset, i, j, distance) -> None:
    close = np.flatnonzero(distance < CLOSE_CONTACT)
    if len(close):
        p = close[0]
        a, b = int(i[p]), int(j[p])
        what = "an image of itself" if a == b else f"atom at {dataset.atom_location(b)}"
        raise InputError(f"{dataset.atom_location(a)} is {distance[p]:.2g} Å from {what} (closer than {CLOSE_CONTACT} Å)")
