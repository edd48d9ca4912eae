"""theta -> c = (C_n, C_m, offsets) and its exact Jacobian dc/dtheta, in closed form (numpy).

The compressed problem (linear.py) has residuals R c(theta) - z with R only k x k, so
an evaluation is microseconds of arithmetic; what it costs in practice is the
overhead around it. This map is the same algebra as ``params.pair_coefficients`` (differentiated
by torch autograd elsewhere), written out so that the fits inside multistart, basin-hopping, priors,
cross-validation and the bootstrap pay no per-call torch overhead. Tests hold the
two against each other and against finite differences.

Per pair type t = (a, b) with eps_t, sigma_t, for the layout's form (potential.py;
lj: n, m = 12, 6 and k_n = k_m = 4):

    C_n = k_n eps s^n,   dC_n/deps = k_n s^n,   dC_n/ds = n C_n / s     (the same for m)

and the mixing rules' partial derivatives with respect to type a (the a == b case is
the sum of the a and b contributions, which gives 1 for eps_aa and sigma_aa):

    eps_ab = sqrt(e_a e_b)                    d/de_a = eps_ab / (2 e_a)
    lorentz-berthelot  sigma_ab = (s_a + s_b)/2   d/ds_a = 1/2
    geometric          sigma_ab = sqrt(s_a s_b)   d/ds_a = sigma_ab / (2 s_a)
    sixthpower         sigma_ab^6 = (s_a^6 + s_b^6)/2           d/ds_a = s_a^5 / (2 sigma_ab^5)
                       eps_ab = 2 sqrt(e_a e_b) s_a^3 s_b^3 / (s_a^6 + s_b^6)
                                              deps_ab/ds_a = eps_ab (3/s_a - 6 s_a^5 / (s_a^6 + s_b^6))

A pair with its own parameters takes them directly (derivative 1); with mixing none a
pair type without parameters has C12 = C6 = 0.
"""
import numpy as np

from .moments import pair_types
from .params import Layout


class CoefficientMap:
    """c(theta) [k] and dc/dtheta [k, n_params] for one layout; k = 2 n_pair_types + n_offsets."""

    def __init__(self, layout: Layout):
        self.layout = layout
        a, b = pair_types(layout.n_types)
        self.a, self.b = a, b
        self.n_pt, self.n_params, self.n_lj = len(a), len(layout.names), layout.n_lj
        self.own = np.full(self.n_pt, -1)  # index of the pair's own epsilon in theta, -1 if mixed
        index = {(x, y): k for k, (x, y) in enumerate(zip(a, b))}
        ie, _ = layout.pair_index()
        for k, pair in enumerate(layout.pairs):
            self.own[index[pair]] = ie[k]
        self.direct = np.flatnonzero(self.own >= 0)
        self.defined = np.ones(self.n_pt, bool) if layout.per_type else self.own >= 0
        # M[t, j] = [a_t == j] + [b_t == j]: where each pair type's mixing reads type j (2 on the diagonal)
        self.uses = np.zeros((self.n_pt, layout.n_types))
        np.add.at(self.uses, (np.arange(self.n_pt), a), 1.0)
        np.add.at(self.uses, (np.arange(self.n_pt), b), 1.0)
        self.d_offsets = np.eye(self.n_params)[self.n_lj:]

    def pair_values(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """eps, sigma [n_pt] and their derivatives d_eps, d_sigma [n_pt, n_params]."""
        d_eps, d_sigma = np.zeros((self.n_pt, self.n_params)), np.zeros((self.n_pt, self.n_params))
        if self.layout.per_type:
            eps, sigma = self._mix(theta, d_eps, d_sigma)
        else:
            eps, sigma = np.zeros(self.n_pt), np.ones(self.n_pt)
        t, own = self.direct, self.own[self.direct]
        eps[t], sigma[t] = theta[own], theta[own + 1]
        d_eps[t], d_sigma[t] = 0.0, 0.0
        d_eps[t, own], d_sigma[t, own + 1] = 1.0, 1.0
        return eps, sigma, d_eps, d_sigma

    def _mix(self, theta, d_eps, d_sigma) -> tuple[np.ndarray, np.ndarray]:
        """Mixed eps, sigma of every pair type; fills the per-type columns of d_eps and d_sigma."""
        n = self.layout.n_types
        e, s, uses = theta[0:2 * n:2], theta[1:2 * n:2], self.uses
        eps = np.sqrt(e[self.a] * e[self.b])
        rule = self.layout.mixing
        if rule == "lorentz-berthelot":
            sigma = 0.5 * (s[self.a] + s[self.b])
            d_sigma[:, 1:2 * n:2] = 0.5 * uses
        elif rule == "geometric":
            sigma = np.sqrt(s[self.a] * s[self.b])
            d_sigma[:, 1:2 * n:2] = 0.5 * uses * sigma[:, None] / s
        elif rule == "sixthpower":
            sum6 = s[self.a] ** 6 + s[self.b] ** 6
            sigma = (0.5 * sum6) ** (1 / 6)
            eps = 2.0 * eps * (s[self.a] * s[self.b]) ** 3 / sum6
            d_sigma[:, 1:2 * n:2] = 0.5 * uses * s ** 5 / sigma[:, None] ** 5
            d_eps[:, 1:2 * n:2] = eps[:, None] * uses * (3 / s - 6 * s ** 5 / sum6[:, None])
        else:
            raise ValueError(f"unknown mixing rule {rule!r}")
        d_eps[:, 0:2 * n:2] = 0.5 * uses * eps[:, None] / e
        return eps, sigma

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """c [k] and dc/dtheta [k, n_params]."""
        theta = np.asarray(theta, float)
        eps, sigma, d_eps, d_sigma = self.pair_values(theta)
        eps = np.where(self.defined, eps, 0.0)
        form = self.layout.form
        sn, sm = form.k_n * sigma ** form.n, form.k_m * sigma ** form.m
        c_n, c_m = eps * sn, eps * sm
        dc_n = sn[:, None] * d_eps + (form.n * c_n / sigma)[:, None] * d_sigma
        dc_m = sm[:, None] * d_eps + (form.m * c_m / sigma)[:, None] * d_sigma
        c = np.concatenate([c_n, c_m, theta[self.n_lj:]])
        return c, np.vstack([dc_n, dc_m, self.d_offsets])
