"""Pair moments: the dataset reduced once to what the pair model needs.

For pair type t (an unordered pair of atom types) and a form u(r) = C_n r^-n - C_m r^-m
(potential.py: C12 and C6 below stand for C_n and C_m, n = 12 and m = 6 for lj), the
energy of frame n is

    E_n = sum_t  C12_t * A[n, t]  -  C6_t * B[n, t]
    A[n, t] = sum over pairs of type t in frame n of  e_n(r)     (r^-n, minus rc^-n when shifted)
    B[n, t] = sum ...                                 e_m(r)     (r^-m, minus rc^-m when shifted)

plus, with the tail correction, N_a N_b / V times its constants (``tail_moments``).
A truncated cutoff has no rc terms; no cutoff (non-periodic frames) sums all pairs.

Forces: with d = r_j + shift @ cell - r_i, the force on j is (C12 f_n(r) - C6 f_m(r)) d,
f_k(r) = k r^-(k+2), and the force on i is its negative. Per atom a and partner TYPE b:

    F12[a, :, b] = sum over pairs of a with an atom of type b of  +-f_n(r) d
    F6[a, :, b]  = sum ...                                           +-f_m(r) d
    F_a = sum_b  C12[type_a, b] F12[a, :, b] - C6[type_a, b] F6[a, :, b]

(indexing by partner type rather than pair type keeps only the n_types columns an
atom can have). The shift and the tail do not change forces. The pair terms are the
cutoff scheme's (potential.py), the only place to change for another cutoff treatment.

Moments of consecutive frame chunks concatenate, so they can be computed in
pieces and gathered; moments of the blocks of one large frame add up.
"""
from dataclasses import dataclass, replace

import numpy as np

from .dataset import Dataset
from .errors import InputError
from .neighbors import BLOCK_ATOMS, PAIRS_PER_CHUNK, PairSet, iter_pairs
from .params import pair_types
from .potential import CutoffScheme


def pair_type_table(n_types: int) -> np.ndarray:
    """[n_types, n_types] symmetric table: column of pair type (a, b)."""
    a, b = pair_types(n_types)
    table = np.empty((n_types, n_types), np.int64)
    table[a, b] = table[b, a] = np.arange(len(a))
    return table


def pair_type_names(type_names: tuple[str, ...]) -> list[str]:
    a, b = pair_types(len(type_names))
    return [f"{type_names[x]}-{type_names[y]}" for x, y in zip(a, b)]


@dataclass(frozen=True, eq=False)
class Moments:
    type_names: tuple[str, ...]
    energy12: np.ndarray  # [n_frames, n_pair_types]  A
    energy6: np.ndarray  # [n_frames, n_pair_types]   B
    pair_count: np.ndarray  # [n_pair_types] int64, pairs of each type in the data
    min_distance: np.ndarray  # [n_pair_types] Å, inf where a type pair never occurs
    atom_types: np.ndarray | None = None  # [n_atoms] int64, with forces
    force12: np.ndarray | None = None  # [n_atoms, 3, n_types]
    force6: np.ndarray | None = None  # [n_atoms, 3, n_types]
    coulomb: np.ndarray | None = None  # [n_frames] eV, fixed-charge Coulomb energy (coulomb.py), a constant of the fit
    coulomb_forces: np.ndarray | None = None  # [n_atoms, 3] eV/Å, with forces
    charges: np.ndarray | None = None  # [n_atoms] e, the charges of the Coulomb term

    @property
    def n_frames(self) -> int:
        return len(self.energy12)

    @property
    def has_forces(self) -> bool:
        return self.force12 is not None


def moments_of_pairs(pairs: PairSet, dataset: Dataset, scheme: CutoffScheme, with_forces: bool,
                 n_types: int) -> Moments:
    """Moments of the frames ``pairs.frames`` (a chunk) from their pairs."""
    f0, f1 = pairs.frames.start, pairs.frames.stop
    n_frames, n_pt = f1 - f0, n_types * (n_types + 1) // 2
    ti, tj = dataset.type_index[pairs.first].astype(np.int64), dataset.type_index[pairs.second].astype(np.int64)
    pt = pair_type_table(n_types)[ti, tj]
    e12, e6 = scheme.energy_terms(pairs.distance)
    bins = (pairs.frame - f0) * n_pt + pt
    size = n_frames * n_pt
    energy12 = np.bincount(bins, weights=e12, minlength=size).reshape(n_frames, n_pt)
    energy6 = np.bincount(bins, weights=e6, minlength=size).reshape(n_frames, n_pt)
    pair_count = np.bincount(pt, minlength=n_pt).astype(np.int64)
    min_distance = np.full(n_pt, np.inf)
    np.minimum.at(min_distance, pt, pairs.distance)
    if not with_forces:
        return Moments(dataset.type_names, energy12, energy6, pair_count, min_distance)
    a0, a1 = int(dataset.frame_offsets[f0]), int(dataset.frame_offsets[f1])
    f12, f6 = scheme.force_terms(pairs.distance)
    force12 = _force_moment(f12[:, None] * pairs.vector, pairs, ti, tj, a0, a1 - a0, n_types)
    force6 = _force_moment(f6[:, None] * pairs.vector, pairs, ti, tj, a0, a1 - a0, n_types)
    return Moments(dataset.type_names, energy12, energy6, pair_count, min_distance,
                   dataset.type_index[a0:a1].astype(np.int64), force12, force6)


def _force_moment(per_pair: np.ndarray, pairs: PairSet, ti, tj, a0: int, n_atoms: int, n_types: int) -> np.ndarray:
    """[n_atoms, 3, n_types]: +per_pair on atom j (partner type ti), -per_pair on atom i (partner tj)."""
    on_j = (pairs.second - a0) * n_types + ti
    on_i = (pairs.first - a0) * n_types + tj
    size = n_atoms * n_types
    out = np.empty((n_atoms, 3, n_types))
    for axis in range(3):
        out[:, axis, :] = (np.bincount(on_j, weights=per_pair[:, axis], minlength=size)
                           - np.bincount(on_i, weights=per_pair[:, axis], minlength=size)).reshape(n_atoms, n_types)
    return out


def add_moments(a: Moments, b: Moments) -> Moments:
    """Moments of the same frames from two disjoint sets of pairs (blocks of a large frame) added."""
    return Moments(a.type_names, a.energy12 + b.energy12, a.energy6 + b.energy6, a.pair_count + b.pair_count,
                   np.minimum(a.min_distance, b.min_distance), a.atom_types,
                   a.force12 + b.force12 if a.has_forces else None, a.force6 + b.force6 if a.has_forces else None)


def concat_moments(parts: list[Moments]) -> Moments:
    """Moments of consecutive chunks (same type names) stacked into one."""
    first = parts[0]
    with_forces = first.has_forces
    coulomb = first.coulomb is not None
    if any((p.coulomb is not None) != coulomb for p in parts):
        raise ValueError("moments with and without a Coulomb term cannot be joined")
    return Moments(
        first.type_names,
        np.concatenate([p.energy12 for p in parts]),
        np.concatenate([p.energy6 for p in parts]),
        np.sum([p.pair_count for p in parts], axis=0),
        np.min([p.min_distance for p in parts], axis=0),
        np.concatenate([p.atom_types for p in parts]) if with_forces else None,
        np.concatenate([p.force12 for p in parts]) if with_forces else None,
        np.concatenate([p.force6 for p in parts]) if with_forces else None,
        np.concatenate([p.coulomb for p in parts]) if coulomb else None,
        np.concatenate([p.coulomb_forces for p in parts]) if coulomb and first.coulomb_forces is not None else None,
        np.concatenate([p.charges for p in parts]) if coulomb else None,
    )


def remap_types(moments: Moments, type_names: tuple[str, ...]) -> Moments:
    """The same moments with columns for ``type_names`` (a superset of the moments' types)."""
    if moments.type_names == type_names:
        return moments
    lookup = np.array([type_names.index(n) for n in moments.type_names], np.int64)
    n_new = len(type_names)
    a, b = pair_types(len(moments.type_names))
    cols = pair_type_table(n_new)[lookup[a], lookup[b]]
    n_pt = n_new * (n_new + 1) // 2

    def spread(values: np.ndarray, fill=0.0) -> np.ndarray:
        out = np.full(values.shape[:-1] + (n_pt,), fill, dtype=values.dtype)
        out[..., cols] = values
        return out

    forces = {}
    if moments.has_forces:
        for key in ("force12", "force6"):
            old = getattr(moments, key)
            new = np.zeros(old.shape[:2] + (n_new,))
            new[:, :, lookup] = old
            forces[key] = new
    return Moments(type_names, spread(moments.energy12), spread(moments.energy6), spread(moments.pair_count, 0),
                   spread(moments.min_distance, np.inf),
                   lookup[moments.atom_types] if moments.has_forces else None,
                   forces.get("force12"), forces.get("force6"), moments.coulomb, moments.coulomb_forces,
                   moments.charges)


def compute_moments(dataset: Dataset, scheme: CutoffScheme, scope: str = "all", with_forces: bool = False,
                    max_pairs: int = PAIRS_PER_CHUNK, progress=None, all_pairs_if_isolated: bool = False,
                    max_atoms: int = BLOCK_ATOMS, share: tuple[int, int] = (0, 1), coulomb=None) -> Moments:
    """Moments of every frame of ``dataset``; ``progress(n_frames_done)`` is called per chunk.

    Frames of more than ``max_atoms`` atoms are reduced block by block (``neighbors.block_grid``);
    ``share`` (k, n): the k-th of n shares of the work (``neighbors.iter_pairs``), whose moments add up.
    ``coulomb`` (a coulomb.CoulombSetup): the fixed-charge Coulomb energies (and forces) are computed
    from the same pairs and kept in the moments (whole frames: no blocks, no shares)."""
    from dataclasses import replace
    if coulomb is not None and share != (0, 1):
        raise ValueError("the Coulomb term is computed per whole frame: no shares")
    n_types = len(dataset.type_names)
    tail = None  # checks the frames before the work; one share of a frame brings its tail
    if scheme.tail and share[0] == 0:
        tail = tail_moments(dataset, scheme, scope)
    parts, frames = [], None
    for pairs in iter_pairs(dataset, scheme.radius, scope, max_pairs, all_pairs_if_isolated, vectors=with_forces,
                            max_atoms=max_atoms if coulomb is None else dataset.n_atoms + 1, share=share):
        part = moments_of_pairs(pairs, dataset, scheme, with_forces, n_types)
        if coulomb is not None:
            energies, forces = coulomb.of_pairs(pairs, dataset, scheme.radius, scope == "inter-fragment", with_forces)
            a0, a1 = dataset.frame_offsets[pairs.frames.start], dataset.frame_offsets[pairs.frames.stop]
            part = replace(part, coulomb=energies, coulomb_forces=forces, charges=coulomb.charges[a0:a1])
        if pairs.frames == frames:  # another block of the same large frame
            parts[-1] = add_moments(parts[-1], part)
        else:
            parts.append(part)
        frames = pairs.frames
        if progress is not None:
            progress(pairs.frames.stop)
    moments = concat_moments(parts)
    if tail is not None:
        moments = replace(moments, energy12=moments.energy12 + tail[0], energy6=moments.energy6 + tail[1])
    return moments


def tail_moments(dataset: Dataset, scheme: CutoffScheme, scope: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """The tail correction's parts of A and B: [n_frames, n_pair_types] each.

    N_a N_b / V (2 N_a N_b / V for a != b) times the scheme's tail terms; with scope
    "inter-fragment", only atom pairs of different fragments count (N_a N_b less the
    products within each fragment), as E(all) - sum of E(fragment) in the same cell gives.
    """
    bulk = dataset.pbc.all(axis=1)
    if not bulk.all():
        k = int(np.flatnonzero(~bulk)[0])
        raise InputError(f"--tail: frame {dataset.names[k]} ({dataset.sources[k]}) is not periodic in all three "
                         f"directions; the tail correction is for bulk cells")
    t_n, t_m = scheme.tail_terms()
    n_types = len(dataset.type_names)
    a, b = pair_types(n_types)
    ordered = np.where(a == b, 1.0, 2.0)
    counts = dataset.type_counts.astype(float)
    products = counts[:, a] * counts[:, b] * ordered
    if scope == "inter-fragment" and dataset.fragments is not None:
        groups, group = np.unique(np.stack([dataset.frame_index, dataset.fragments]), axis=1, return_inverse=True)
        group = group.reshape(-1)
        within = np.bincount(group * n_types + dataset.type_index, minlength=groups.shape[1] * n_types)
        within = within.reshape(-1, n_types).astype(float)
        np.subtract.at(products, groups[0], within[:, a] * within[:, b] * ordered)
    density = products / np.abs(np.linalg.det(dataset.cells))[:, None]
    return density * t_n, density * t_m


def fixed_terms(dataset: Dataset, moments: Moments | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Energies [n_frames] eV and forces [n_atoms, 3] eV/Å that the parameters do not change: the
    fixed-charge Coulomb term (from the moments) plus the baseline (energies only); None where none."""
    energies = None if moments is None or moments.coulomb is None else np.asarray(moments.coulomb)
    if dataset.baseline is not None:
        energies = dataset.baseline if energies is None else energies + dataset.baseline
    forces = None if moments is None or moments.coulomb_forces is None else np.asarray(moments.coulomb_forces)
    return energies, forces
