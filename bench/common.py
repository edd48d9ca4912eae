"""Shared by the benchmarks: synthetic LJ-mixture data and the reference pipeline a competent user writes.

The reference pipeline is deliberately independent of ljfit: ase.io.read, vesin
neighbour lists kept in memory, a vectorized numpy LJ energy, and
scipy.optimize.least_squares with its default finite-difference Jacobian.
"""
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
SPECIES = ("Ar", "Kr", "Xe")
TRUTH = {"Ar": (0.0104, 3.40), "Kr": (0.0141, 3.65), "Xe": (0.0194, 3.95)}  # eV, Å
CUTOFF = 8.5


def mixed(params: np.ndarray, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """C12, C6 per pair type (a <= b, row-major) from [eps_0, sigma_0, eps_1, ...] with Lorentz-Berthelot."""
    eps, sigma = params[0::2], params[1::2]
    a, b = np.triu_indices(n)
    e, s = np.sqrt(eps[a] * eps[b]), 0.5 * (sigma[a] + sigma[b])
    return 4 * e * s ** 12, 4 * e * s ** 6


def pair_type_index(n: int = 3) -> np.ndarray:
    table = np.zeros((n, n), int)
    a, b = np.triu_indices(n)
    table[a, b] = table[b, a] = np.arange(len(a))
    return table


class ReferencePairs:
    """All pairs within the cutoff of a list of ase.Atoms, kept in memory (vesin)."""

    def __init__(self, frames, cutoff: float = CUTOFF):
        import vesin
        nl = vesin.NeighborList(cutoff=cutoff, full_list=False)
        frame, ptype, dist = [], [], []
        lookup = {s: k for k, s in enumerate(SPECIES)}
        table = pair_type_index()
        for k, atoms in enumerate(frames):
            i, j, d = nl.compute(atoms.positions, atoms.cell.array, atoms.pbc, quantities="ijd")
            t = np.array([lookup[s] for s in atoms.get_chemical_symbols()])
            frame.append(np.full(len(i), k))
            ptype.append(table[t[i], t[j]])
            dist.append(d)
        self.frame, self.ptype, self.dist = np.concatenate(frame), np.concatenate(ptype), np.concatenate(dist)
        self.n_frames = len(frames)
        self.cutoff = cutoff

    def energies(self, params: np.ndarray, shift: bool = True) -> np.ndarray:
        c12, c6 = mixed(params)
        inv6 = self.dist ** -6
        e = c12[self.ptype] * inv6 * inv6 - c6[self.ptype] * inv6
        if shift:
            rc6 = self.cutoff ** -6
            e -= c12[self.ptype] * rc6 * rc6 - c6[self.ptype] * rc6
        return np.bincount(self.frame, weights=e, minlength=self.n_frames)


def lattice_frames(n_frames: int, n_cells: int = 6, spacing: float = 4.44, jitter: float = 0.35, seed: int = 0):
    """Perturbed simple-cubic lattices of n_cells^3 atoms with random species (density ~0.0114 / Å^3)."""
    from ase import Atoms
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 3) * spacing
    frames = []
    for _ in range(n_frames):
        box = n_cells * spacing * rng.uniform(0.97, 1.03)
        positions = grid * box / (n_cells * spacing) + rng.normal(0, jitter, grid.shape)
        symbols = rng.choice(SPECIES, len(grid), p=[0.5, 0.3, 0.2])
        frames.append(Atoms(symbols=symbols, positions=positions, cell=np.eye(3) * box, pbc=True))
    return frames


def make_mixture_file(n_frames: int, n_cells: int = 6, seed: int = 0, with_forces: bool = False) -> Path:
    """bench/data/mixture_<frames>x<atoms>.extxyz written by ase.io.write, energies from TRUTH (cached)."""
    import ase.io
    from ase.calculators.singlepoint import SinglePointCalculator
    path = DATA / f"mixture_{n_frames}x{n_cells ** 3}{'_f' if with_forces else ''}.extxyz"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    frames = lattice_frames(n_frames, n_cells, seed=seed)
    truth = np.array([v for s in SPECIES for v in TRUTH[s]])
    energies = ReferencePairs(frames).energies(truth)
    for k, (atoms, energy) in enumerate(zip(frames, energies)):
        forces = np.zeros((len(atoms), 3)) if with_forces else None
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        atoms.info["name"] = f"frame{k}"
    tmp = path.with_suffix(".tmp")
    ase.io.write(tmp, frames, format="extxyz")
    tmp.rename(path)
    return path

