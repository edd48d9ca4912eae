"""Ewald sums of fixed point charges in periodic cells (e, Å, eV), as LAMMPS' ``kspace_style ewald``.

For charges q_j at r_j in a cell of volume V (rows of ``cell`` are the cell vectors),
a splitting parameter g (1/Å) and k_e = e^2 / (4 pi eps0):

    E = E_real + E_recip + E_self + E_background (+ E_slab)
    E_real  = k_e sum over pairs (all images) within rc of  q_i q_j erfc(g r) / r         (coulomb.py)
    E_recip = k_e / (2 V) sum over k != 0, |k| <= kmax of  4 pi / k^2 exp(-k^2 / 4 g^2) |S(k)|^2
    S(k)    = sum_j q_j exp(i k . r_j),   k = 2 pi (h, k, l) @ inv(cell).T
    E_self  = -k_e g / sqrt(pi) sum_j q_j^2
    E_background = -k_e pi Q^2 / (2 V g^2),  Q = sum_j q_j   (the neutralising background of a
                   charged cell: LAMMPS adds the same term and warns, as ljfit does)

and the forces F_j = -dE/dr_j of the k-space part,

    F_j = k_e q_j / V sum_k 4 pi / k^2 exp(-k^2 / 4 g^2) k Im(conj(S(k)) exp(i k . r_j)).

g and kmax are LAMMPS' choices (``Ewald::init`` and ``Ewald::setup``) for a relative accuracy
``a``: the absolute accuracy is acc = a k_e (eV/Å, a times the force between two unit charges
1 Å apart), and with q2 = k_e sum q^2 (eV Å) and N atoms

    g = sqrt(-ln(x)) / rc,  x = acc sqrt(N rc V) / (2 q2)     ((1.35 - 0.15 ln acc) / rc if x >= 1)
    m_d = least integer with  2 q2 g / w_d sqrt(1 / (pi m_d N)) exp(-(pi m_d / (g w_d))^2) <= acc
    kmax = max over the three directions of 2 pi m_d / w_d      (w_d: the cell's width across d)

Structure factors are built from fractional coordinates s_j: exp(i k . r_j) = e1^h e2^k e3^l with
e_d = exp(2 pi i s_jd), so S over a box of (h, k, l) is one batched matrix product
(frames x atoms x h x k) times (frames x atoms x l), and only l >= 0 is formed (S(-k) = conj S(k):
the plane l = 0 holds both k and -k, planes l > 0 count twice).

Slabs (periodic along two cell vectors; LAMMPS ``kspace_modify slab 3.0``): the non-periodic cell
vector c, which must be perpendicular to the periodic ones, is stretched to 3c and the dipole
correction of Yeh and Berkowitz, with the net-charge terms of Ballenegger et al. as in LAMMPS,

    E_slab = k_e 2 pi / V' (M^2 - Q M2 - Q^2 L^2 / 12),   M = sum q z,  M2 = sum q z^2,  L = 3 |c|
    F_j    = -k_e 4 pi / V' q_j (M - Q z_j) c_hat                          (z = r . c_hat, V' = 3 V)

is added.

Interaction energies E(all) - sum_f E(fragment f) use charge *channels*: each frame carries C charge
vectors (all atoms, then the charges of each fragment alone, zero elsewhere) with weights
(+1, -1, ...); every term above is evaluated per channel with the same g and k vectors and summed
with the weights.
"""
import numpy as np

SLAB_FACTOR = 3.0  # LAMMPS' kspace_modify slab 3.0
BATCH_BYTES = 48_000_000  # complex work arrays of one batch of frames


def cell_widths(cells: np.ndarray) -> np.ndarray:
    """[n, 3] Å: distance between opposite faces of fully periodic cells [n, 3, 3]."""
    normals = np.stack([np.cross(cells[:, (d + 1) % 3], cells[:, (d + 2) % 3]) for d in range(3)], axis=1)
    volume = np.abs(np.einsum("ij,ij->i", cells[:, 0], normals[:, 0]))
    return volume[:, None] / np.linalg.norm(normals, axis=2)


def ewald_parameters(n_atoms: np.ndarray, sum_q2: np.ndarray, cells: np.ndarray, cutoff: float,
                     accuracy: float, coulomb_constant: float) -> tuple[np.ndarray, np.ndarray]:
    """g [n] 1/Å and kmax [n] 1/Å per frame, LAMMPS' choice for a relative ``accuracy``.

    n_atoms [n], sum_q2 [n] e^2 (positive), cells [n, 3, 3] Å (slabs already stretched)."""
    acc = accuracy * coulomb_constant
    q2 = sum_q2 * coulomb_constant
    volume = np.abs(np.linalg.det(cells))
    x = acc * np.sqrt(n_atoms * cutoff * volume) / (2.0 * q2)
    g = np.where(x >= 1.0, (1.35 - 0.15 * np.log(acc)) / cutoff, np.sqrt(-np.log(np.minimum(x, 1.0))) / cutoff)
    widths = cell_widths(cells)  # [n, 3]
    m = np.ones(widths.shape)
    todo = np.ones(widths.shape, bool)
    while todo.any():  # a few dozen steps at most: the error falls like a Gaussian in m
        err = (2.0 * q2[:, None] * g[:, None] / widths * np.sqrt(1.0 / (np.pi * m * n_atoms[:, None]))
               * np.exp(-(np.pi * m / (g[:, None] * widths)) ** 2))
        todo = err > acc
        m = np.where(todo, m + 1, m)
    kmax = np.max(2 * np.pi * m / widths, axis=1) * (1 + 1e-5)  # LAMMPS' gsqmx *= 1.00001, on k^2
    return g, kmax


def kspace(positions: np.ndarray, charges: np.ndarray, weights: np.ndarray, cells: np.ndarray, g: np.ndarray,
           kmax: np.ndarray, with_forces: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """E_recip + E_self + E_background [n] eV, and the k-space forces [n, N, 3] eV/Å (without k_e).

    positions [n, N, 3] Å, charges [n, C, N] e (C channels), weights [C], cells [n, 3, 3] Å,
    g [n], kmax [n] 1/Å. Energies and forces are in e^2/Å; the caller multiplies by k_e.
    Frames are processed in batches of at most BATCH_BYTES of complex work arrays.
    """
    n, n_atoms = positions.shape[:2]
    energies = np.zeros(n)
    forces = np.zeros(positions.shape) if with_forces else None
    ranges = np.floor(kmax[:, None] * np.linalg.norm(cells, axis=2) / (2 * np.pi)).astype(np.int64)  # [n, 3]
    order = np.argsort(np.prod(2 * ranges + 1, axis=1), kind="stable")
    start = 0
    while start < n:
        size = np.prod(2 * ranges[order[start]] + 1)
        per_frame = 16 * n_atoms * size * (3 if with_forces else 1) * max(charges.shape[1], 1)
        stop = min(n, start + max(1, int(BATCH_BYTES // max(per_frame, 1))))
        batch = order[start:stop]
        span = ranges[batch].max(axis=0)
        e, f = _kspace_batch(positions[batch], charges[batch], weights, cells[batch], g[batch], kmax[batch],
                             span, with_forces)
        energies[batch] = e
        if with_forces:
            forces[batch] = f
        start = stop
    volume = np.abs(np.linalg.det(cells))
    total = charges.sum(axis=2)  # [n, C]
    energies -= g / np.sqrt(np.pi) * np.einsum("c,ncj->n", weights, charges ** 2)
    energies -= np.pi / (2 * volume * g ** 2) * (total ** 2 @ weights)
    return energies, forces


def _kspace_batch(positions, charges, weights, cells, g, kmax, span, with_forces):
    """E_recip [b] and forces [b, N, 3] (e^2/Å) for a batch with the same atom count; (h, k, l) in
    [-span0, span0] x [-span1, span1] x [0, span2], terms beyond each frame's kmax weighted 0.

    S[h, (k, l)] = sum_j (q_j e1_j^h) (e2_j^k e3_j^l): one matrix product per frame over atoms, with
    the (k, l) factor (atoms x K x L) as the larger operand. Complex products are written as real
    matrix products (cos and sin parts): complex BLAS calls were 100x slower than real ones with
    OpenBLAS threads on a busy machine (measured)."""
    b, n_atoms = positions.shape[:2]
    n_channels = charges.shape[1]
    inverse = np.linalg.inv(cells)  # [b, 3, 3]
    frac = np.einsum("bjd,bde->bje", positions, inverse)
    hs, ks, ls = (np.arange(-span[0], span[0] + 1), np.arange(-span[1], span[1] + 1), np.arange(0, span[2] + 1))
    n_h, n_kl = len(hs), len(ks) * len(ls)
    c1, s1 = _cos_sin(frac[:, :, 0, None] * hs)  # [b, N, H]
    e2 = np.exp(2j * np.pi * frac[:, :, 1, None] * ks)  # [b, N, K]
    e3 = np.exp(2j * np.pi * frac[:, :, 2, None] * ls)  # [b, N, L]
    # exp(2 pi i (k s2 + l s3)) as real numbers: (k, l, real/imaginary) along the last axis
    kl = (e2[:, :, :, None] * e3[:, :, None, :]).view(np.float64).reshape(b, n_atoms, 2 * n_kl)
    q = charges.transpose(0, 2, 1)[:, :, :, None]  # [b, N, C, 1]
    first = np.concatenate([(q * c1[:, :, None, :]).reshape(b, n_atoms, -1),
                            (q * s1[:, :, None, :]).reshape(b, n_atoms, -1)], axis=2)  # [b, N, 2 C H]
    blocks = (np.swapaxes(first, 1, 2) @ kl).reshape(b, 2, n_channels, n_h, n_kl, 2)
    s_re = blocks[:, 0, ..., 0] - blocks[:, 1, ..., 1]  # [b, C, H, KL]
    s_im = blocks[:, 0, ..., 1] + blocks[:, 1, ..., 0]
    recip = 2 * np.pi * np.swapaxes(inverse, 1, 2)  # rows: reciprocal vectors b_d
    hkl = np.empty((n_h, len(ks), len(ls), 3))
    hkl[..., 0], hkl[..., 1], hkl[..., 2] = hs[:, None, None], ks[None, :, None], ls[None, None, :]
    hkl = hkl.reshape(n_h, n_kl, 3)
    metric = recip @ np.swapaxes(recip, 1, 2)  # [b, 3, 3]: k^2 = m G m for m = (h, k, l)
    d, e = np.triu_indices(3)
    products = (hkl[:, :, d] * hkl[:, :, e] * np.where(d == e, 1.0, 2.0)).reshape(-1, 6)  # [H KL, 6]
    k2 = (metric[:, d, e] @ products.T).reshape(b, n_h, n_kl)
    inside = (k2 > 0) & (k2 <= kmax[:, None, None] ** 2)
    safe = np.where(inside, k2, 1.0)
    plane = np.where(hkl[:, :, 2] > 0, 2.0, 1.0)
    factor = np.exp(-safe / (4 * g[:, None, None] ** 2), out=np.zeros(k2.shape), where=inside)
    factor *= plane * 4 * np.pi / safe
    volume = np.abs(np.linalg.det(cells))
    power = s_re ** 2 + s_im ** 2  # [b, C, H, KL]
    energies = np.einsum("c,bchn,bhn->b", weights, power, factor) / (2 * volume)
    if not with_forces:
        return energies, None
    # F_j = q_j / V sum_m factor k_m Im(conj(S_m) e_j(m)), e_j = e1^h (e2^k e3^l): sum over (k, l) first
    forces = np.zeros(positions.shape)
    for c in range(n_channels):
        t_re, t_im = s_re[:, c] * factor * weights[c], -s_im[:, c] * factor * weights[c]  # conj(S) factor [b, H, KL]
        grad = []
        for axis in range(3):
            scale = hkl[:, :, axis] if axis else 1.0  # the h weight comes after the sum over (k, l)
            a, m = np.swapaxes(t_re * scale, 1, 2), np.swapaxes(t_im * scale, 1, 2)  # [b, KL, H]
            rhs = np.stack([np.concatenate([a, m], axis=2), np.concatenate([-m, a], axis=2)], axis=2)
            rhs = rhs.reshape(b, 2 * n_kl, 2 * n_h)  # rows (k, l, real/imaginary), as in kl
            u = kl @ rhs  # [b, N, 2 H]: sum over (k, l) of t e2 e3, real and imaginary parts
            imag = c1 * u[:, :, n_h:] + s1 * u[:, :, :n_h]  # Im(e1 u): [b, N, H]
            grad.append(imag @ hs.astype(float) if axis == 0 else imag.sum(axis=2))
        grad = np.stack(grad, axis=-1)  # [b, N, 3]: components along the reciprocal vectors
        forces += charges[:, c, :, None] * np.einsum("bjd,bde->bje", grad, recip) / volume[:, None, None]
    return energies, forces


def _cos_sin(turns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    angle = 2 * np.pi * turns
    return np.cos(angle), np.sin(angle)


def slab_cells(cells: np.ndarray, pbc: np.ndarray) -> np.ndarray:
    """[n, 3, 3] cells of slab frames (two periodic directions) with the non-periodic vector stretched
    by SLAB_FACTOR; fully periodic cells unchanged."""
    stretch = np.where(pbc, 1.0, SLAB_FACTOR)
    return cells * stretch[:, :, None]


def slab_correction(positions: np.ndarray, charges: np.ndarray, weights: np.ndarray, cells: np.ndarray,
                    pbc: np.ndarray, with_forces: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """E_slab [n] and its forces [n, N, 3] in e^2/Å, for slab frames with stretched ``cells``.

    positions [n, N, 3], charges [n, C, N], weights [C], pbc [n, 3] (one False per frame)."""
    axis = np.argmin(pbc, axis=1)
    normal = cells[np.arange(len(cells)), axis]
    length = np.linalg.norm(normal, axis=1)
    normal = normal / length[:, None]
    volume = np.abs(np.linalg.det(cells))
    z = np.einsum("bjd,bd->bj", positions, normal)  # [n, N]
    dipole = np.einsum("bcj,bj->bc", charges, z)
    second = np.einsum("bcj,bj->bc", charges, z * z)
    total = charges.sum(axis=2)
    per_channel = dipole ** 2 - total * second - total ** 2 * length[:, None] ** 2 / 12
    energies = 2 * np.pi / volume * (per_channel @ weights)
    if not with_forces:
        return energies, None
    along = np.einsum("c,bcj,bc->bj", weights, charges, dipole) \
        - np.einsum("c,bcj,bc,bj->bj", weights, charges, total, z)
    forces = -4 * np.pi / volume[:, None, None] * along[:, :, None] * normal[:, None, :]
    return energies, forces
