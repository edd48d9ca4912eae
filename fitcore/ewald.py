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

The k vectors are all those of the sphere 0 < |k| <= kmax, each pair k, -k summed once
(S(-k) = conj S(k)); atoms without charge add nothing and are left out of the sums. Structure factors
come from fractional coordinates s_j: exp(i k . r_j) = e1^h e2^k e3^l with e_d = exp(2 pi i s_jd)
(powers by repeated multiplication). For rows h >= 0 and columns (k, l), k >= 0, l >= 0, one real matrix
product over atoms per frame gives the eight sums of q x y (x: cos or sin of 2 pi h s1; y: cos or sin of
2 pi k s2 times the real or imaginary part of e3^l), from which S(+-h, +-k, l) follow by signs (the
layout above ``_kspace_batch``): two real products per atom and k vector, the least a real S(k) needs.
Columns are only those (k, l) with a k vector in the sphere, in up to three groups by the largest |h|
they need (columns near the rim need fewer rows); the k vectors outside the sphere that a group's rows
and columns still span are weighted 0. The real-space screen erfc(g r) is ``erfc`` here (numpy alone).

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
import math
from functools import cache

import numpy as np

SLAB_FACTOR = 3.0  # LAMMPS' kspace_modify slab 3.0
SPLIT_GAIN = 0.08  # least share of the products a split of the columns (one more group) must save
PLAN_FRAMES = 64  # frames of the same k ranges whose columns are found together
BATCH_BYTES = 2 << 20  # work arrays of the frames whose phases and factors are computed together
CHUNK_BYTES = 2 << 20  # at most the (k, l) factors of one product over atoms (the L2 cache of a core or two)


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
    Frames with the same (h, k, l) ranges, sorted by size, share their columns in groups of PLAN_FRAMES
    (the union of the group's frames': those of each frame or few more) and go through in batches of
    about BATCH_BYTES of work arrays.
    """
    n = len(positions)
    energies = np.zeros(n)
    forces = np.zeros(positions.shape) if with_forces else None
    # atoms without charge (in every channel) add nothing to S(k) and feel no k-space force: the sums run
    # over the charged atoms of each frame, first in ``atoms``, padded with uncharged ones to a batch's count
    charged = np.any(charges != 0, axis=1)  # [n, N]
    n_charged = charged.sum(axis=1)
    atoms = np.argsort(~charged, axis=1, kind="stable")  # [n, N]
    positions = np.take_along_axis(positions, atoms[:, :, None], axis=1)
    full_charges, charges = charges, np.take_along_axis(charges, atoms[:, None, :], axis=2)
    inverse = np.linalg.inv(cells)  # [n, 3, 3]
    recip = 2 * np.pi * np.swapaxes(inverse, 1, 2)  # rows: reciprocal vectors b_d
    metric = recip @ np.swapaxes(recip, 1, 2)  # [n, 3, 3]: |k|^2 = m G m for m = (h, k, l)
    volume = np.abs(np.linalg.det(cells))
    ranges = np.floor(kmax[:, None] * np.linalg.norm(cells, axis=2) / (2 * np.pi)).astype(np.int64)  # [n, 3]
    order = np.lexsort((kmax * volume ** (1 / 3), *ranges.T[::-1]))
    start = 0
    while start < n:
        same = np.all(ranges[order[start:start + PLAN_FRAMES]] == ranges[order[start]], axis=1)
        group = order[start:start + (len(same) if same.all() else int(np.argmin(same)))]
        start += len(group)
        span, n_atoms = ranges[group[0]], int(n_charged[group].max())
        if n_atoms == 0:
            continue
        groups = _columns(metric[group], kmax[group], span)
        n_rows = groups[0][2]
        per_frame = 8 * n_atoms * (2 * (n_rows + span[1] + span[2] + 2) + 2 * charges.shape[1] * n_rows) \
            + 64 * charges.shape[1] * sum(rows * len(ks) for ks, _, rows in groups)  # phases, rows, sums: bytes
        step = max(1, BATCH_BYTES // per_frame)
        for b0 in range(0, len(group), step):
            batch = group[b0:b0 + step]
            frac = positions[batch, :n_atoms] @ inverse[batch]
            e, f = _kspace_batch(frac, charges[batch, :, :n_atoms], weights, recip[batch], metric[batch], g[batch],
                                 kmax[batch], span, groups, with_forces)
            energies[batch] = e / volume[batch]
            if with_forces:
                forces[batch[:, None], atoms[batch, :n_atoms]] = f / volume[batch, None, None]
    total = full_charges.sum(axis=2)  # [n, C]
    energies -= g / np.sqrt(np.pi) * np.einsum("c,ncj->n", weights, full_charges ** 2)
    energies -= np.pi / (2 * volume * g ** 2) * (total ** 2 @ weights)
    return energies, forces


# Layout of the structure factors. For rows h >= 0 and columns (k, l), k >= 0, l >= 0, one real matrix product
# over atoms gives the eight sums  sum_j q_j x_j y_j,  x in (a, b) = (cos, sin)(2 pi h s1),  y in (c u, c v, d u, d v)
# with (c, d) = (cos, sin)(2 pi k s2), u + i v = exp(2 pi i l s3).  The four k vectors (+-h, +-k, l) follow:
#     S(sh, tk, l) = (acu - st bdu - t adv - s bcv) + i (acv - st bdv + t adu + s bcu)        (s, t = +-1)
# With weights 1/2 for each of h, k, l that is 0 (where signs give the same vector, or l = 0 gives both k and -k)
# the sum over rows, columns and signs covers half of all k vectors: E_recip = 1 / V times that sum of f |S|^2.
SIGNS = ((1, 1), (1, -1), (-1, 1), (-1, -1))  # (s, t)
STRUCTURE_SIGNS = np.array([[[1, 0, 0, -t], [0, -s, -s * t, 0]] for s, t in SIGNS]
                           + [[[0, 1, t, 0], [s, 0, 0, -s * t]] for s, t in SIGNS],
                           dtype=float)[[0, 4, 1, 5, 2, 6, 3, 7]]  # [(sign, Re/Im), x, y]
# Forces: Im(U e_j) for U = f conj(S) is sum over (x, y) of x_j y_j K(x, y) with
#     K(a, .) = (U_i, U_r, t U_r, -t U_i),  K(b, .) = (s U_r, -s U_i, -st U_i, -st U_r),
# weighted by the k vector's components s h, t k, l along the reciprocal vectors.
FORCE_SIGNS = np.array([[[[u_i, u_r, t * u_r, -t * u_i], [s * u_r, -s * u_i, -s * t * u_i, -s * t * u_r]]
                         for u_r, u_i in ((1, 0), (0, 1))] for s, t in SIGNS], dtype=float)  # [sign, Re/Im U, x, y]
DIRECTION_SIGNS = np.array([[s, t, 1] for s, t in SIGNS], dtype=float)  # [sign, d]


def _kspace_batch(frac, charges, weights, recip, metric, g, kmax, span, groups, with_forces):
    """V E_recip [b] and V times the forces [b, N, 3] (e^2/Å, V the cell volume) of a batch of frames with the
    same atom count and (h, k, l) ranges ``span`` (|h| <= span0, |k| <= span1, 0 <= l <= span2), in the layout
    above. frac [b, N, 3] fractional coordinates, recip [b, 3, 3] reciprocal vectors (rows), metric [b, 3, 3],
    ``groups``: (ks, ls, rows) of each group of columns (``_columns``), each group with its own rows."""
    b, n_atoms = frac.shape[:2]
    e1, e2, e3 = _powers(frac, (max(rows for _, _, rows in groups) - 1, span[1], span[2]))  # [b, cos/sin, m, N]
    rows = (np.swapaxes(e1, 1, 2)[:, :, :, None, :] * charges[:, None, None, :, :]).reshape(b, -1, n_atoms)
    energies, forces = np.zeros(b), (np.zeros(frac.shape) if with_forces else None)
    for ks, ls, n_rows in groups:
        pieces = -(-32 * len(ks) * n_atoms // CHUNK_BYTES)  # products over atoms, their column factors in cache
        chunk = -(-n_atoms // pieces)
        group_rows = rows[:, :n_rows * 2 * charges.shape[1]]
        sums = np.empty((b, group_rows.shape[1], 4 * len(ks)))  # q e1^h (h, cos/sin, channel) by column factors
        for i in range(b):
            np.matmul(group_rows[i, :, :chunk], _column_factors(e2[i, :, :, :chunk], e3[i, :, :, :chunk], ks, ls).T,
                      out=sums[i])
            for a0 in range(chunk, n_atoms, chunk):
                atoms = slice(a0, a0 + chunk)
                sums[i] += group_rows[i, :, atoms] @ _column_factors(e2[i, :, :, atoms], e3[i, :, :, atoms], ks, ls).T
        sums = sums.reshape(b, n_rows, 2, charges.shape[1], 4, len(ks))  # (h, x, channel, y, column)
        factors = _factors(metric, g, kmax, ks, ls, n_rows)  # [4 signs, b, rows, columns]
        if factors.shape[0] == 1:  # the four signs have one factor: the cross terms of |S|^2 cancel in the sum
            power = 4 * np.einsum("brxcyn,brxcyn->bcrn", sums, sums)
            energies += np.einsum("c,bcrn,brn->b", weights, power, factors[0])
        else:
            s = np.einsum("kxy,brxcyn->kbrcn", STRUCTURE_SIGNS, sums)  # [(sign, Re/Im), b, rows, C, columns]
            power = (s[0::2] ** 2 + s[1::2] ** 2)
            energies += np.einsum("c,kbrcn,kbrn->b", weights, power, factors)
        for i in range(b if with_forces else 0):
            grad = _kspace_gradient(sums[i], factors[:, i], e1[i, :, :n_rows], e2[i], e3[i], ks, ls, chunk)
            along = np.einsum("jdc,cj,c->jd", grad, charges[i], weights)  # [N, 3] components along b_d
            forces[i] += 2 * along @ recip[i]
    return energies, forces


def _kspace_gradient(sums, factors, e1, e2, e3, ks, ls, chunk):
    """[N, 3, C]: sum over the half space of f(k) m_d Im(conj(S(k)) exp(i k . r_j)) per atom j, direction d
    (components of k = m_d b_d) and channel, from one frame's sums [rows, 2, C, 4, columns] and factors
    [signs, rows, columns]: one matrix product of the column factors with a right-hand side per direction,
    x, channel and row; the rows then weigh by x_j (and h for d = 0)."""
    n_rows, _, n_channels, _, n_cols = sums.shape
    s = np.einsum("kxy,rxcyn->krcn", STRUCTURE_SIGNS, sums).reshape(4, 2, n_rows, n_channels, n_cols)
    f = np.broadcast_to(factors, (4, n_rows, n_cols))[:, None, :, None, :]
    u = np.stack([s[:, 0], -s[:, 1]], axis=1) * f  # f conj(S): [sign, Re/Im, rows, C, columns]
    coef = np.einsum("kuxy,kd,kurcn->ydnxcr", FORCE_SIGNS, DIRECTION_SIGNS, u)  # [y, d, columns, x, C, rows]
    coef[:, 1] *= ks[:, None, None, None]
    coef[:, 2] *= ls[:, None, None, None]
    rhs = coef.transpose(0, 2, 1, 3, 4, 5).reshape(4 * n_cols, -1)  # rows (y, column) as the column factors
    n_atoms = e1.shape[2]
    grad = np.empty((n_atoms, 3, n_channels))
    h = np.arange(n_rows, dtype=float)
    for a0 in range(0, n_atoms, chunk):
        atoms = slice(a0, a0 + chunk)
        v = (_column_factors(e2[:, :, atoms], e3[:, :, atoms], ks, ls).T @ rhs).reshape(-1, 3, 2, n_channels, n_rows)
        v[:, 0] *= h
        grad[atoms] = np.einsum("jdxch,xhj->jdc", v, e1[:, :, atoms])
    return grad


def _columns(metric: np.ndarray, kmax: np.ndarray, span: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """The columns (k, l), k >= 0 and l >= 0, of which some (+-h, +-k, l) lies in a frame's sphere |k| <= kmax,
    in up to three groups by the rows they need: (ks, ls, rows) per group, rows = the largest |h| inside plus one.
    A group of columns near the sphere's rim needs fewer rows: splits that save at least SPLIT_GAIN of the
    products (rows times columns) are taken.

    metric [b, 3, 3] 1/Å^2, kmax [b]: for given (k, l), |k|^2 <= kmax^2 is a quadratic inequality in h."""
    ks, ls = (a.ravel() for a in np.meshgrid(np.arange(span[1] + 1), np.arange(span[2] + 1), indexing="ij"))
    need = np.full(len(ks), -1)
    for t in (1, -1):
        a = metric[:, 0, 0, None]
        b = metric[:, 0, 1, None] * (t * ks) + metric[:, 0, 2, None] * ls
        c = metric[:, 1, 1, None] * ks * ks + 2 * t * metric[:, 1, 2, None] * ks * ls + metric[:, 2, 2, None] * ls * ls
        disc = b * b - a * (c - kmax[:, None] ** 2 * (1 + 1e-9))  # a margin: the factors decide exactly
        root = np.sqrt(np.maximum(disc, 0.0))
        lo, hi = np.ceil((-b - root) / a - 1e-9), np.floor((-b + root) / a + 1e-9)
        inside = (disc >= 0) & (lo <= hi)  # [b, columns]
        need = np.maximum(need, np.where(inside, np.maximum(np.abs(lo), np.abs(hi)), -1).max(axis=0))
    order = np.argsort(-need, kind="stable")[:np.count_nonzero(need >= 0)]
    ks, ls, rows = ks[order], ls[order], np.minimum(need[order], span[0]) + 1  # rows needed, descending
    n = len(ks)
    cuts = [0, n]
    for _ in range(2):  # the split that saves most, within the group it splits
        best, where = 0, None
        for g0, g1 in zip(cuts[:-1], cuts[1:]):
            split = np.arange(g0 + 1, g1)
            saved = (rows[g0] - rows[split]) * (g1 - split)
            if len(split) and saved.max() > best:
                best, where = saved.max(), int(split[np.argmax(saved)])
        if where is None or best < SPLIT_GAIN * np.sum(rows[0] * n):
            break
        cuts = sorted(cuts + [where])
    return [(ks[g0:g1], ls[g0:g1], int(rows[g0])) for g0, g1 in zip(cuts[:-1], cuts[1:])]


def _powers(frac: np.ndarray, last: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
    """cos and sin of 2 pi m s_d for m = 0 .. last[d], d = 0, 1, 2: three arrays [b, 2, last[d] + 1, N], from
    fractional coordinates frac [b, N, 3].

    exp(2 pi i m s) by doubling (each block the one before times z^size, z^size by squaring): log2 steps,
    rounding error ~ 1e-16 per step."""
    z = np.exp(2j * np.pi * np.swapaxes(frac, 1, 2))  # [b, 3, N]
    count = max(last) + 1
    out = np.empty((frac.shape[0], 3, count, frac.shape[1]), complex)
    out[:, :, 0] = 1.0
    size = 1
    while size < count:
        step = min(size, count - size)
        np.multiply(out[:, :, :step], z[:, :, None, :], out=out[:, :, size:size + step])
        size *= 2
        z = z * z
    parts = np.stack([out.real, out.imag], axis=2)  # [b, 3, cos/sin, m, N]
    return tuple(parts[:, d, :, :m + 1] for d, m in enumerate(last))


def _column_factors(e2: np.ndarray, e3: np.ndarray, ks: np.ndarray, ls: np.ndarray) -> np.ndarray:
    """[4 columns, N]: c u, c v, d u, d v of each column (k, l) (c + i d = e2^k, u + i v = e3^l), for the atoms
    of e2 [2, K, N] and e3 [2, L, N] (cos, sin)."""
    cd, uv = np.take(e2, ks, axis=1), np.take(e3, ls, axis=1)  # [2, columns, N]
    return (cd[:, None] * uv[None, :]).reshape(4 * len(ks), -1)


def _factors(metric, g, kmax, ks, ls, n_rows) -> np.ndarray:
    """f(k) = 4 pi / k^2 exp(-k^2 / 4 g^2) of k = (sh, tk, l), h = 0 .. rows - 1, for the four SIGNS:
    [4, b, rows, columns] ([1, ...] for cells whose vectors are perpendicular: the four are equal); 0 outside
    the sphere and at k = 0, and halved once for each of h, k, l that is 0 (see the layout above)."""
    h = np.arange(n_rows, dtype=float)[:, None]
    square = metric[:, 0, 0, None, None] * (h * h) + (metric[:, 1, 1, None, None] * (ks * ks)
                                                      + metric[:, 2, 2, None, None] * (ls * ls))
    half = np.where(h == 0, 0.5, 1.0) * np.where(ks == 0, 0.5, 1.0) * np.where(ls == 0, 0.5, 1.0)
    if not np.any(metric[:, [0, 0, 1], [1, 2, 2]]):
        return (_factor(square, g, kmax) * half)[None]
    hk = 2 * metric[:, 0, 1, None, None] * (h * ks)
    hl = 2 * metric[:, 0, 2, None, None] * (h * ls)
    kl = 2 * metric[:, 1, 2, None, None] * (ks * ls)
    return np.stack([_factor(square + s * t * hk + s * hl + t * kl, g, kmax) * half for s, t in SIGNS])


def _factor(k2: np.ndarray, g: np.ndarray, kmax: np.ndarray) -> np.ndarray:
    inside = (k2 > 0) & (k2 <= kmax[:, None, None] ** 2)
    safe = np.where(inside, k2, 1.0)
    f = np.exp(safe * (-0.25 / g ** 2)[:, None, None])
    f *= np.where(inside, 4 * np.pi, 0.0)
    f /= safe
    return f


ERFC_WIDTH, ERFC_DEGREE, ERFC_END = 1 / 8, 8, 8.0  # erfc's pieces: width, polynomial degree, last x


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function of x >= 0 (the real-space screen erfc(g r)), with numpy alone.

    erfc(x) = exp(-x^2) erfcx(x), erfcx smooth: on pieces of width 1/8 up to x = 8, a polynomial of degree 8 in
    x less the piece's centre, fitted at Chebyshev points to ``math.erfc`` (relative error below 1e-13, tested);
    0 beyond 8 (erfc(8) = 1.1e-29), 1 at 0. scipy.special costs each worker process 0.1-0.4 s to import."""
    table = _erfcx_pieces()  # [degree + 1, pieces], highest power first
    piece = np.minimum((x * (1 / ERFC_WIDTH)).astype(np.int64), table.shape[1] - 1)
    t = x - (piece + 0.5) * ERFC_WIDTH
    value = np.take(table[0], piece)
    for power in table[1:]:
        value *= t
        value += np.take(power, piece)
    value = np.where(x < ERFC_END, np.exp(-x * x) * value, 0.0)
    value[x == 0] = 1.0  # exactly: g = 0 (frames without Ewald) leaves the plain 1/r
    return value


@cache
def _erfcx_pieces() -> np.ndarray:
    nodes = np.cos(np.pi * (np.arange(3 * ERFC_DEGREE) + 0.5) / (3 * ERFC_DEGREE)) * ERFC_WIDTH / 2
    centres = (np.arange(round(ERFC_END / ERFC_WIDTH)) + 0.5) * ERFC_WIDTH
    return np.array([np.polyfit(nodes, [math.erfc(c + t) * math.exp((c + t) ** 2) for t in nodes], ERFC_DEGREE)
                     for c in centres]).T


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
