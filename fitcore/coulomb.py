"""Fixed-charge Coulomb energies and forces: a per-frame constant of the fit.

With fixed charges the Coulomb energy does not depend on the fitted parameters, so it is
computed once per frame, during the reduction (from the same pairs as the LJ moments), and
enters the fit as a known column E_fixed (problem.py):  E_n = LJ_n(theta) + offsets + E_fixed_n.

Per frame, one of (``--coulomb auto``: none without charges; ``direct`` for non-periodic
frames, ``ewald`` for periodic ones):

    direct  E = k_e sum over pairs within the cutoff (all pairs without one) of q_i q_j / r
            (LAMMPS ``pair_style lj/cut/coul/cut``, its Coulomb cutoff equal to the LJ one)
    ewald   real-space pairs within the LJ cutoff, q_i q_j erfc(g r) / r, plus the k-space,
            self, background and slab terms of ewald.py (LAMMPS ``lj/cut/coul/long`` +
            ``kspace_style ewald ACC``, ``kspace_modify slab 3.0`` for slabs)

With ``--interactions inter-fragment`` the Coulomb part is the interaction energy
E(all) - sum_f E(fragment f), each in the same cell: its pair terms are the inter-fragment
pairs (intra-fragment pairs cancel) and its k-space terms use charge channels (ewald.py).

k_e = e^2 / (4 pi eps0) = 14.3996454784 eV Å (CODATA 2018); LAMMPS' metal units use 14.399645,
3e-8 relative less.
"""
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .errors import InputError
from .ewald import erfc, ewald_parameters, kspace, slab_cells, slab_correction
from .neighbors import PairSet

COULOMB_CONSTANT = 14.3996454784  # eV Å, e^2 / (4 pi eps0), CODATA 2018
METHODS = ("auto", "none", "direct", "ewald")
NONE, DIRECT, EWALD = 0, 1, 2  # per-frame method codes


@dataclass(frozen=True)
class CoulombOptions:
    method: str = "auto"  # one of METHODS
    accuracy: float = 1e-8  # relative, as LAMMPS' kspace_style ewald ACC
    charge_key: str | None = None  # per-atom column of charges (None: initial_charges, charges, charge, q)
    charges: tuple[tuple[str, float], ...] = ()  # per-type charges (type, e), from --charge or a params file


@dataclass(frozen=True, eq=False)
class CoulombSetup:
    """What the reduction needs to add the Coulomb term: charges and per-frame methods."""
    charges: np.ndarray  # [n_atoms] e
    methods: np.ndarray  # [n_frames] NONE, DIRECT or EWALD
    accuracy: float

    def of_pairs(self, pairs: PairSet, dataset: Dataset, cutoff: float | None, fragments_apart: bool,
                 with_forces: bool) -> tuple[np.ndarray, np.ndarray | None]:
        return coulomb_chunk(pairs, dataset, self.charges, self.methods, cutoff, self.accuracy, fragments_apart,
                             with_forces)


def coulomb_setup(dataset: Dataset, options: CoulombOptions) -> CoulombSetup | None:
    """Charges and methods for ``dataset`` under ``options``; None when there is no Coulomb term."""
    from .charges import atom_charges
    if not (options.accuracy > 0 and options.accuracy < 1):
        raise InputError(f"--coulomb-accuracy {options.accuracy:g} must be between 0 and 1 (relative)")
    charges = None if options.method == "none" else atom_charges(dataset, options.charge_key, dict(options.charges))
    methods = frame_methods(dataset, options.method, charges is not None)
    if charges is None:
        return None
    return CoulombSetup(charges=charges, methods=methods, accuracy=options.accuracy)


def check_charges(dataset: Dataset, options: CoulombOptions) -> CoulombSetup | None:
    """``coulomb_setup`` of the whole dataset, and a warning for charged periodic frames."""
    from .charges import warn_net_charge
    setup = coulomb_setup(dataset, options)
    if setup is not None:
        warn_net_charge([(dataset, setup.charges)])
    return setup


def check_gathered(parts: list) -> None:
    """Checks of (dataset, moments) pieces reduced apart, once they are all in: every piece has charges
    or none has (the error names the first frame without), and charged periodic frames are warned about."""
    from .charges import warn_net_charge
    have = [m is not None and m.coulomb is not None for _, m in parts]
    if any(have) and not all(have):
        lacking = parts[have.index(False)][0]
        raise InputError(f"{lacking.frame_location(0)}: frame {lacking.names[0]} has no charges but other frames do "
                         f"(a charge column, or --charge for its types)")
    if all(have):
        warn_net_charge([(d, m.charges) for d, m in parts])


def frame_methods(dataset: Dataset, method: str, has_charges: bool) -> np.ndarray:
    """[n_frames] NONE, DIRECT or EWALD for each frame; InputError where the method cannot apply."""
    if method not in METHODS:
        raise ValueError(f"Coulomb method must be one of {METHODS}, got {method!r}")
    periodic = dataset.pbc.any(axis=1)
    if method == "none" or not has_charges:
        if method in ("direct", "ewald"):
            raise InputError(f"--coulomb {method}: the data has no charges (give a charge column, "
                             f"--charge-key or --charge TYPE=Q)")
        return np.full(dataset.n_frames, NONE)
    if method == "direct":
        return np.full(dataset.n_frames, DIRECT)
    if method == "ewald" and not periodic.all():
        k = int(np.flatnonzero(~periodic)[0])
        raise InputError(f"--coulomb ewald: frame {dataset.names[k]} ({dataset.sources[k]}) is not periodic; "
                         f"use --coulomb auto (direct sums for molecules) or direct")
    methods = np.where(periodic, EWALD, DIRECT)
    _check_ewald_cells(dataset, methods == EWALD)
    return methods


def _check_ewald_cells(dataset: Dataset, ewald: np.ndarray) -> None:
    """Ewald needs three periodic directions, or two with the third cell vector perpendicular to them."""
    n_periodic = dataset.pbc.sum(axis=1)
    for k in np.flatnonzero(ewald & (n_periodic < 3)):
        where_ = f"frame {dataset.names[k]} ({dataset.sources[k]})"
        if n_periodic[k] != 2:
            raise InputError(f"{where_}: Ewald sums need a frame periodic in 3 directions, or in 2 (a slab); "
                             f"this one has pbc {' '.join('T' if p else 'F' for p in dataset.pbc[k])} "
                             f"(use --coulomb direct for a plain cutoff sum)")
        cell = dataset.cells[k]
        axis = int(np.argmin(dataset.pbc[k]))
        normal, others = cell[axis], cell[dataset.pbc[k]]
        length = np.linalg.norm(normal)
        if length == 0 or np.max(np.abs(others @ normal)) > 1e-6 * length * np.linalg.norm(others, axis=1).max():
            raise InputError(f"{where_}: a slab needs its non-periodic cell vector perpendicular to the periodic "
                             f"ones, with a length (the slab's box height), as LAMMPS' kspace_modify slab does")


def pair_terms(pairs: PairSet, charges: np.ndarray, methods: np.ndarray, g: np.ndarray, frame0: int,
               n_atoms: int, atom0: int, with_forces: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Pair energies summed per frame [n_frames of the chunk] and pair forces [n_atoms, 3], e^2/Å.

    charges [atoms of the dataset] e; methods [chunk frames]; g [chunk frames] 1/Å (EWALD frames; 0 in the
    others, where erfc(0 r) = 1 leaves the plain q_i q_j / r); pairs of frames frame0 ...; their atoms start
    at atom0. Pairs with an uncharged atom, or in frames without a Coulomb term, are left out."""
    local = pairs.frame - frame0
    qq = charges[pairs.first] * charges[pairs.second]
    keep = np.flatnonzero((qq != 0) & (methods[local] != NONE))
    local, qq, r = local[keep], qq[keep], pairs.distance[keep]
    gr = g[local] * r
    screen = erfc(gr)
    per_frame = np.bincount(local, weights=qq * screen / r, minlength=len(methods))
    if not with_forces:
        return per_frame, None
    # force on j along d = r_j - r_i: q_i q_j (erfc(g r) / r + 2 g / sqrt(pi) exp(-g^2 r^2)) / r^2
    scale = qq * (screen / r + 2 / np.sqrt(np.pi) * g[local] * np.exp(-gr * gr)) / (r * r)
    first, second, vector = pairs.first[keep] - atom0, pairs.second[keep] - atom0, pairs.vector[keep]
    forces = np.zeros((n_atoms, 3))
    for axis in range(3):
        per_pair = scale * vector[:, axis]
        forces[:, axis] = (np.bincount(second, weights=per_pair, minlength=n_atoms)
                           - np.bincount(first, weights=per_pair, minlength=n_atoms))
    return per_frame, forces


def channels(charges: np.ndarray, fragments: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Charge channels [C, N] and weights [C] of one frame: all atoms, then each fragment alone (weight -1)."""
    if fragments is None:
        return charges[None, :], np.ones(1)
    ids = np.unique(fragments)
    alone = np.where(fragments[None, :] == ids[:, None], charges[None, :], 0.0)
    return np.vstack([charges[None, :], alone]), np.r_[1.0, -np.ones(len(ids))]


def kspace_terms(dataset: Dataset, frames: np.ndarray, charges: np.ndarray, cutoff: float, accuracy: float,
                 fragments_apart: bool, with_forces: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """g [len(frames)], and the k-space, self, background and slab energies [len(frames)] e^2/Å and their
    forces [atoms of those frames, 3] (in frame order) of the Ewald frames ``frames`` of ``dataset``.

    Frames of one atom count go to ``ewald.kspace`` together (those of one channel count, with fragments)."""
    offsets = dataset.frame_offsets
    counts = dataset.atoms_per_frame[frames]
    cells = slab_cells(dataset.cells[frames], dataset.pbc[frames])
    g, energies = np.zeros(len(frames)), np.zeros(len(frames))
    rows = np.concatenate([[0], np.cumsum(counts)])  # each frame's first row of the forces
    forces = np.zeros((rows[-1], 3)) if with_forces else None
    for n_atoms in np.unique(counts[counts > 0]):
        members = np.flatnonzero(counts == n_atoms)
        atoms = offsets[frames[members]][:, None] + np.arange(n_atoms)  # [frames, n_atoms]
        sum_q2 = np.sum(charges[atoms] ** 2, axis=1)
        g[members], kmax = ewald_parameters(np.full(len(members), float(n_atoms)), np.maximum(sum_q2, 1e-300),
                                            cells[members], cutoff, accuracy, COULOMB_CONSTANT)
        charged = sum_q2 > 0  # a frame without charges has no Coulomb energy
        members, atoms, kmax = members[charged], atoms[charged], kmax[charged]
        fragments = dataset.fragments[atoms] if fragments_apart else None
        for part, q, weights in _channel_groups(charges[atoms], fragments):
            sel, positions, pbc = members[part], dataset.positions[atoms[part]], dataset.pbc[frames[members[part]]]
            e, f = kspace(positions, q, weights, cells[sel], g[sel], kmax[part], with_forces)
            slab = ~pbc.all(axis=1)
            if slab.any():
                es, fs = slab_correction(positions[slab], q[slab], weights, cells[sel][slab], pbc[slab], with_forces)
                e[slab] += es
                if with_forces:
                    f[slab] += fs
            energies[sel] = e
            if with_forces:
                forces[rows[sel][:, None] + np.arange(n_atoms)] = f
    return g, energies, forces


def _channel_groups(charges: np.ndarray, fragments: np.ndarray | None):
    """(frames, channels [frames, C, N], weights [C]) for the frames of charges [frames, N] that have the
    same channels (``channels``): all of them at once without fragments, else by channel count."""
    if fragments is None:
        yield np.arange(len(charges)), charges[:, None, :], np.ones(1)
        return
    chans = [channels(q, f) for q, f in zip(charges, fragments)]
    counts = np.array([len(w) for _, w in chans])
    for count in np.unique(counts):
        part = np.flatnonzero(counts == count)
        yield part, np.stack([chans[k][0] for k in part]), chans[part[0]][1]


def coulomb_chunk(pairs: PairSet, dataset: Dataset, charges: np.ndarray, methods: np.ndarray, cutoff: float | None,
                  accuracy: float, fragments_apart: bool, with_forces: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Coulomb energies [chunk frames] eV and forces [chunk atoms, 3] eV/Å of the frames ``pairs.frames``.

    methods [n_frames of the dataset]; ``fragments_apart``: interaction energies between fragments."""
    f0, f1 = pairs.frames.start, pairs.frames.stop
    a0, a1 = int(dataset.frame_offsets[f0]), int(dataset.frame_offsets[f1])
    chunk_methods = methods[f0:f1]
    g = np.zeros(f1 - f0)
    energies = np.zeros(f1 - f0)
    forces = np.zeros((a1 - a0, 3)) if with_forces else None
    ewald = np.flatnonzero(chunk_methods == EWALD)
    if len(ewald):
        g_e, e_k, f_k = kspace_terms(dataset, ewald + f0, charges, cutoff, accuracy, fragments_apart, with_forces)
        g[ewald] = g_e
        energies[ewald] += e_k
        if with_forces:
            atoms = np.concatenate([np.arange(dataset.frame_offsets[k], dataset.frame_offsets[k + 1])
                                    for k in ewald + f0]) - a0
            forces[atoms] += f_k
    e_pair, f_pair = pair_terms(pairs, charges, chunk_methods, g, f0, a1 - a0, a0, with_forces)
    energies += e_pair
    if with_forces:
        forces += f_pair
    return COULOMB_CONSTANT * energies, (COULOMB_CONSTANT * forces if with_forces else None)


def coulomb_record(moments, dataset: Dataset, options: CoulombOptions) -> tuple[dict, dict]:
    """What a params file records of the Coulomb term: per-type charges {type: e} (empty when the
    charges differ within a type or there is no Coulomb term) and the options {method, accuracy, ...,
    "ewald": whether periodic frames used Ewald sums, which an export then sets up}."""
    if moments is None or moments.charges is None:
        return {}, ({"method": "none"} if options.method == "none" else {})
    charges = np.asarray(moments.charges)
    per_type = {}
    for k, name in enumerate(dataset.type_names):
        values = charges[dataset.type_index == k]
        if len(values) and np.ptp(values) > 1e-12:
            per_type = {}
            break
        if len(values):
            per_type[name] = float(values[0])
    source = "per-type" if options.charges else ("per-atom column " + (options.charge_key or "(default)"))
    record = {"method": options.method, "accuracy": options.accuracy, "constant_eV_A": COULOMB_CONSTANT,
              "charges_from": source, "charges_per_type": bool(per_type),
              "ewald": options.method in ("auto", "ewald") and bool(dataset.pbc.any())}
    return per_type, record
