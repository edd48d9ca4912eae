"""Synthetic datasets for tests: random frames with well separated atoms."""
import numpy as np

from fitcore.dataset import Dataset
from fitcore.params import Layout

PBC_KINDS = {
    "none": (False, False, False),
    "full": (True, True, True),
    "slab": (True, True, False),
    "wire": (False, False, True),
}


def random_cell(rng: np.random.Generator, length: float, triclinic: bool) -> np.ndarray:
    cell = np.diag(rng.uniform(0.9, 1.1, 3) * length)
    if triclinic:
        cell[1, 0] = rng.uniform(-0.3, 0.3) * length
        cell[2, :2] = rng.uniform(-0.3, 0.3, 2) * length
    return cell


def separated_points(rng: np.random.Generator, n: int, box: np.ndarray, min_dist: float,
                     periodic=(False, False, False)) -> np.ndarray:
    """n points in the parallelepiped ``box`` (rows = vectors), at least min_dist apart, images included."""
    ranges = [(-1, 0, 1) if p else (0,) for p in periodic]
    images = np.array([(a, b, c) for a in ranges[0] for b in ranges[1] for c in ranges[2]], float) @ box
    if np.min(np.linalg.norm(images[np.any(images != 0, axis=1)], axis=1), initial=np.inf) < min_dist:
        raise ValueError("cell too small for min_dist")
    points = np.zeros((0, 3))
    for _ in range(100_000):
        if len(points) == n:
            return points
        p = rng.uniform(0, 1, 3) @ box
        if len(points) == 0 or np.min(np.linalg.norm(p - (points[:, None, :] + images[None]), axis=-1)) >= min_dist:
            points = np.vstack([points, p])
    raise ValueError(f"could not place {n} atoms {min_dist} Å apart")


def random_dataset(rng: np.random.Generator, n_frames: int = 6, n_atoms=(8, 14), types=("Ar", "Kr", "Xe"),
                   pbc: str = "full", triclinic: bool = False, length: float = 11.0, min_dist: float = 2.9,
                   fragments: bool = False) -> Dataset:
    """Frames of random atoms of random types; periodic ones in cells of about ``length`` Å."""
    positions, type_index, offsets, cells = [], [], [0], []
    for _ in range(n_frames):
        n = int(rng.integers(n_atoms[0], n_atoms[1] + 1))
        cell = random_cell(rng, length, triclinic)
        periodic = np.array(PBC_KINDS[pbc])
        # non-periodic frames: a box without images, so min_dist holds for every pair
        points = separated_points(rng, n, cell, min_dist, periodic if pbc != "none" else (False,) * 3)
        positions.append(points)
        t = rng.integers(0, len(types), n)
        t[: len(types)] = np.arange(min(len(types), n))  # every type present in every frame
        type_index.append(t)
        offsets.append(offsets[-1] + n)
        cells.append(np.where(periodic[:, None], cell, 0.0) if pbc != "none" else np.zeros((3, 3)))
    type_index = np.concatenate(type_index).astype(np.int32)
    frag = None
    if fragments:
        local = np.concatenate([np.arange(b - a) for a, b in zip(offsets[:-1], offsets[1:])])
        frag = (local >= 3).astype(np.int64)
    return Dataset(
        positions=np.concatenate(positions),
        type_index=type_index, type_names=tuple(types),
        species_index=type_index.copy(), species_names=tuple(types),
        frame_offsets=np.array(offsets, np.int64),
        cells=np.array(cells), pbc=np.tile(PBC_KINDS[pbc], (n_frames, 1)),
        energies=np.full(n_frames, np.nan), weights=np.ones(n_frames),
        forces=None, fragments=frag,
        names=tuple(f"f{k}" for k in range(n_frames)), sources=("synthetic",) * n_frames,
        first_atom_line=np.zeros(n_frames, np.int64), info=({},) * n_frames,
    )


def with_reference(dataset: Dataset, layout, theta: np.ndarray, cutoff: float | None, shift: bool = False,
                   scope: str = "all", forces: bool = False, noise: float = 0.0,
                   rng: np.random.Generator | None = None, tail: bool = False) -> Dataset:
    """``dataset`` with energies (and forces) from the DIRECT engine at ``theta`` (layout order, offsets
    included; the layout's pair form), plus Gaussian noise of ``noise`` eV on energies."""
    import torch

    from fitcore.model import DirectEngine, coefficients, offset_design
    from fitcore.moments import CutoffScheme
    scheme = CutoffScheme(cutoff, shift, tail, layout.form.exponents)
    engine = DirectEngine(dataset, scheme, scope, type_names=layout.type_names)
    t = torch.as_tensor(theta, dtype=torch.float64)
    c12, c6 = coefficients(layout, t)
    energies = engine.energies(c12, c6).numpy() + offset_design(layout, dataset) @ theta[layout.n_lj:]
    if noise:
        energies = energies + rng.normal(0, noise, len(energies))
    f = engine.forces(c12, c6).numpy() if forces else None
    return type(dataset)(**{**dataset.__dict__, "energies": energies, "forces": f})


ALL_PAIRS = {f"{a}-{b}": (0.01 + 0.001 * i, 3.3 + 0.1 * i)  # (epsilon eV, sigma Å) of every Ar/Kr/Xe pair
             for i, (a, b) in enumerate([("Ar", "Ar"), ("Ar", "Kr"), ("Ar", "Xe"), ("Kr", "Kr"), ("Kr", "Xe"),
                                         ("Xe", "Xe")])}

TRUE = {"Ar.epsilon": 0.0104, "Ar.sigma": 3.40, "Kr.epsilon": 0.0141, "Kr.sigma": 3.65,
         "Xe.epsilon": 0.0194, "Xe.sigma": 3.95}


def true_theta(layout: Layout) -> np.ndarray:
    """TRUE per type (eV, Å); pair parameters 10% off the Lorentz-Berthelot values; offsets fixed numbers."""
    values = []
    for name in layout.names:
        head, _, kind = name.rpartition(".")
        if name in TRUE:
            values.append(TRUE[name])
        elif name.startswith("offset"):
            values.append(-0.05 if name == "offset" else {"Ar": -0.01, "Kr": 0.02, "Xe": -0.03}[name[7:]])
        else:
            a, b = (TRUE[f"{t}.{kind}"] for t in head.split("-"))
            values.append(np.sqrt(a * b) * 1.1 if kind == "epsilon" else 0.5 * (a + b) * 1.02)
    return np.array(values)
