"""Fitting drivers: scipy least_squares from one or several starts, and basin-hopping around it.

Both work on the free entries x of theta (layout order; eV, Å) and take the exact
Jacobian from ``Problem.jacobian``.

Multistart: besides the start given (the data-driven guess, or the user's values), a
fit may get extra starting points (UFF values, when the types are elements: see
fitting.py). Each runs the full least_squares; the lowest cost wins, and the distinct
minima found are kept in the outcome with the start they came from.

Basin-hopping steps in a scaled space z = (log epsilon, sigma / Å, offset / eV): a
step of 0.5 changes epsilon by a factor up to e^0.5 and sigma by up to 0.5 Å. Its
temperature is relative to the cost of the first local minimum (a hop that doubles
the cost is accepted with probability e^-1/T). Each hop's local fit is cheap by
design: MINPACK's Levenberg-Marquardt (C, no per-iteration Python) in log epsilon and
log sigma, which keeps them positive without bounds, to a relative tolerance of 1e-8
(``HOP_TOL``); only the best minimum is then polished by the least_squares the user
chose, with bounds. With user bounds (--bound) or a robust loss the hops run trf (tolerance
1e-10) within the bounds.
"""
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeResult, basinhopping, least_squares

from .errors import FitError, InputError
from .params import KINDS, LJParams, Layout
from .problem import Problem
from .spec import ALGORITHMS, LOSSES, METHODS, FitOptions  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Start:
    """Where a fit starts: full theta, which entries are free, bounds, and where values came from."""
    theta: np.ndarray
    free: np.ndarray  # bool
    lower: np.ndarray
    upper: np.ndarray
    origin: tuple[str, ...]  # "data", "user", "file" or "default" per parameter
    notes: tuple[str, ...] = ()
    user_bounds: bool = False  # bounds given by the user, beyond the default epsilon, sigma > 0


HOP_TOL = 1e-8  # ftol, xtol, gtol of the local fits inside basin-hopping


@dataclass(frozen=True)
class Minimum:
    """A local minimum: cost (half the weighted squared residuals), free parameters, where it started."""
    cost: float
    x: np.ndarray
    origin: str  # "data", "user", "uff", "prior", "hop"
    rmse: float | None = None  # of the energies (per atom with per_atom), filled in by fitting.py


@dataclass
class Outcome:
    """What a driver returns: the solution and how it got there."""
    x: np.ndarray
    cost: float
    nfev: int
    njev: int
    status: int
    message: str
    success: bool
    active_mask: np.ndarray
    seed: int | None = None
    minima: list = field(default_factory=list)  # distinct Minimum found (multistart, basin-hopping), best first
    hops: int = 0
    origin: str = "data"  # the start whose minimum this is


def layout_for(type_names: tuple[str, ...], mixing: str, offset: str, species: tuple[str, ...],
               mentioned: list[str], init_params: LJParams | None = None) -> Layout:
    """The layout of a fit: per-type parameters plus every pair named in options or the init file."""
    layout = Layout(type_names, mixing, (), offset, species if offset == "per-species" else ())
    if mixing == "none" or init_params is not None:
        pairs = _present_pairs(type_names, mixing, init_params)
        for a, b in pairs:
            layout = layout.with_pair(a, b)
    for name in mentioned:
        head, _, kind = name.rpartition(".")
        a, sep, b = head.partition("-")
        if sep and kind in KINDS and a in type_names and b in type_names:
            layout = layout.with_pair(type_names.index(a), type_names.index(b))
    return layout


def _present_pairs(type_names, mixing, init_params):
    if mixing == "none":
        n = len(type_names)
        return [(a, b) for a in range(n) for b in range(a, n)]
    file_types = init_params.layout.type_names
    return [(type_names.index(file_types[a]), type_names.index(file_types[b]))
            for a, b in init_params.layout.pairs if file_types[a] in type_names and file_types[b] in type_names]


def build_start(layout: Layout, guess: np.ndarray, notes: list[str], init: dict[str, float],
                init_params: LJParams | None, fixed: list[str], bounds: dict[str, tuple[float, float]]) -> Start:
    names = layout.names
    theta, origin = guess.copy(), ["data"] * len(names)
    if init_params is not None:
        for k, name in enumerate(names):
            if name in init_params.names:
                theta[k], origin[k] = init_params.value(name), "file"
    for name, value in init.items():
        k = layout.index(name)
        theta[k], origin[k] = value, "user"
    lower = np.r_[np.zeros(layout.n_lj), np.full(len(names) - layout.n_lj, -np.inf)]
    upper = np.full(len(names), np.inf)
    for name, (lo, hi) in bounds.items():
        k = layout.index(name)
        lower[k], upper[k] = lo, hi
    free = np.ones(len(names), bool)
    notes = list(notes)
    for name in fixed:
        k = layout.index(name)
        free[k] = False
        if origin[k] == "data":
            unit = "Å" if names[k].endswith(".sigma") else "eV"
            notes.append(f"{names[k]} is fixed at its starting value from the data, {theta[k]:.6g} {unit} "
                         f"(--init {names[k]}=VALUE chooses it)")
    outside = free & ((theta < lower) | (theta > upper))
    for k in np.flatnonzero(outside):
        if origin[k] in ("user", "file"):
            raise InputError(f"initial {names[k]} = {theta[k]:g} is outside its bounds [{lower[k]:g}, {upper[k]:g}]")
    theta = np.where(outside, np.clip(theta, lower, upper), theta)
    return Start(theta, free, lower, upper, tuple(origin), tuple(notes), bool(bounds))


def check_problem(problem: Problem, start: Start, options: FitOptions) -> np.ndarray:
    """x0, after checking that the fit is well posed; FitError otherwise."""
    for name, value, allowed in (("method", options.method, METHODS), ("algorithm", options.algorithm, ALGORITHMS),
                                 ("loss", options.loss, LOSSES)):
        if value not in allowed:
            raise FitError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")
    n_free, m = problem.n_free, problem.n_residuals
    if n_free == 0:
        raise FitError("every parameter is fixed: nothing to fit")
    if n_free > m:
        raise FitError(f"underdetermined: {n_free} free parameters but only {m} data points; fix some (--fix) "
                       f"or tie them through a mixing rule")
    if options.algorithm == "lm" and options.loss != "linear":
        raise FitError("--algorithm lm supports only --loss linear")
    if options.algorithm == "lm" and start.user_bounds:
        raise FitError("--algorithm lm cannot respect bounds; use trf or dogbox with --bound")
    x0 = start.theta[start.free] if options.algorithm == "lm" else _interior(start.theta[start.free], start)
    r0 = problem.residuals(x0)
    if not np.all(np.isfinite(r0)):
        raise FitError("residuals are not finite at the initial parameters; give starting values with --init")
    return x0


def run_fit(problem: Problem, start: Start, options: FitOptions, progress=None,
            extra_starts: tuple[tuple[str, np.ndarray], ...] = ()) -> Outcome:
    """Minimise the residuals: least_squares from ``start`` and each of ``extra_starts`` ((origin, theta)
    pairs; only their free entries are used) keeping the lowest cost, or basin-hopping when
    options.method says so (the extra starts' minima join its hops)."""
    x0 = check_problem(problem, start, options)
    first = _least_squares(problem, start, options, x0)
    first.origin = _origin(start)
    runs = [first]
    for origin, theta in (extra_starts if options.multistart else ()):
        run = _least_squares(problem, start, options, _interior(theta[start.free], start))
        run.origin = origin
        runs.append(run)
    if options.method == "basinhopping":
        return _basinhopping(problem, start, options, runs, progress)
    best = min(runs, key=lambda r: r.cost)
    best.minima = distinct_minima(runs)
    best.nfev, best.njev = sum(r.nfev for r in runs), sum(r.njev for r in runs)
    return best


def _origin(start: Start) -> str:
    free = [o for o, f in zip(start.origin, start.free) if f]
    return "data" if all(o == "data" for o in free) else "user"


def _bounds(start: Start, options: FitOptions):
    if options.algorithm == "lm":
        return (-np.inf, np.inf)
    return start.lower[start.free], start.upper[start.free]


def _least_squares(problem: Problem, start: Start, options: FitOptions, x0: np.ndarray) -> Outcome:
    result = least_squares(problem.residuals, x0, jac=problem.jacobian, bounds=_bounds(start, options),
                           method=options.algorithm, loss=options.loss, f_scale=options.f_scale,
                           ftol=options.ftol, xtol=options.xtol, gtol=options.gtol, max_nfev=options.max_nfev,
                           x_scale="jac")
    njev = result.njev if result.njev is not None else result.nfev
    return Outcome(result.x, float(result.cost) + problem.constant_cost, int(result.nfev), int(njev),
                   int(result.status), str(result.message), bool(result.status > 0), result.active_mask)


class _Hop:
    """Basin-hopping step in z = (log eps, sigma, offset); ``stepsize`` is adapted by scipy."""

    def __init__(self, stepsize: float, rng: np.random.Generator):
        self.stepsize, self.rng = stepsize, rng

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return z + self.rng.uniform(-self.stepsize, self.stepsize, size=z.shape)


def _z_maps(problem: Problem, start: Start):
    names = np.array(problem.layout.names)[start.free]
    is_eps = np.array([n.endswith(".epsilon") for n in names])
    lower, upper = start.lower[start.free], start.upper[start.free]

    def to_z(x):
        return np.where(is_eps, np.log(np.maximum(x, 1e-300)), x)

    def to_x(z):
        return np.clip(np.where(is_eps, np.exp(np.clip(z, -700, 700)), z), lower, upper)

    return to_z, to_x


def _basinhopping(problem: Problem, start: Start, options: FitOptions, starts: list[Outcome],
                  progress) -> Outcome:
    seed = options.seed if options.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    to_z, to_x = _z_maps(problem, start)
    local_runs: list[Outcome] = []
    first = starts[0]
    scale = max(first.cost, 1e-300)  # costs are seen by basinhopping relative to the first minimum
    hop_fit = _log_space_fit if _log_space_allowed(start, options) else _bounded_hop_fit

    def cost(z):
        return 0.5 * problem.residual_sum_of_squares(to_x(z)) / scale

    def local(fun, z0, args=(), **unused) -> OptimizeResult:
        run = hop_fit(problem, start, options, _interior(to_x(z0), start))
        local_runs.append(run)
        return OptimizeResult(x=to_z(run.x), fun=run.cost / scale, success=run.success, nfev=run.nfev)

    def callback(z, f, accepted):
        if progress is not None:
            progress(len(local_runs) - 1, options.niter, min(r.cost for r in local_runs + starts))

    hop = _Hop(options.step_size, rng)
    best_start = min(starts, key=lambda r: r.cost)
    basinhopping(cost, to_z(best_start.x), niter=options.niter, T=options.temperature, stepsize=options.step_size,
                 minimizer_kwargs={"method": local}, take_step=hop, callback=callback, rng=rng)
    runs = starts + local_runs
    best = min(runs, key=lambda r: r.cost)
    polished = _least_squares(problem, start, options, _interior(best.x, start))
    polished.origin = best.origin
    polished.nfev += sum(r.nfev for r in runs)
    polished.njev += sum(r.njev for r in runs)
    polished.seed, polished.minima, polished.hops = seed, distinct_minima(runs), options.niter
    return polished


def _log_space_allowed(start: Start, options: FitOptions) -> bool:
    """Hops run unbounded in log epsilon, log sigma unless the user set bounds or a robust loss (not in lm)."""
    return not start.user_bounds and options.loss == "linear"


def _log_space_fit(problem: Problem, start: Start, options: FitOptions, x0: np.ndarray) -> Outcome:
    """Levenberg-Marquardt (MINPACK) in u = log x for epsilon and sigma, x for offsets: positive by
    construction, no bounds needed; the Jacobian is J_x diag(dx/du)."""
    positive = np.arange(len(start.theta))[start.free] < problem.layout.n_lj

    def to_x(u):
        return np.where(positive, np.exp(np.clip(u, -700, 700)), u)

    def jacobian(u):
        x = to_x(u)
        return problem.jacobian(x) * np.where(positive, x, 1.0)

    u0 = np.where(positive, np.log(np.maximum(x0, 1e-300)), x0)
    with np.errstate(all="ignore"):
        result = least_squares(lambda u: problem.residuals(to_x(u)), u0, jac=jacobian, method="lm",
                               ftol=HOP_TOL, xtol=HOP_TOL, gtol=HOP_TOL, max_nfev=options.max_nfev)
    x = to_x(result.x)
    cost = 0.5 * problem.residual_sum_of_squares(x) if np.all(np.isfinite(result.fun)) else np.inf
    return Outcome(x, cost, int(result.nfev), int(result.njev or result.nfev), int(result.status),
                   str(result.message), bool(result.status > 0), np.zeros(len(x), int), origin="hop")


def _bounded_hop_fit(problem: Problem, start: Start, options: FitOptions, x0: np.ndarray) -> Outcome:
    hop_options = FitOptions(algorithm="trf" if options.algorithm == "lm" else options.algorithm, loss=options.loss,
                             f_scale=options.f_scale, ftol=max(options.ftol, 1e-10), xtol=max(options.xtol, 1e-10),
                             gtol=max(options.gtol, 1e-10), max_nfev=options.max_nfev)
    run = _least_squares(problem, start, hop_options, x0)
    run.origin = "hop"
    return run


def _interior(x: np.ndarray, start: Start) -> np.ndarray:
    """x nudged strictly inside finite bounds (least_squares' trf needs a strictly feasible start)."""
    lower, upper = start.lower[start.free], start.upper[start.free]
    span = np.where(np.isfinite(upper - lower), upper - lower, np.maximum(np.abs(x), 1.0))
    return np.clip(x, lower + 1e-10 * span, upper - 1e-10 * span)


def distinct_minima(runs: list[Outcome], rtol: float = 1e-3, cost_rtol: float = 1e-8) -> list[Minimum]:
    """Local minima whose parameters differ by more than ``rtol`` and costs by more than ``cost_rtol``
    (relative; equal costs at other parameters are one valley the data do not determine), best first."""
    minima: list[Minimum] = []

    def same(run, m):
        return np.allclose(run.x, m.x, rtol=rtol, atol=0) or abs(run.cost - m.cost) <= cost_rtol * abs(m.cost)
    for run in sorted(runs, key=lambda r: r.cost):
        if np.isfinite(run.cost) and not any(same(run, m) for m in minima):
            minima.append(Minimum(cost=float(run.cost), x=run.x, origin=run.origin))
    return minima
