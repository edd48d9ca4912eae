"""Validation on the per-frame moments: K-fold cross-validation, the bootstrap, a held-out test set.

A frame's energy is one row of the linear system (linear.py): r_n = s_n (a_n . c(theta) - y_n)
with a_n = (A[n], -B[n], offset design[n]). Any subset or resample of frames is a subset of
rows (a frame drawn twice: its row times sqrt(2)), compressed again by one QR of at most
n_frames x k numbers, and refitted from the full-data optimum on that k x k system
(coefficient_map.py: no torch, no data pass). A refit costs milliseconds, so a whole
``--cv 5 --bootstrap 200`` is a few hundred of them.

- Cross-validation: the groups of frames (each frame, each file, or each value of an info
  key: ``--cv-group``) are shuffled with the seed and dealt into K folds; each fold is
  predicted by the fit to the others. Reported: RMSE and MAE of the held-out energies per
  fold and over all held-out frames, beside the training RMSE of each fold.
- Bootstrap: frames drawn with replacement N times (seeded), each refitted; the 2.5 and
  97.5 percentiles of each free parameter form its 95% interval.
- Test set: the fitted parameters' errors on frames not in the fit.

Refits run in this process, one after another (parallel processes would each start
torch and scipy, which costs more than the refits). With a prior (prior.py) every refit
keeps it. Energy fits only: with --forces the force rows of a frame would have to be
resampled with it (not done here).
"""
from dataclasses import dataclass

import numpy as np

from .coefficient_map import CoefficientMap
from .errors import InputError

CV_GROUPS = ("frame", "file")  # or the name of an info key


@dataclass(frozen=True, kw_only=True)
class FoldStats:
    rmse: float  # held-out energies, eV (per atom with per_atom)
    mae: float
    train_rmse: float
    n_test: int


@dataclass(frozen=True, kw_only=True)
class Validation:
    seed: int
    cv_group: str | None = None
    folds: tuple[FoldStats, ...] = ()
    cv_rmse: float | None = None  # over all held-out frames
    cv_mae: float | None = None
    bootstrap_n: int = 0
    ci95: dict | None = None  # free parameter name -> (low, high), eV and Å
    bootstrap_failed: int = 0  # resamples whose refit did not converge (left out)
    test: object | None = None  # result.ErrorStats of the held-out test set


class RowProblem:
    """Residuals R c(theta) - z of a row subset, compressed; the same interface as problem.Problem for fit.py."""

    def __init__(self, layout, rows: np.ndarray, target: np.ndarray, theta0: np.ndarray, free: np.ndarray, prior=None):
        q, self.matrix = np.linalg.qr(rows)
        self.target = q.T @ target
        outside = target - q @ self.target
        self.rest = float(outside @ outside)
        self.layout, self.theta0, self.free, self.prior = layout, theta0, free, prior
        self.coefficient_map = CoefficientMap(layout)
        self.n_residuals = len(target)

    @property
    def constant_cost(self) -> float:
        return 0.5 * self.rest

    def theta_of(self, x) -> np.ndarray:
        theta = self.theta0.copy()
        theta[self.free] = x
        return theta

    def residuals(self, x) -> np.ndarray:
        with np.errstate(all="ignore"):
            r = self.matrix @ self.coefficient_map(self.theta_of(x))[0] - self.target
        return r if self.prior is None else np.concatenate([r, self.prior.rows(np.asarray(x, float))])

    def jacobian(self, x) -> np.ndarray:
        with np.errstate(all="ignore"):
            jac = self.matrix @ self.coefficient_map(self.theta_of(x))[1][:, self.free]
        return jac if self.prior is None else np.vstack([jac, self.prior.jacobian(np.asarray(x, float))])

    def residual_sum_of_squares(self, x, exact: bool = False) -> float:
        r = self.residuals(x)
        return float(r @ r) + self.rest


@dataclass(frozen=True, kw_only=True)
class ValidationOptions:
    cv: int = 0  # folds; 0: none
    cv_group: str = "frame"  # frame, file, or an info key
    bootstrap: int = 0  # resamples; 0: none
    seed: int | None = None  # None: the fit's seed, else drawn (and recorded)


def validate(dataset, moments, targets, weighting, layout, start, theta, prior, options: ValidationOptions,
             names: list[str]) -> Validation:
    """Cross-validation and bootstrap of the fit whose optimum is ``theta`` (see the module docstring)."""
    seed = options.seed if options.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    rows = frame_rows(moments, targets, weighting, layout, start, theta, prior)
    fields = {}
    if options.cv:
        folds, rmse, mae = cross_validate(rows, frame_groups(dataset, options.cv_group), options.cv, rng)
        fields.update(cv_group=options.cv_group, folds=folds, cv_rmse=rmse, cv_mae=mae)
    if options.bootstrap:
        ci95, failed = bootstrap(rows, options.bootstrap, rng, names)
        fields.update(bootstrap_n=options.bootstrap, ci95=ci95, bootstrap_failed=failed)
    return Validation(seed=seed, **fields)


@dataclass(frozen=True, kw_only=True, eq=False)
class FrameRows:
    """Everything a refit needs, per frame."""
    layout: object
    raw: np.ndarray  # [n_frames, k] a_n: energy = raw @ c
    scale: np.ndarray  # [n_frames] s_n (sqrt weight, / n_atoms with per_atom)
    energies: np.ndarray  # [n_frames] eV
    per: np.ndarray | float  # n_atoms with per_atom, else 1
    start: object  # fit.Start of the full fit
    theta: np.ndarray  # [n_params] the full-data optimum
    prior: object | None

    def refit(self, counts: np.ndarray) -> tuple[np.ndarray, bool]:
        """theta fitted to the frames drawn ``counts`` [n_frames] times, from the full-data optimum."""
        from .fit import _interior, _least_squares, _log_space_fit
        from .spec import FitOptions
        use = counts > 0
        w = np.sqrt(counts[use]) * self.scale[use]
        problem = RowProblem(self.layout, self.raw[use] * w[:, None], self.energies[use] * w, self.theta,
                             self.start.free, self.prior)
        x0 = _interior(self.theta[self.start.free], self.start)
        options = FitOptions(ftol=1e-10, xtol=1e-10, gtol=1e-10)
        if self.start.user_bounds:
            run = _least_squares(problem, self.start, options, x0)
        else:
            run = _log_space_fit(problem, self.start, options, x0)
        return problem.theta_of(run.x), bool(run.success and np.isfinite(run.cost))

    def predict(self, theta: np.ndarray, frames: np.ndarray) -> np.ndarray:
        return self.raw[frames] @ CoefficientMap(self.layout)(theta)[0]

    def errors(self, theta: np.ndarray, frames: np.ndarray) -> np.ndarray:
        per = self.per[frames] if np.ndim(self.per) else self.per
        return (self.predict(theta, frames) - self.energies[frames]) / per


def frame_rows(moments, targets, weighting, layout, start, theta, prior=None) -> FrameRows:
    if weighting.forces:
        raise InputError("--cv and --bootstrap refit energies only; they cannot be used with --forces")
    raw = np.hstack([moments.energy12, -moments.energy6, targets.offset_design])
    scale = np.sqrt(targets.weights) / (targets.n_atoms if weighting.per_atom else 1.0)
    return FrameRows(layout=layout, raw=raw, scale=scale, energies=targets.energies,
                     per=targets.n_atoms if weighting.per_atom else 1.0, start=start, theta=theta, prior=prior)


def frame_groups(dataset, group: str) -> np.ndarray:
    """[n_frames] group id of each frame for --cv-group frame|file|KEY."""
    if group == "frame":
        return np.arange(dataset.n_frames)
    if group == "file":
        labels = list(dataset.sources)
    else:
        missing = next((dataset.names[k] for k, info in enumerate(dataset.info) if group not in info), None)
        if missing is not None or len(dataset.info) != dataset.n_frames:
            raise InputError(f"--cv-group {group}: frame {missing} has no {group}= key "
                             f"(use frame, file, or a key every frame has)")
        labels = [str(info[group]) for info in dataset.info]
    _, ids = np.unique(labels, return_inverse=True)
    return ids


def cross_validate(rows: FrameRows, groups: np.ndarray, k: int, rng: np.random.Generator) -> tuple:
    """(folds, rmse, mae) of K-fold cross-validation over ``groups`` [n_frames]."""
    n_groups = int(groups.max()) + 1
    if not 2 <= k <= n_groups:
        raise InputError(f"--cv {k}: needs 2 to {n_groups} folds (there are {n_groups} groups of frames)")
    fold_of_group = np.empty(n_groups, int)
    fold_of_group[rng.permutation(n_groups)] = np.arange(n_groups) % k
    fold = fold_of_group[groups]
    folds, held_out = [], []
    for f in range(k):
        test = np.flatnonzero(fold == f)
        theta, _ = rows.refit((fold != f).astype(float))
        err = rows.errors(theta, test)
        train = rows.errors(theta, np.flatnonzero(fold != f))
        folds.append(FoldStats(rmse=_rms(err), mae=float(np.mean(np.abs(err))), train_rmse=_rms(train),
                               n_test=len(test)))
        held_out.append(err)
    err = np.concatenate(held_out)
    return tuple(folds), _rms(err), float(np.mean(np.abs(err)))


def bootstrap(rows: FrameRows, n: int, rng: np.random.Generator, names: list[str]) -> tuple[dict, int]:
    """({free parameter name: (2.5%, 97.5%)}, refits that failed) over ``n`` resamples of the frames."""
    n_frames = len(rows.energies)
    samples, failed = [], 0
    for _ in range(n):
        theta, ok = rows.refit(np.bincount(rng.integers(0, n_frames, n_frames), minlength=n_frames).astype(float))
        if ok:
            samples.append(theta[rows.start.free])
        else:
            failed += 1
    if not samples:
        raise InputError("--bootstrap: no resample could be refitted")
    low, high = np.percentile(np.array(samples), [2.5, 97.5], axis=0)
    return {name: (float(a), float(b)) for name, a, b in zip(names, low, high)}, failed


def _rms(err: np.ndarray) -> float:
    return float(np.sqrt(np.mean(err ** 2))) if len(err) else float("nan")
