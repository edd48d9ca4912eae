"""Pair enumeration: which atom pairs (with which periodic image) interact.

Periodic frames may be periodic along any subset of their cell vectors, with
orthorhombic or triclinic cells and cutoffs larger than half the cell (an atom then
pairs with several images of another atom, and with images of itself). The
neighbour search is vesin's (a C++ cell list); frames are handled one at a time and
pairs are yielded in chunks of whole frames, so memory is bounded by a chunk.

A pair (i, j, shift) means atom j displaced by ``shift @ cell``; its vector is
``r_j + shift @ cell - r_i``. Each unordered pair appears once. Non-periodic frames
without a cutoff get all pairs.
"""
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .errors import InputError

CLOSE_CONTACT = 1e-3  # Å; atoms closer than this are an input error
PAIRS_PER_CHUNK = 250_000  # arrays of a chunk stay in cache: 22% faster than 2 million (measured)
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


def iter_pairs(dataset: Dataset, cutoff: float | None, scope: str = "all", max_pairs: int = PAIRS_PER_CHUNK,
               all_pairs_if_isolated: bool = False, vectors: bool = True) -> Iterator[PairSet]:
    """PairSets over consecutive frames, each holding about ``max_pairs`` pairs or one frame.

    ``all_pairs_if_isolated``: non-periodic frames get all their pairs whatever the cutoff.
    ``vectors``: whether shifts and pair vectors are wanted (forces, direct engine); without
    them the neighbour search is cheaper and the PairSet's shift and vector are None.
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
        parts.append(frame_pairs(dataset.positions[lo:hi], dataset.cells[k], dataset.pbc[k],
                                 None if isolated else cutoff, searcher, vectors))
        held += len(parts[-1][0])
        if held >= max_pairs or k == dataset.n_frames - 1:
            yield _chunk(dataset, range(chunk_start, k + 1), parts, scope)
            parts, held, chunk_start = [], 0, k + 1


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
