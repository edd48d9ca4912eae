"""Many structure files (and globs) plus an optional energies table -> one Dataset."""
import glob
import os
from dataclasses import dataclass, replace

import numpy as np

from ..dataset import Dataset, concat
from ..errors import InputError
from .energies import baseline_from_key, join_baselines, join_energies, read_energies_and_baselines
from .xyz import ReadOptions, read_structures


@dataclass(frozen=True, kw_only=True)
class DataOptions:
    read: ReadOptions = ReadOptions()
    energies: str | None = None  # energies table path
    fragment_split: int | None = None  # first N atoms of each frame are fragment 0, the rest fragment 1
    site_types: int | None = None  # first N atoms of each frame each get their own type (C1, O2, ...)
    baseline_key: str | None = None  # frame key of a per-frame energy added to the model


def expand_paths(paths: list[str]) -> list[str]:
    """Paths with unexpanded globs (quoted on the shell) expanded, in sorted order."""
    out = []
    for path in paths:
        if path != "-" and not os.path.exists(path) and glob.has_magic(path):
            matches = sorted(glob.glob(path))
            if not matches:
                raise InputError(f"{path}: no file matches this pattern")
            out.extend(matches)
        else:
            out.append(path)
    if not out:
        raise InputError("no input files given")
    return out


def load_dataset(paths: list[str], options: DataOptions = DataOptions()) -> Dataset:
    dataset = concat([read_structures(p, options.read) for p in expand_paths(paths)])
    if options.fragment_split is not None:
        dataset = split_fragments(dataset, options.fragment_split)
    if options.site_types is not None:
        dataset = assign_site_types(dataset, options.site_types)
    dataset = read_frame_keys(dataset, options)
    return finish_dataset(dataset, options)


def finish_dataset(dataset: Dataset, options: DataOptions) -> Dataset:
    """Checks and joins that need every frame: unique names, the energies table."""
    check_unique_names(dataset)
    if options.energies:
        table, baselines = read_energies_and_baselines(options.energies, options.read.energy_unit)
        dataset = join_energies(dataset, table, options.energies)
        if baselines is not None:
            dataset = join_baselines(dataset, baselines, options.energies)
    return dataset


def read_frame_keys(dataset: Dataset, options: DataOptions) -> Dataset:
    """Per-frame values taken from frame keys right after reading (before frame info is dropped): the baseline."""
    if options.baseline_key:
        dataset = baseline_from_key(dataset, options.baseline_key, options.read.energy_unit)
    return dataset


def check_unique_names(dataset: Dataset) -> None:
    if len(set(dataset.names)) == len(dataset.names):
        return
    seen: dict[str, int] = {}
    for k, name in enumerate(dataset.names):
        if name in seen:
            first = seen[name]
            raise InputError(f"{dataset.sources[k]}: frame name {name!r} is used twice (also in "
                             f"{dataset.sources[first]}); frame names must be unique")
        seen[name] = k


def split_fragments(dataset: Dataset, n_first: int) -> Dataset:
    """Fragment 0 = the first ``n_first`` atoms of every frame, fragment 1 = the rest."""
    small = np.flatnonzero(dataset.atoms_per_frame <= n_first)
    if len(small):
        k = small[0]
        raise InputError(f"--fragment-split {n_first}: frame {dataset.names[k]} ({dataset.sources[k]}) has only "
                         f"{dataset.atoms_per_frame[k]} atoms, so its second fragment would be empty")
    local = np.arange(dataset.n_atoms) - np.repeat(dataset.frame_offsets[:-1], dataset.atoms_per_frame)
    return replace(dataset, fragments=(local >= n_first).astype(np.int64))


def assign_site_types(dataset: Dataset, n_sites: int) -> Dataset:
    """The first ``n_sites`` atoms of every frame each get their own type, named by element and position
    in the frame (C1, O2, O3: the classic per-site fit); the other atoms keep theirs. Type names sorted."""
    short = np.flatnonzero(dataset.atoms_per_frame < n_sites)
    if len(short):
        k = short[0]
        raise InputError(f"--site-types {n_sites}: frame {dataset.names[k]} ({dataset.sources[k]}) has only "
                         f"{dataset.atoms_per_frame[k]} atoms")
    local = np.arange(dataset.n_atoms) - np.repeat(dataset.frame_offsets[:-1], dataset.atoms_per_frame)
    site = local < n_sites
    n_species = len(dataset.species_names)
    # one code per (position, species) of a site atom, after the codes of the existing types
    code = np.where(site, len(dataset.type_names) + local * n_species + dataset.species_index, dataset.type_index)
    used, inverse = np.unique(code, return_inverse=True)
    names = [dataset.type_names[c] if c < len(dataset.type_names) else
             f"{dataset.species_names[(c - len(dataset.type_names)) % n_species]}"
             f"{(c - len(dataset.type_names)) // n_species + 1}" for c in used]
    if len(set(names)) < len(names):
        clash = next(n for n in names if names.count(n) > 1)
        raise InputError(f"--site-types {n_sites}: site type {clash} is also the name of a type in the data")
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return replace(dataset, type_index=rank[inverse].astype(np.int32), type_names=tuple(sorted(names)))


def require_energies(dataset: Dataset) -> None:
    """Every frame must have a reference energy (from its file or the energies table)."""
    missing = np.flatnonzero(np.isnan(dataset.energies))
    if len(missing):
        names = ", ".join(dataset.names[k] for k in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(f"{dataset.sources[missing[0]]}: {len(missing)} frame(s) have no energy: {names} "
                         f"(give --energies TABLE or an energy= key)")
