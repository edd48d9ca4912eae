"""Gaussian priors on epsilon and sigma, as extra residuals.

For each free epsilon or sigma x_k with a prior value mu_k (UFF, or a params file), one
residual row is added to the data's:

    r_k = w (log x_k - log mu_k) / width,      dr_k/dx_k = w / (width x_k)

``width`` is relative (0.2: one standard deviation is a factor e^0.2, about 20%). The
weight w puts the prior on the scale of the data: w = s0 * prior_weight, with s0 the
root mean square of the weighted data residuals of the fit without the prior (its
noise scale; eV for plain energies). So, with prior_weight 1, a parameter one width
away from its prior value costs as much as one data point one RMSE off, and the
prior's information adds to the data's exactly as a Bayesian Gaussian prior of width
``width`` on log x with noise s0: J^T J / s0^2 = J_data^T J_data / s0^2 + diag(1/(width x)^2).

Since the rows are ordinary residuals, least_squares, basin-hopping, the exact Jacobian
and the covariance s^2 (J^T J)^-1 all include the prior; the covariance is then the
posterior covariance (s^2 counts the prior rows as data points).
"""
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .params import LJParams, Layout


@dataclass(frozen=True, kw_only=True)
class Prior:
    source: str  # "uff" or the params file
    names: tuple[str, ...]  # the parameters it holds (free epsilon and sigma present in the source)
    index: np.ndarray  # [p] their positions in the free vector x
    mean: np.ndarray  # [p] prior values, eV and Å
    width: float  # relative: standard deviation of log x
    weight: float  # w = scale * prior_weight
    scale: float  # s0, the weighted RMS residual of the fit without the prior
    missing: tuple[str, ...] = ()  # free epsilon and sigma the source has no value for

    def rows(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return self.weight * (np.log(x[self.index]) - np.log(self.mean)) / self.width

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """[p, n_free]."""
        jac = np.zeros((len(self.index), len(x)))
        jac[np.arange(len(self.index)), self.index] = self.weight / (self.width * x[self.index])
        return jac

    def as_dict(self, factors: dict) -> dict:
        """For the params file: values in the run's units (``factors``: name -> internal per output unit)."""
        return {"source": self.source, "width": self.width, "weight": self.weight / self.scale, "scale": self.scale,
                "values": {n: float(v / factors[n]) for n, v in zip(self.names, self.mean)},
                "missing": list(self.missing)}


def prior_source(source: str, type_names: tuple[str, ...]) -> LJParams:
    """The parameters behind --prior: ``uff`` (the UFF table for these types) or a params file."""
    if source == "uff":
        from .uff import uff_params
        try:
            return uff_params(type_names)
        except InputError as err:
            raise InputError(f"--prior uff: {err}") from None
    from .io.params_file import read_params
    return read_params(source)[0]


def make_prior(source: str, values: LJParams, layout: Layout, free: np.ndarray, width: float, weight: float,
               scale: float) -> Prior:
    """The prior on the free epsilon and sigma of ``layout`` from ``values`` (per type, or mixed for pairs)."""
    if not width > 0:
        raise InputError(f"--prior-width {width}: must be positive")
    eps, sigma = values.pair_table()
    known = values.layout.type_names
    names, index, mean, missing = [], [], [], []
    free_position = np.cumsum(free) - 1
    for k, name in enumerate(layout.names[:layout.n_lj]):
        if not free[k]:
            continue
        head, _, kind = name.rpartition(".")
        a, _, b = head.partition("-")
        b = b or a
        if a not in known or b not in known:
            missing.append(name)
            continue
        table = eps if kind == "epsilon" else sigma
        value = table[known.index(a), known.index(b)]
        if not np.isfinite(value) or value <= 0:
            missing.append(name)
            continue
        names.append(name)
        index.append(int(free_position[k]))
        mean.append(float(value))
    if not names:
        raise InputError(f"--prior {source}: it has no value for any free epsilon or sigma of this fit")
    return Prior(source=source, names=tuple(names), index=np.array(index), mean=np.array(mean), width=width,
                 weight=scale * weight, scale=scale, missing=tuple(missing))


class PriorProblem:
    """A Problem (problem.py) with the prior's rows after its residuals; everything else is the Problem's."""

    def __init__(self, problem, prior: Prior):
        self.problem, self.prior = problem, prior

    def __getattr__(self, name):
        return getattr(self.problem, name)

    @property
    def n_residuals(self) -> int:
        return self.problem.n_residuals + len(self.prior.index)

    def residuals(self, x) -> np.ndarray:
        return np.concatenate([self.problem.residuals(x), self.prior.rows(np.asarray(x, float))])

    def jacobian(self, x) -> np.ndarray:
        return np.vstack([self.problem.jacobian(x), self.prior.jacobian(np.asarray(x, float))])

    def residual_sum_of_squares(self, x, exact: bool = False) -> float:
        rows = self.prior.rows(np.asarray(x, float))
        return self.problem.residual_sum_of_squares(x, exact) + float(rows @ rows)
