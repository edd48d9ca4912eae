"""Validation on the per-frame moments: K-fold cross-validation, the bootstrap, a held-out test set.

A frame's energy is one row of the linear system (linear.py): r_n = s_n (a_n . c(theta) - y_n)
with a_n = (A[n], -B[n], offset design[n]). With --forces, a frame's force rows (3 per atom,
weight sqrt(force_weight w_n), the same for all of them) are compressed once, frame by frame, by
a QR of their own: ||S_n (F_n c - f_n)||^2 = s_fn^2 (||R_n c - z_n||^2 + rest_n), at most k rows
per frame (ForceBlocks). So a frame is at most k + 1 rows whatever its atoms, and its force rows
travel with it. Any subset or resample of frames is a subset of these rows (a frame drawn twice:
its rows times sqrt(2)), compressed again by one QR, and refitted from the full-data optimum on
that k x k system (coefficient_map.py: no torch, no data pass). A refit costs milliseconds.

- Cross-validation: the groups of frames (each frame, each file, or each value of an info
  key: ``--cv-group``) are shuffled with the seed and dealt into K folds; each fold is
  predicted by the fit to the others. Reported: RMSE and MAE of the held-out energies per
  fold and over all held-out frames, beside the training RMSE of each fold; with forces also
  the RMSE of the held-out and training force components (from R_n, z_n, rest_n: exact).
- Bootstrap: frames drawn with replacement N times, each refitted; the 2.5 and 97.5
  percentiles of each free parameter form its 95% interval.
- Test set: the fitted parameters' errors on frames not in the fit.

The refits run in this process or in forked workers (refits.py: the same numbers either way, for a
given seed). With a prior (prior.py) every refit keeps it.
"""
from dataclasses import dataclass, replace

import numpy as np

from .coefficient_map import CoefficientMap
from .errors import InputError
from .linear import fits_forces
from .refits import RefitPlan, run_refits

CV_GROUPS = ("frame", "file")  # or the name of an info key


@dataclass(frozen=True, kw_only=True)
class FoldStats:
    rmse: float  # held-out energies, eV (per atom with per_atom)
    mae: float
    train_rmse: float
    n_test: int
    force_rmse: float | None = None  # held-out force components, eV/Å (with forces)
    train_force_rmse: float | None = None


@dataclass(frozen=True, kw_only=True)
class Validation:
    seed: int
    cv_group: str | None = None
    folds: tuple[FoldStats, ...] = ()
    cv_rmse: float | None = None  # over all held-out frames
    cv_mae: float | None = None
    cv_force_rmse: float | None = None  # over all held-out force components (with forces), eV/Å
    bootstrap_n: int = 0
    ci95: dict | None = None  # free parameter name -> (low, high), eV and Å
    bootstrap_failed: int = 0  # resamples whose refit did not converge (left out)
    test: object | None = None  # result.ErrorStats of the held-out test set
    processes: int = 1  # processes that ran the refits (refits.py)


class RowProblem:
    """Residuals R c(theta) - z of a row subset, compressed; the same interface as problem.Problem for fit.py.
    ``rest``: squared residual already left out of the rows (the per-frame compression of force rows)."""

    def __init__(self, layout, rows: np.ndarray, target: np.ndarray, theta0: np.ndarray, free: np.ndarray, prior=None,
                 rest: float = 0.0, n_residuals: int | None = None):
        q, self.matrix = np.linalg.qr(rows)
        self.target = q.T @ target
        outside = target - q @ self.target
        self.rest = float(outside @ outside) + rest
        self.layout, self.theta0, self.free, self.prior = layout, theta0, free, prior
        self.coefficient_map = CoefficientMap(layout)
        self.n_residuals = len(target) if n_residuals is None else n_residuals

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
    workers: int = 1  # processes for the refits (refits.py); 1: this one only


def validate(dataset, moments, targets, weighting, layout, start, theta, prior, options: ValidationOptions,
             names: list[str]) -> Validation:
    """Cross-validation and bootstrap of the fit whose optimum is ``theta`` (see the module docstring)."""
    seed = options.seed if options.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    rows = frame_rows(moments, targets, weighting, layout, start, theta, prior)
    fold = None
    if options.cv:
        fold = deal_folds(frame_groups(dataset, options.cv_group), options.cv, np.random.default_rng(seed))
    plan = RefitPlan(n_frames=len(rows.energies), fold=fold, n_folds=options.cv, n_bootstrap=options.bootstrap,
                     seed=seed)
    refits = run_refits(rows, plan, options.workers)
    fields = {}
    if options.cv:
        folds = fold_stats(rows, fold, refits.theta[:options.cv])
        fields.update(cv_group=options.cv_group, folds=folds, **held_out_stats(rows, fold, refits.theta[:options.cv]))
    if options.bootstrap:
        ci95, failed = percentile_intervals(refits.theta[options.cv:], refits.ok[options.cv:], rows.start.free, names)
        fields.update(bootstrap_n=options.bootstrap, ci95=ci95, bootstrap_failed=failed)
    return Validation(seed=seed, processes=refits.processes, **fields)


@dataclass(frozen=True, kw_only=True, eq=False)
class ForceBlocks:
    """Each frame's force rows, compressed by a QR of their own (unweighted):
    sum over the frame's force components of (F(c) - F_ref)^2 = ||R_n c - z_n||^2 + rest_n."""
    matrix: np.ndarray  # [n_rows, k] the R_n, frame after frame (at most k rows each)
    target: np.ndarray  # [n_rows] z_n, eV/Å
    frame: np.ndarray  # [n_rows] frame of each row
    rest: np.ndarray  # [n_frames] rest_n, (eV/Å)^2
    count: np.ndarray  # [n_frames] force components (3 per atom with forces)
    scale: np.ndarray  # [n_frames] sqrt(force_weight w_n): the weight of the frame's force rows

    def squared_errors(self, c: np.ndarray, frames: np.ndarray) -> tuple[float, int]:
        """(sum of squared force errors, force components) over ``frames``, at coefficients c."""
        mask = np.zeros(len(self.rest), bool)
        mask[frames] = True
        rows = mask[self.frame]
        err = self.matrix[rows] @ c - self.target[rows]
        return float(err @ err + self.rest[mask].sum()), int(self.count[mask].sum())


@dataclass(frozen=True, kw_only=True, eq=False)
class FrameRows:
    """Everything a refit needs, per frame."""
    layout: object
    raw: np.ndarray  # [n_frames, k] a_n: fitted energy = raw @ c
    scale: np.ndarray  # [n_frames] s_n (sqrt weight, / n_atoms with per_atom)
    energies: np.ndarray  # [n_frames] eV: what the LJ terms and offsets fit (reference minus fixed terms)
    per: np.ndarray | float  # n_atoms with per_atom, else 1
    start: object  # fit.Start of the full fit
    theta: np.ndarray  # [n_params] the full-data optimum
    prior: object | None
    forces: ForceBlocks | None = None  # with --forces

    def refit(self, counts: np.ndarray) -> tuple[np.ndarray, bool]:
        """theta fitted to the frames drawn ``counts`` [n_frames] times, from the full-data optimum."""
        from .fit import _interior, _least_squares, _log_space_fit
        from .spec import FitOptions
        problem = self.problem(counts)
        x0 = _interior(self.theta[self.start.free], self.start)
        options = FitOptions(ftol=1e-10, xtol=1e-10, gtol=1e-10)
        if self.start.user_bounds:
            run = _least_squares(problem, self.start, options, x0)
        else:
            run = _log_space_fit(problem, self.start, options, x0)
        return problem.theta_of(run.x), bool(run.success and np.isfinite(run.cost))

    def problem(self, counts: np.ndarray) -> "RowProblem":
        """The compressed least-squares problem of the frames drawn ``counts`` [n_frames] times."""
        use = counts > 0
        w = np.sqrt(counts[use]) * self.scale[use]
        rows, target, rest, n = [self.raw[use] * w[:, None]], [self.energies[use] * w], 0.0, int(counts.sum())
        if self.forces is not None:
            f = self.forces
            wf = np.sqrt(counts[f.frame]) * f.scale[f.frame]
            keep = wf > 0
            rows.append(f.matrix[keep] * wf[keep, None])
            target.append(f.target[keep] * wf[keep])
            rest, n = float(np.sum(counts * f.scale ** 2 * f.rest)), n + int(counts @ f.count)
        return RowProblem(self.layout, np.vstack(rows), np.concatenate(target), self.theta, self.start.free,
                          self.prior, rest, n)

    def predict(self, theta: np.ndarray, frames: np.ndarray) -> np.ndarray:
        return self.raw[frames] @ CoefficientMap(self.layout)(theta)[0]

    def errors(self, theta: np.ndarray, frames: np.ndarray) -> np.ndarray:
        per = self.per[frames] if np.ndim(self.per) else self.per
        return (self.predict(theta, frames) - self.energies[frames]) / per

    def force_rmse(self, theta: np.ndarray, frames: np.ndarray) -> float | None:
        """RMSE of the force components of ``frames`` (eV/Å); None without forces."""
        if self.forces is None:
            return None
        total, count = self.forces.squared_errors(CoefficientMap(self.layout)(theta)[0], frames)
        return float(np.sqrt(total / count)) if count else float("nan")


def frame_rows(moments, targets, weighting, layout, start, theta, prior=None) -> FrameRows:
    raw = np.hstack([moments.energy12, -moments.energy6, targets.offset_design])
    scale = np.sqrt(targets.weights) / (targets.n_atoms if weighting.per_atom else 1.0)
    forces = force_blocks(moments, targets, weighting) if fits_forces(moments, targets, weighting) else None
    return FrameRows(layout=layout, raw=raw, scale=scale, energies=targets.fitted_energies(),
                     per=targets.n_atoms if weighting.per_atom else 1.0, start=start, theta=theta, prior=prior,
                     forces=forces)


def force_blocks(moments, targets, weighting, chunk: int = 20_000) -> ForceBlocks:
    """The force rows of every frame compressed frame by frame (frames of equal size in one batched QR),
    in chunks of about ``chunk`` atoms (linear.force_rows builds them)."""
    from .linear import force_rows
    from .problem import Weighting
    n_frames = len(targets.energies)
    atoms = np.flatnonzero(np.isfinite(targets.forces[:, 0]))  # in frame order
    per_frame = np.bincount(targets.atom_frame[atoms], minlength=n_frames)
    unweighted = replace(targets, weights=np.ones(n_frames))
    first_atom = np.concatenate([[0], np.cumsum(per_frame)])
    blocks = []
    for frames in _frame_chunks(per_frame, chunk):
        span = atoms[first_atom[frames[0]]:first_atom[frames[-1] + 1]]
        rows, y = force_rows(moments, unweighted, Weighting(forces=True), span)
        first_row = 3 * (first_atom[frames] - first_atom[frames[0]])
        for size in np.unique(per_frame[frames]):
            same = frames[per_frame[frames] == size]
            index = first_row[per_frame[frames] == size][:, None] + np.arange(3 * size)
            blocks.append((same, *_batched_qr(rows[index], y[index])))
    frame = np.concatenate([np.repeat(f, r.shape[1]) for f, r, _, _ in blocks] or [np.zeros(0, int)])
    order = np.argsort(frame, kind="stable")
    rest = np.zeros(n_frames)
    for f, _, _, outside in blocks:
        rest[f] = outside
    k = 2 * moments.energy12.shape[1] + targets.offset_design.shape[1]
    return ForceBlocks(matrix=np.concatenate([r.reshape(-1, k) for _, r, _, _ in blocks] or [np.zeros((0, k))])[order],
                       target=np.concatenate([z.ravel() for _, _, z, _ in blocks] or [np.zeros(0)])[order],
                       frame=frame[order],
                       rest=rest, count=3 * per_frame,
                       scale=np.sqrt(weighting.force_weight * targets.weights))


def _frame_chunks(per_frame: np.ndarray, chunk: int):
    """Runs of consecutive frames with atoms (forces) of about ``chunk`` atoms each."""
    frames = np.flatnonzero(per_frame)
    ends = np.cumsum(per_frame[frames])
    cuts = np.searchsorted(ends, np.arange(chunk, ends[-1] if len(ends) else 0, chunk), side="right")
    return [part for part in np.split(frames, np.unique(cuts)) if len(part)]


def _batched_qr(rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R [g, p, k], z [g, p] and the squared residual outside [g] of g blocks rows [g, m, k], y [g, m]."""
    q, r = np.linalg.qr(rows)
    z = np.einsum("gmp,gm->gp", q, y)
    outside = y - np.einsum("gmp,gp->gm", q, z)
    return r, z, np.einsum("gm,gm->g", outside, outside)


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


def deal_folds(groups: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """[n_frames] fold of each frame: the groups [n_frames] shuffled and dealt into ``k`` folds."""
    n_groups = int(groups.max()) + 1
    if not 2 <= k <= n_groups:
        raise InputError(f"--cv {k}: needs 2 to {n_groups} folds (there are {n_groups} groups of frames)")
    fold_of_group = np.empty(n_groups, int)
    fold_of_group[rng.permutation(n_groups)] = np.arange(n_groups) % k
    return fold_of_group[groups]


def fold_stats(rows: FrameRows, fold: np.ndarray, thetas: np.ndarray) -> tuple[FoldStats, ...]:
    """Held-out and training errors of each fold f, fitted to the others at ``thetas[f]``."""
    stats = []
    for f, theta in enumerate(thetas):
        test, train = np.flatnonzero(fold == f), np.flatnonzero(fold != f)
        err = rows.errors(theta, test)
        stats.append(FoldStats(rmse=_rms(err), mae=float(np.mean(np.abs(err))),
                               train_rmse=_rms(rows.errors(theta, train)), n_test=len(test),
                               force_rmse=rows.force_rmse(theta, test), train_force_rmse=rows.force_rmse(theta, train)))
    return tuple(stats)


def held_out_stats(rows: FrameRows, fold: np.ndarray, thetas: np.ndarray) -> dict:
    """cv_rmse, cv_mae (and cv_force_rmse) over every held-out frame, each predicted by its fold's fit."""
    err = np.concatenate([rows.errors(theta, np.flatnonzero(fold == f)) for f, theta in enumerate(thetas)])
    out = {"cv_rmse": _rms(err), "cv_mae": float(np.mean(np.abs(err)))}
    if rows.forces is not None:
        sums = [rows.forces.squared_errors(CoefficientMap(rows.layout)(theta)[0], np.flatnonzero(fold == f))
                for f, theta in enumerate(thetas)]
        total, count = map(sum, zip(*sums))
        out["cv_force_rmse"] = float(np.sqrt(total / count)) if count else float("nan")
    return out


def percentile_intervals(thetas: np.ndarray, ok: np.ndarray, free: np.ndarray, names: list[str]) -> tuple[dict, int]:
    """({free parameter name: (2.5%, 97.5%)}, refits that failed) of the bootstrap refits ``thetas``."""
    if not ok.any():
        raise InputError("--bootstrap: no resample could be refitted")
    low, high = np.percentile(thetas[ok][:, free], [2.5, 97.5], axis=0)
    return {name: (float(a), float(b)) for name, a, b in zip(names, low, high)}, int((~ok).sum())


def cross_validate(rows: FrameRows, groups: np.ndarray, k: int, rng: np.random.Generator, workers: int = 1) -> tuple:
    """(folds, rmse, mae) of K-fold cross-validation over ``groups`` [n_frames]."""
    fold = deal_folds(groups, k, rng)
    thetas = run_refits(rows, RefitPlan(n_frames=len(fold), fold=fold, n_folds=k), workers).theta
    held_out = held_out_stats(rows, fold, thetas)
    return fold_stats(rows, fold, thetas), held_out["cv_rmse"], held_out["cv_mae"]


def bootstrap(rows: FrameRows, n: int, seed: int, names: list[str], workers: int = 1) -> tuple[dict, int]:
    """({free parameter name: (2.5%, 97.5%)}, refits that failed) over ``n`` resamples of the frames."""
    refits = run_refits(rows, RefitPlan(n_frames=len(rows.energies), n_bootstrap=n, seed=seed), workers)
    return percentile_intervals(refits.theta, refits.ok, rows.start.free, names)


def _rms(err: np.ndarray) -> float:
    return float(np.sqrt(np.mean(err ** 2))) if len(err) else float("nan")
