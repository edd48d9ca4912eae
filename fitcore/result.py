"""FitResult: parameters with standard errors, flags and statistics.

Covariance of the free parameters from the Jacobian J of the weighted residuals at
the solution:  cov = s^2 (J^T J)^-1,  s^2 = sum(r^2) / (m - n)  (m residuals, n free
parameters). It is computed through the SVD J = U S V^T, so a singular J^T J is
seen, not inverted: directions with S_k < RCOND * S_max are "not determined by the
data"; the parameters that load on them are flagged and get an infinite stderr.

Statistics (RMSE, MAE, max |error|, R^2) are of the raw, unweighted errors
predicted - reference, per frame for energies (per atom with --per-atom) and per
component for forces.
"""
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .fit import Outcome, Start
from .params import LJParams, Layout
from .problem import Problem

if TYPE_CHECKING:
    from .identifiability import Identifiability
    from .prior import Prior
    from .validation import Validation
from .spec import FitOptions, ModelOptions

RCOND = 1e-10  # relative singular value below which a direction is undetermined
CORRELATION_REPORT = 0.9


@dataclass(frozen=True, kw_only=True)
class ErrorStats:
    """Errors predicted - reference over ``n`` values, in the unit of the values (None: undefined)."""
    n: int
    rmse: float | None = None
    mae: float | None = None
    max_abs: float | None = None
    r2: float | None = None  # None when the reference has no spread

    @classmethod
    def of(cls, pred: np.ndarray, ref: np.ndarray) -> "ErrorStats":
        err = pred - ref
        if len(err) == 0:
            return cls(n=0)
        total = np.sum((ref - ref.mean()) ** 2)
        return cls(n=int(len(err)), rmse=float(np.sqrt(np.mean(err ** 2))), mae=float(np.mean(np.abs(err))),
                   max_abs=float(np.max(np.abs(err))),
                   r2=float(1 - np.sum(err ** 2) / total) if total > 0 else None)

    def in_unit(self, factor: float) -> "ErrorStats":
        """The same errors divided by ``factor`` (internal units per output unit); R² is unitless."""
        def scale(v):
            return None if v is None else v / factor
        return replace(self, rmse=scale(self.rmse), mae=scale(self.mae), max_abs=scale(self.max_abs))


@dataclass(frozen=True, kw_only=True)
class OptimizerInfo:
    """How the optimizer got to the solution."""
    method: str  # lsq | basinhopping
    algorithm: str  # least_squares method
    loss: str
    message: str
    status: int
    success: bool
    nfev: int
    njev: int
    cost: float  # half the weighted squared residuals (eV, Å)
    n_residuals: int  # data points: energies, plus force components
    n_free: int
    s2: float  # residual variance sum(r^2) / (m - n)
    jacobian_condition: float
    seed: int | None = None
    hops: int = 0  # basin-hopping
    minima: tuple = ()  # distinct fit.Minimum (cost, x, origin, rmse) from the starts and hops, best first

    @property
    def dof(self) -> int:
        return self.n_residuals - self.n_free


@dataclass(frozen=True, kw_only=True, eq=False)
class FitResult:
    params: LJParams  # values and stderr (0 for fixed, inf for undetermined), eV and Å
    initial: np.ndarray  # [n_params] starting theta
    free: np.ndarray  # [n_params] bool
    correlation: np.ndarray  # [n_free, n_free]
    flags: tuple[tuple[str, ...], ...]  # per parameter
    energy: ErrorStats  # eV per frame (per atom with per_atom)
    forces: ErrorStats | None  # eV/Å per component, when fitted
    per_atom: bool
    optimizer: OptimizerInfo
    energy_pred: np.ndarray  # [n_frames] eV
    energy_ref: np.ndarray  # [n_frames] eV
    absent_pairs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    strong_correlations: tuple[tuple[str, str, float], ...] = ()
    prior: "Prior | None" = None  # prior.py, with --prior
    identifiability: "Identifiability | None" = None  # identifiability.py
    validation: "Validation | None" = None  # validation.py, with --cv, --bootstrap, --test

    @property
    def converged(self) -> bool:
        return self.optimizer.success


def covariance(jac: np.ndarray, rss: float, m: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """cov [n, n], undetermined [n] bool, s^2 and the condition number of J, for a J^T J (J may be
    compressed: any J with the same J^T J) and a residual sum of squares ``rss`` over ``m`` data points."""
    rows, n = jac.shape
    nothing = np.full((n, n), np.inf), np.ones(n, bool), float("inf"), float("inf")
    if m <= n or not np.all(np.isfinite(jac)):  # no degrees of freedom left, or an overflowed Jacobian
        return nothing
    # an n x n matrix with the same J^T J: all n singular directions, null ones included
    square = np.linalg.qr(jac, mode="r") if rows > n else np.vstack([jac, np.zeros((n - rows, n))])
    try:
        _, s, vt = np.linalg.svd(square)
    except np.linalg.LinAlgError:
        return nothing
    if s[0] == 0:
        return nothing
    s2 = rss / (m - n)
    good = s > RCOND * s[0]
    inv = np.where(good, 1.0 / np.where(good, s, 1.0) ** 2, 0.0)
    cov = s2 * (vt.T * inv) @ vt
    undetermined = np.any(np.abs(vt[~good]) > 1e-3, axis=0) if (~good).any() else np.zeros(n, bool)
    condition = float(s[0] / s[-1]) if s[-1] > 0 else float("inf")
    return cov, undetermined, s2, condition


def summarize(problem: Problem, start: Start, outcome: Outcome, options: FitOptions, model: ModelOptions,
              absent_pairs: tuple[str, ...] = ()) -> FitResult:
    """Statistics, covariance and flags at the solution ``outcome.x``; ``model`` gives the cutoff treatment."""
    layout, free = problem.layout, start.free
    theta = start.theta.copy()
    theta[free] = outcome.x
    jac, m = problem.jacobian(outcome.x), problem.n_residuals
    rss = problem.residual_sum_of_squares(outcome.x, exact=True)
    cov, undetermined, s2, condition = covariance(jac, rss, m)
    stderr_free = np.sqrt(np.clip(np.diag(cov), 0, None))
    stderr_free[undetermined] = np.inf
    stderr = np.zeros(len(theta))
    stderr[free] = stderr_free
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = cov / np.outer(stderr_free, stderr_free)
    correlation[~np.isfinite(correlation)] = np.nan
    np.fill_diagonal(correlation, 1.0)
    no_dof = m <= int(free.sum())
    flags = _flags(layout, start, theta, stderr, undetermined, outcome, no_dof)
    energies, forces = (t.detach().cpu().numpy() if t is not None else None
                        for t in problem.predict(problem.theta(outcome.x)))
    energy, forces_stats = _error_statistics(problem, energies, forces)
    optimizer = OptimizerInfo(
        method=options.method, algorithm=options.algorithm, loss=options.loss, message=outcome.message,
        status=outcome.status, success=outcome.success, nfev=outcome.nfev, njev=outcome.njev,
        cost=0.5 * rss if problem.system is not None else outcome.cost, n_residuals=int(m),
        n_free=int(free.sum()), s2=s2, jacobian_condition=condition, seed=outcome.seed, hops=outcome.hops,
        minima=tuple(outcome.minima))
    names = np.array(layout.names)[free]
    strong = tuple((names[i], names[j], float(correlation[i, j]))
                   for i in range(len(names)) for j in range(i + 1, len(names))
                   if np.isfinite(correlation[i, j]) and abs(correlation[i, j]) >= CORRELATION_REPORT)
    params = LJParams(layout, theta, model.cutoff, model.shift, stderr, tail=model.tail)
    return FitResult(params=params, initial=start.theta, free=free, correlation=correlation, flags=flags,
                     energy=energy, forces=forces_stats, per_atom=problem.weighting.per_atom, optimizer=optimizer,
                     energy_pred=energies, energy_ref=problem.targets.energies, absent_pairs=absent_pairs,
                     notes=start.notes, strong_correlations=strong)


def _error_statistics(problem: Problem, energies: np.ndarray,
                      forces: np.ndarray | None) -> tuple[ErrorStats, ErrorStats | None]:
    """Energy errors (per atom with per_atom) and force errors of the fitted atoms, eV and eV/Å."""
    t = problem.targets
    per = t.n_atoms if problem.weighting.per_atom else 1.0
    energy = ErrorStats.of(energies / per, t.energies / per)
    if forces is None:
        return energy, None
    atoms = problem.force_atoms.cpu().numpy()
    return energy, ErrorStats.of(forces[atoms].ravel(), t.forces[atoms].ravel())


def _flags(layout: Layout, start: Start, theta, stderr, undetermined, outcome: Outcome, no_dof: bool) -> tuple:
    flags = []
    free_k = np.cumsum(start.free) - 1
    for k, name in enumerate(layout.names):
        f = []
        if not start.free[k]:
            f.append("fixed")
        else:
            j = free_k[k]
            span = max(abs(theta[k]), 1e-12)
            if outcome.active_mask[j] != 0 or min(abs(theta[k] - start.lower[k]), abs(start.upper[k] - theta[k])) \
                    <= 1e-8 * span:
                f.append("at bound")
            if start.origin[k] != "data" and abs(theta[k] - start.theta[k]) <= 1e-10 * span:
                f.append("at initial value")
            if no_dof:
                f.append("no degrees of freedom: stderr unknown")
            elif undetermined[j]:
                f.append("not determined by the data")
            elif stderr[k] > abs(theta[k]):
                f.append("poorly determined")
        flags.append(tuple(f))
    return tuple(flags)
