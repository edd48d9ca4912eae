"""The fit's linear structure, compressed once.

Every residual (energy rows, force rows) is linear in the coefficient vector
c = (C12 [n_pt], C6 [n_pt], offsets [n_off]):  r = S (A c - y), S the row weights.
A thin QR factorisation S A = Q R (chunk by chunk for millions of force rows: the
R of each chunk is stacked on the previous R and factorised again, "TSQR") gives

    ||S (A c - y)||^2 = ||R c - z||^2 + rest,     z = Q^T S y,  rest = ||S y - Q z||^2

so a least-squares fit with the linear loss needs only the k x k matrix R and z
(k = 2 n_pt + n_off, a dozen for three species): each evaluation then costs
microseconds, whatever the number of frames and atoms. R^T R = (SA)^T (SA), so
Jacobians J = R dc/dtheta give the same J^T J, hence the same steps and covariance.
(Robust losses act on single residuals and cannot be compressed.)
"""
from dataclasses import dataclass

import numpy as np

from .moments import Moments, pair_type_table
from .problem import Targets, Weighting


@dataclass(frozen=True)
class LinearSystem:
    matrix: np.ndarray  # R [k, k]
    target: np.ndarray  # z [k]
    rest: float  # ||S y - Q z||^2: the residual no coefficients can remove
    n_rows: int  # residuals it stands for (energies, plus 3 per atom with forces)


def energy_rows(moments: Moments, targets: Targets, weighting: Weighting) -> tuple[np.ndarray, np.ndarray]:
    """S A and S y of the energy residuals: [n_frames, k], [n_frames]."""
    scale = np.sqrt(targets.weights) / (targets.n_atoms if weighting.per_atom else 1.0)
    rows = np.hstack([moments.energy12, -moments.energy6, targets.offset_design]) * scale[:, None]
    return rows, targets.fitted_energies() * scale


def force_rows(moments: Moments, targets: Targets, weighting: Weighting, atoms: np.ndarray):
    """S A and S y of the force residuals of ``atoms``: [3 n, k], [3 n].

    F_a = sum_b C12[pt(type_a, b)] F12[a, :, b] - C6[pt(type_a, b)] F6[a, :, b]: each moment
    lands in the column of its pair type."""
    n_types, n_pt = moments.force12.shape[2], moments.energy12.shape[1]
    k = 2 * n_pt + targets.offset_design.shape[1]
    scale = np.sqrt(weighting.force_weight * targets.weights[targets.atom_frame[atoms]])
    columns = pair_type_table(n_types)[moments.atom_types[atoms]]  # [n, n_types]: C12 column of each partner
    rows = np.zeros((len(atoms), 3, k))
    atom = np.repeat(np.arange(len(atoms)), n_types)
    for values, shift, sign in ((moments.force12, 0, 1.0), (moments.force6, n_pt, -1.0)):
        scaled = sign * values[atoms] * scale[:, None, None]  # [n, 3, n_types]
        for axis in range(3):
            np.add.at(rows[:, axis, :], (atom, columns.ravel() + shift), scaled[:, axis, :].ravel())
    return rows.reshape(-1, k), (targets.fitted_forces()[atoms] * scale[:, None]).ravel()


def fits_forces(moments: Moments, targets: Targets, weighting: Weighting) -> bool:
    """Whether force rows enter the fit: asked for, weighed, and there to fit."""
    return bool(weighting.forces and weighting.force_weight > 0 and moments.has_forces and targets.forces is not None)


def linear_system(moments: Moments, targets: Targets, weighting: Weighting, chunk: int = 20_000) -> LinearSystem:
    """R, z and the rest for the energy rows, and the force rows when forces are fitted."""
    rows, y = energy_rows(moments, targets, weighting)
    blocks = [(rows, y)]
    if fits_forces(moments, targets, weighting):
        atoms = np.flatnonzero(np.isfinite(targets.forces[:, 0]))
        blocks = _chain(blocks, (force_rows(moments, targets, weighting, atoms[s:s + chunk])
                                 for s in range(0, len(atoms), chunk)))
    matrix, target, rest, n_rows = None, None, 0.0, 0
    for rows, y in blocks:
        n_rows += len(y)
        if matrix is not None:
            rows, y = np.vstack([matrix, rows]), np.concatenate([target, y])
        q, matrix = np.linalg.qr(rows)
        target = q.T @ y
        outside = y - q @ target  # summed as a vector: no cancellation between large squared norms
        rest += float(outside @ outside)
    k = rows.shape[1]
    if matrix.shape[0] < k:  # fewer rows than coefficients: pad R to square
        matrix = np.vstack([matrix, np.zeros((k - matrix.shape[0], k))])
        target = np.concatenate([target, np.zeros(k - len(target))])
    return LinearSystem(matrix, target, rest, n_rows)


def _chain(first, rest):
    yield from first
    yield from rest
