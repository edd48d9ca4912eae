"""Cell geometry for frames periodic along any subset of their cell vectors."""
import warnings

import numpy as np

from .errors import LjfitWarning


def completed_basis(cells: np.ndarray, pbc: np.ndarray) -> np.ndarray:
    """[n, 3, 3]: the periodic cell vectors, with each non-periodic one replaced by a unit vector
    orthogonal to the others, so that determinants and face normals judge only periodic directions."""
    basis = np.where(pbc[:, :, None], cells, 0.0).astype(float)
    n_periodic = pbc.sum(axis=1)
    for frame in np.flatnonzero((n_periodic > 0) & (n_periodic < 3)):  # slabs and wires: few, small work each
        periodic = list(np.flatnonzero(pbc[frame]))
        missing = [k for k in range(3) if not pbc[frame, k]]
        u = basis[frame, periodic[0]]
        if len(periodic) == 1:
            helper = np.eye(3)[np.argmin(np.abs(u))]
            v = np.cross(u, helper)
            v /= np.linalg.norm(v) or 1.0
            w = np.cross(u, v)
            basis[frame, missing[0]], basis[frame, missing[1]] = v, w / (np.linalg.norm(w) or 1.0)
        else:
            normal = np.cross(basis[frame, periodic[0]], basis[frame, periodic[1]])
            basis[frame, missing[0]] = normal / (np.linalg.norm(normal) or 1.0)
    return basis


def singular_cells(cells: np.ndarray, pbc: np.ndarray) -> np.ndarray:
    """[n] True where periodic cell vectors are zero or (nearly) linearly dependent."""
    lengths = np.linalg.norm(np.where(pbc[:, :, None], cells, 0.0), axis=2)
    scale = np.where(pbc & (lengths > 1e-8), lengths, 1.0)  # fill-ins are unit vectors already
    volume = np.abs(np.linalg.det(completed_basis(cells, pbc) / scale[:, :, None]))
    return pbc.any(axis=1) & ((volume < 1e-6) | np.any(pbc & (lengths < 1e-8), axis=1))


def cell_widths(cells: np.ndarray, pbc: np.ndarray) -> np.ndarray:
    """[n, 3] distance between opposite faces along each periodic direction (inf where not periodic):
    volume / area of the face spanned by the other two vectors."""
    basis = completed_basis(cells, pbc)
    normals = np.stack([np.cross(basis[:, (axis + 1) % 3], basis[:, (axis + 2) % 3]) for axis in range(3)], axis=1)
    volume = np.abs(np.einsum("ij,ij->i", basis[:, 0], normals[:, 0]))  # a . (b x c), without a det per frame
    faces = np.linalg.norm(normals, axis=2)
    return np.where(pbc, volume[:, None] / np.maximum(faces, 1e-300), np.inf)


def warn_thin_cells(cells: np.ndarray, pbc: np.ndarray, cutoff: float | None) -> None:
    """Cells thinner than 2 rc are handled here (all images count) but not by minimum-image codes: warn."""
    if cutoff is None or not pbc.any():
        return
    widths = cell_widths(cells, pbc).min(axis=1)
    thin = np.flatnonzero(widths < 2 * cutoff)
    if len(thin):
        warnings.warn(LjfitWarning(
            f"{len(thin)} of {len(cells)} frames have a periodic cell thinner than twice the cutoff "
            f"(thinnest {widths.min():.3g} Å < 2 x {cutoff:g} Å): ljfit counts every periodic image, but codes "
            f"that use the minimum-image convention would give other energies"), stacklevel=2)
