"""Data-driven initial guess.

1. The energy is linear in the pair coefficients (C12_t, C6_t: C_n, C_m of the form, see
   potential.py) and the offsets, so a bounded linear least-squares solve (C12, C6 >= 0)
   over the energy rows gives the exact optimum with free pair parameters. Each pair type t
   with both coefficients positive yields eps_t, sigma_t through the form's inverse map
   (lj: sigma_t = (C12/C6)^(1/6), eps_t = C6^2 / (4 C12)).
2. Per-type parameters come from those pair values through the mixing rule, which is
   linear in the rule's variables (potential.py): g(sigma_ij) = (g(s_i) + g(s_j)) / 2 and
   log eps_ij - log f(s_i, s_j) = (log eps_i + log eps_j) / 2, with g(s) = s
   (Lorentz-Berthelot), log s (geometric) or s^6 (sixthpower), and f = 1 except for
   sixthpower. A type that never pairs with itself is therefore determined through its
   cross pairs. Where the pairs fix only a combination (say only A-B pairs occur), the
   least-norm split around the mean is taken: eps_A = eps_B = eps_AB, sigma_A = sigma_B = sigma_AB.
3. A type or pair with no usable pair value at all starts from
   ``DEFAULT_EPSILON``/``DEFAULT_SIGMA``; the guess says so in its notes.
"""
import numpy as np
from scipy.optimize import lsq_linear

from .linear import LinearSystem
from .params import Layout, pair_tables, pair_types
from .potential import LJ, MIXING, Form

DEFAULT_EPSILON = 0.01  # eV
DEFAULT_SIGMA = 3.0  # Å
SIGMA_RANGE = (0.3, 30.0)  # Å: pair values outside are treated as unusable


def linear_solution(system: LinearSystem, pair_count: np.ndarray, n_offsets: int) -> tuple[np.ndarray, ...]:
    """C12, C6 [n_pair_types] and offsets minimising the weighted residuals, with C >= 0.

    Solved on the compressed system (linear.py) with lsq_linear; pair types that never occur
    get C12 = C6 = 0. Columns are scaled to unit norm first: C12 and C6 differ by orders of magnitude.
    """
    n_pt = len(pair_count)
    present = np.flatnonzero(pair_count > 0)
    columns = np.r_[present, n_pt + present, 2 * n_pt + np.arange(n_offsets)]
    matrix = system.matrix[:, columns]
    norms = np.linalg.norm(matrix, axis=0)
    norms[norms == 0] = 1.0
    lower = np.r_[np.zeros(2 * len(present)), np.full(n_offsets, -np.inf)]
    solution = lsq_linear(matrix / norms, system.target, bounds=(lower, np.inf), method="bvls").x / norms
    c12, c6 = np.zeros(n_pt), np.zeros(n_pt)
    c12[present], c6[present] = solution[:len(present)], solution[len(present):2 * len(present)]
    return c12, c6, solution[2 * len(present):]


def pair_values(c12: np.ndarray, c6: np.ndarray, form: Form = LJ) -> tuple[np.ndarray, np.ndarray]:
    """eps, sigma per pair type from C12, C6 (C_n, C_m of ``form``); NaN where unusable."""
    usable = (c12 > 0) & (c6 > 0)
    sigma = np.full(len(c12), np.nan)
    eps = np.full(len(c12), np.nan)
    eps[usable], sigma[usable] = form.eps_sigma(c12[usable], c6[usable])
    usable &= (sigma > SIGMA_RANGE[0]) & (sigma < SIGMA_RANGE[1])
    return np.where(usable, eps, np.nan), np.where(usable, sigma, np.nan)


def _solve_pairwise(a: np.ndarray, b: np.ndarray, values: np.ndarray, n_types: int) -> np.ndarray:
    """u per type with (u_a + u_b)/2 = value for each pair, least-norm around the mean; NaN if unseen."""
    rows = np.zeros((len(values), n_types))
    np.add.at(rows, (np.arange(len(values)), a), 0.5)
    np.add.at(rows, (np.arange(len(values)), b), 0.5)
    mean = values.mean()
    delta = np.linalg.lstsq(rows, values - mean, rcond=None)[0]
    seen = rows.sum(axis=0) > 0
    return np.where(seen, mean + delta, np.nan)


def per_type_values(layout: Layout, eps_pair: np.ndarray, sigma_pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-type eps, sigma [n_types] from per-pair-type values via the mixing rule; NaN where undetermined."""
    a, b = pair_types(layout.n_types)
    ok = np.isfinite(eps_pair) & np.isfinite(sigma_pair)
    if not ok.any():
        return np.full(layout.n_types, np.nan), np.full(layout.n_types, np.nan)
    a, b, eps_pair, sigma_pair = a[ok], b[ok], eps_pair[ok], sigma_pair[ok]
    rule = MIXING[layout.mixing]
    sigma = rule.from_linear(_solve_pairwise(a, b, rule.to_linear(sigma_pair, np), layout.n_types), np)
    sa, sb = np.nan_to_num(sigma[a], nan=DEFAULT_SIGMA), np.nan_to_num(sigma[b], nan=DEFAULT_SIGMA)
    log_eps = np.log(eps_pair) - np.log(rule.epsilon_factor(sa, sb, np))
    return np.exp(_solve_pairwise(a, b, log_eps, layout.n_types)), sigma


def initial_guess(layout: Layout, system: LinearSystem, pair_count: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """theta [n_params] in layout order, and notes on what could not be taken from the data."""
    c12, c6, offsets = linear_solution(system, pair_count, len(layout.names) - layout.n_lj)
    eps_pair, sigma_pair = pair_values(c12, c6, layout.form)
    theta = np.empty(len(layout.names))
    notes = []
    table = np.full((layout.n_types, layout.n_types), -1)
    pa, pb = pair_types(layout.n_types)
    table[pa, pb] = table[pb, pa] = np.arange(len(pa))
    if layout.per_type:
        eps, sigma = per_type_values(layout, eps_pair, sigma_pair)
        unseen = [layout.type_names[k] for k in np.flatnonzero(~np.isfinite(eps) | ~np.isfinite(sigma))]
        if unseen:
            notes.append(f"the linear solution gives no usable pair value (positive C12 and C6) for "
                         f"{', '.join(unseen)}: starting from epsilon {DEFAULT_EPSILON} eV, sigma {DEFAULT_SIGMA} Å")
        ie, is_ = layout.eps_sigma_index()
        theta[ie] = np.where(np.isfinite(eps), eps, DEFAULT_EPSILON)
        theta[is_] = np.where(np.isfinite(sigma), sigma, DEFAULT_SIGMA)
    ie, is_ = layout.pair_index()
    for k, (a, b) in enumerate(layout.pairs):
        t = table[a, b]
        if np.isfinite(eps_pair[t]):
            theta[ie[k]], theta[is_[k]] = eps_pair[t], sigma_pair[t]
        elif layout.per_type:
            theta[ie[k]], theta[is_[k]] = _mixed_pair(layout, theta, a, b)
        else:
            theta[ie[k]], theta[is_[k]] = DEFAULT_EPSILON, DEFAULT_SIGMA
            notes.append(f"no usable data for pair {layout.pair_name(a, b)}: starting from defaults")
    theta[layout.n_lj:] = offsets
    return theta, notes


def _mixed_pair(layout: Layout, theta: np.ndarray, a: int, b: int) -> tuple[float, float]:
    eps, sigma = pair_tables(Layout(layout.type_names, layout.mixing), theta[:2 * layout.n_types])
    return float(eps[a, b]), float(sigma[a, b])
