"""Dataset: every frame of every input file, concatenated as a struct of arrays.

Atoms of all frames are stacked; ``frame_offsets[k]:frame_offsets[k+1]`` are the
atoms of frame k. Once reduced for a fit (``for_fitting``) a dataset may hold, instead of
an atom's type and species, how many atoms of each type and species every frame has
(a count table against the interned names: what the fit needs, 12 bytes per frame of three
types instead of 4 bytes per atom). Lengths in Å, energies in eV, forces in eV/Å, whatever the
units of the files were (readers convert).
"""
from dataclasses import dataclass, field, replace
from itertools import chain

import numpy as np

from .errors import InputError


@dataclass(frozen=True, eq=False)
class Dataset:
    positions: np.ndarray | None  # [n_atoms, 3] float64, Å; None once reduced for a fit (``for_fitting``)
    type_index: np.ndarray | None  # [n_atoms] int32, into type_names (parameters are per type); None: counts only
    type_names: tuple[str, ...]
    species_index: np.ndarray | None  # [n_atoms] int32, into species_names (chemical species); None: counts only
    species_names: tuple[str, ...]
    frame_offsets: np.ndarray  # [n_frames + 1] int64
    cells: np.ndarray  # [n_frames, 3, 3] float64, Å, rows are the cell vectors
    pbc: np.ndarray  # [n_frames, 3] bool
    energies: np.ndarray  # [n_frames] float64, eV; NaN where no reference energy
    weights: np.ndarray  # [n_frames] float64
    forces: np.ndarray | None  # [n_atoms, 3] float64, eV/Å; NaN in frames without forces
    fragments: np.ndarray | None  # [n_atoms] int64
    names: tuple[str, ...]  # [n_frames]
    sources: tuple[str, ...]  # [n_frames] file each frame came from
    first_atom_line: np.ndarray  # [n_frames] int64, 1-based line of each frame's first atom in its file
    info: tuple[dict, ...] = ()  # [n_frames] other key=value pairs of each frame
    extra: dict = field(default_factory=dict)  # other per-atom columns: name -> [n_atoms, ...]
    baseline: np.ndarray | None = None  # [n_frames] eV added to the model (D3, polarisation, ...); None: none
    type_table: np.ndarray | None = None  # [n_frames, n_types] int32 atoms of each type, where type_index is None
    species_table: np.ndarray | None = None  # [n_frames, n_species] int32, where species_index is None

    @property
    def n_frames(self) -> int:
        return len(self.frame_offsets) - 1

    @property
    def n_atoms(self) -> int:
        return int(self.frame_offsets[-1])

    @property
    def atoms_per_frame(self) -> np.ndarray:
        return np.diff(self.frame_offsets)

    @property
    def frame_index(self) -> np.ndarray:
        """[n_atoms] frame of each atom."""
        return np.repeat(np.arange(self.n_frames), self.atoms_per_frame)

    @property
    def has_forces(self) -> np.ndarray:
        """[n_frames] whether each frame carries reference forces."""
        if self.forces is None:
            return np.zeros(self.n_frames, bool)
        first_atoms = self.frame_offsets[:-1][self.atoms_per_frame > 0]
        has = np.zeros(self.n_frames, bool)
        has[self.atoms_per_frame > 0] = np.isfinite(self.forces[first_atoms, 0])
        return has

    def counts(self, index: np.ndarray, n: int) -> np.ndarray:
        """[n_frames, n] how many atoms of each label (type or species) each frame has."""
        flat = self.frame_index * n + index
        return np.bincount(flat, minlength=self.n_frames * n).reshape(self.n_frames, n)

    @property
    def type_counts(self) -> np.ndarray:
        """[n_frames, n_types] atoms of each type in each frame."""
        if self.type_index is None:
            return self.type_table
        return self.counts(self.type_index, len(self.type_names))

    @property
    def species_counts(self) -> np.ndarray:
        """[n_frames, n_species] atoms of each species in each frame."""
        if self.species_index is None:
            return self.species_table
        return self.counts(self.species_index, len(self.species_names))

    def frame_location(self, frame: int) -> str:
        """``file:line`` of a frame's comment line (the file alone where lines are not known)."""
        line = int(self.first_atom_line[frame]) - 1
        return f"{self.sources[frame]}:{line}" if line > 0 else self.sources[frame]

    def atom_location(self, atom: int) -> str:
        """``file:line (frame name, atom k)`` for messages about one atom."""
        frame = int(np.searchsorted(self.frame_offsets, atom, side="right") - 1)
        local = atom - int(self.frame_offsets[frame])
        line = int(self.first_atom_line[frame]) + local if self.first_atom_line[frame] > 0 else None
        place = f"{self.sources[frame]}:{line}" if line else self.sources[frame]
        label = f" {self.type_names[self.type_index[atom]]}" if self.type_index is not None else ""
        return f"{place} (frame {self.names[frame]}, atom {local + 1}{label})"


def for_fitting(dataset: Dataset, keep_forces: bool, keep_labels: bool = False) -> Dataset:
    """What a fit on pair moments needs of a dataset once its moments are made: per-frame values
    (names, energies, weights, cells), the count table of types and species per frame, and forces
    when they are fitted. Positions, other per-atom columns, frame info and, unless ``keep_labels``,
    the type and species of every atom (most of its size) are dropped."""
    reduced = replace(dataset, positions=None, forces=dataset.forces if keep_forces else None, info=(), extra={})
    if keep_labels or dataset.type_index is None:
        return reduced
    types = dataset.type_counts.astype(np.int32)
    same = dataset.species_index is dataset.type_index and dataset.species_names == dataset.type_names
    species = types if same else dataset.species_counts.astype(np.int32)  # one array: pickled once
    return replace(reduced, type_index=None, species_index=None, type_table=types, species_table=species)


def merge_labels(parts: list[tuple[np.ndarray, tuple[str, ...]]]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Concatenate label indices that each point into their own name tuple; names sorted."""
    names = tuple(sorted({n for _, ns in parts for n in ns}))
    lookup = {n: k for k, n in enumerate(names)}
    index = [np.array([lookup[n] for n in ns], np.int32)[idx] if len(ns) else idx.astype(np.int32) for idx, ns in parts]
    return (np.concatenate(index) if index else np.zeros(0, np.int32)), names


def merge_tables(parts: list[tuple[np.ndarray, tuple[str, ...]]]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Stack count tables [n_frames_i, n_i] whose columns are their own name tuples; names sorted."""
    names = tuple(sorted({n for _, ns in parts for n in ns}))
    lookup = {n: k for k, n in enumerate(names)}
    out = np.zeros((sum(len(t) for t, _ in parts), len(names)), np.int32)
    row = 0
    for table, ns in parts:
        out[row:row + len(table), [lookup[n] for n in ns]] = table
        row += len(table)
    return out, names


def concat(datasets: list[Dataset]) -> Dataset:
    """One dataset with the frames of all ``datasets`` in order (count tables only, if any has no labels)."""
    if len(datasets) == 1:
        return datasets[0]
    tables = {}
    if all(d.type_index is not None for d in datasets):
        types, type_names = merge_labels([(d.type_index, d.type_names) for d in datasets])
        species, species_names = merge_labels([(d.species_index, d.species_names) for d in datasets])
    else:
        types = species = None
        type_table, type_names = merge_tables([(d.type_counts, d.type_names) for d in datasets])
        species_table, species_names = merge_tables([(d.species_counts, d.species_names) for d in datasets])
        tables = {"type_table": type_table, "species_table": species_table}
    offsets = np.concatenate([[0]] + [d.frame_offsets[1:] + shift for d, shift in
                                      zip(datasets, np.cumsum([0] + [d.n_atoms for d in datasets[:-1]]))])
    any_forces = any(d.forces is not None for d in datasets)
    forces = (np.concatenate([d.forces if d.forces is not None else np.full((d.n_atoms, 3), np.nan)
                              for d in datasets]) if any_forces else None)
    any_fragments = any(d.fragments is not None for d in datasets)
    if any_fragments and not all(d.fragments is not None for d in datasets):
        missing = next(d for d in datasets if d.fragments is None)
        raise InputError(f"{missing.sources[0]}: has no fragment column but other inputs do")
    extra = _concat_extra(datasets)
    return Dataset(
        positions=(None if any(d.positions is None for d in datasets)
                   else np.concatenate([d.positions for d in datasets])),
        type_index=types,
        type_names=type_names,
        species_index=species,
        species_names=species_names,
        frame_offsets=offsets.astype(np.int64),
        cells=np.concatenate([d.cells for d in datasets]),
        pbc=np.concatenate([d.pbc for d in datasets]),
        energies=np.concatenate([d.energies for d in datasets]),
        weights=np.concatenate([d.weights for d in datasets]),
        forces=forces,
        fragments=np.concatenate([d.fragments for d in datasets]) if any_fragments else None,
        names=tuple(chain.from_iterable(d.names for d in datasets)),
        sources=tuple(chain.from_iterable(d.sources for d in datasets)),
        first_atom_line=np.concatenate([d.first_atom_line for d in datasets]),
        info=tuple(chain.from_iterable(d.info for d in datasets)),
        extra=extra,
        baseline=_concat_baseline(datasets),
        **tables,
    )


def _concat_baseline(datasets: list[Dataset]) -> np.ndarray | None:
    if all(d.baseline is None for d in datasets):
        return None
    return np.concatenate([d.baseline if d.baseline is not None else np.full(d.n_frames, np.nan) for d in datasets])


def _concat_extra(datasets: list[Dataset]) -> dict:
    """Per-atom columns that all inputs have with the same shape; numeric columns that only some have
    (charges, say) are kept as float with NaN for the atoms of the others, so that a check can name them."""
    out = {}
    for key in sorted(set().union(*(d.extra for d in datasets))):
        have = [d.extra[key] for d in datasets if key in d.extra]
        if len({v.shape[1:] for v in have}) != 1:
            continue
        if len(have) == len(datasets):
            out[key] = np.concatenate(have)
        elif all(v.dtype.kind in "fi" for v in have):
            out[key] = np.concatenate([d.extra[key].astype(float) if key in d.extra else
                                       np.full((d.n_atoms,) + have[0].shape[1:], np.nan) for d in datasets])
    return out
