"""The fit job: dataset and moments -> layout, targets, start -> problem -> fit -> result.

``fit_dataset`` is what the CLI (and scripts) call; it never prints: what a careful
reader should know becomes a LjfitWarning or a note in the result.
"""
import warnings
from dataclasses import replace

import numpy as np

from .dataset import Dataset
from .engine import make_engine
from .errors import InputError, LjfitWarning
from .fit import FitOptions, build_start, layout_for, run_fit
from .guess import initial_guess
from .linear import linear_system
from .model import offset_design
from .moments import Moments, fixed_terms, pair_type_names, pair_types
from .params import Layout, canonical_mixing
from .problem import Problem, Targets, Weighting
from .result import FitResult, summarize
from .spec import FitSpec, ModelOptions


def warn_frames_without_forces(dataset: Dataset) -> None:
    """A warning naming the first frame without reference forces when others have them: the fit uses
    the energies of such frames only."""
    without = np.flatnonzero(~dataset.has_forces & (dataset.atoms_per_frame > 0))
    if not len(without):
        return
    k = int(without[0])
    warnings.warn(LjfitWarning(f"--forces: {len(without)} of {dataset.n_frames} frames carry no forces (the first: "
                               f"frame {dataset.names[k]}, {dataset.frame_location(k)}); only their energies are "
                               f"fitted"), stacklevel=3)


def targets_for(dataset: Dataset, layout: Layout, with_forces: bool, moments: Moments | None = None) -> Targets:
    fixed_energies, fixed_forces = fixed_terms(dataset, moments)
    return Targets(energies=dataset.energies, weights=dataset.weights, n_atoms=dataset.atoms_per_frame.astype(float),
                   offset_design=offset_design(layout, dataset),
                   forces=dataset.forces if with_forces else None,
                   atom_frame=dataset.frame_index if with_forces else None,
                   fixed_energies=fixed_energies, fixed_forces=fixed_forces if with_forces else None)


def fit_dataset(dataset: Dataset, moments: Moments, model: ModelOptions, spec: FitSpec, options: FitOptions,
                progress=None, validation=None) -> FitResult:
    """Fit ``spec`` to the dataset under ``model`` with the optimizer ``options``."""
    mixing = canonical_mixing(spec.mixing or model.pair_form.default_mixing)
    if spec.forces and (dataset.forces is None or not dataset.has_forces.any()):
        raise InputError("--forces: no frame carries forces (a forces:R:3 column)")
    if spec.forces:
        warn_frames_without_forces(dataset)
    mentioned = list(spec.init) + list(spec.fixed) + list(spec.bounds)
    layout = layout_for(dataset.type_names, mixing, spec.offset, dataset.species_names, mentioned, spec.init_params)
    layout = replace(layout, form=model.pair_form)
    notes = []
    if layout.per_type and spec.init_params is not None and spec.init_params.layout.pairs:
        notes.append(f"the pairs of the init file have their own parameters here too (overrides of the mixing "
                     f"rule): {', '.join(layout.pair_name(a, b) for a, b in layout.pairs)}")
    if mixing == "none":
        layout = _only_present_pairs(layout, moments)
    targets = targets_for(dataset, layout, spec.forces, moments)
    weighting = Weighting(per_atom=spec.per_atom, forces=spec.forces, force_weight=spec.force_weight)
    _warn_undetermined_offsets(layout, dataset)
    system = linear_system(moments, targets, weighting)
    guess, guess_notes = initial_guess(layout, system, moments.pair_count)
    start = build_start(layout, guess, notes + guess_notes, spec.init, spec.init_params, list(spec.fixed), spec.bounds)
    engine = make_engine(dataset, moments, model, layout.type_names)
    compressed = system if options.loss == "linear" and model.engine == "moments" else None
    problem = Problem(layout=layout, engine=engine, targets=targets, weighting=weighting, theta0=start.theta,
                      free=start.free, system=compressed)
    outcome = run_fit(problem, start, options, progress, extra_starts(layout, start))
    prior = None
    if spec.prior is not None:
        prior = _prior(spec, dataset.type_names, problem, start, outcome)
        problem, outcome = _fit_with_prior(problem, prior, start, outcome, options, progress)
    outcome.minima = [_with_rmse(problem, m) for m in outcome.minima[:MINIMA_REPORTED]]
    absent = tuple(n for n, c in zip(pair_type_names(dataset.type_names), moments.pair_count) if c == 0)
    result = summarize(problem, start, outcome, options, model, absent)
    result = replace(result, prior=prior, identifiability=_identifiability(problem, start, outcome, moments, prior))
    result = _flag_implausible(_note_minima(result))
    if validation is not None and (validation.cv or validation.bootstrap):
        from .validation import validate
        names = [n for n, f in zip(layout.names, start.free) if f]
        seeded = validation if validation.seed is not None else replace(validation, seed=outcome.seed)
        result = replace(result, validation=validate(dataset, moments, targets, weighting, layout, start,
                                                     result.params.values, prior, seeded, names))
    _warn_poor_fit(result, layout)
    return result


MINIMA_REPORTED = 20


def _prior(spec: FitSpec, type_names, problem: Problem, start, outcome):
    """The prior of --prior, weighed by the noise scale of the fit without it (prior.py)."""
    from .prior import make_prior, prior_source
    values = prior_source(spec.prior, type_names)
    rss = problem.residual_sum_of_squares(outcome.x, exact=True)
    scale = float(np.sqrt(rss / problem.n_residuals)) or 1e-12
    return make_prior(spec.prior, values, problem.layout, start.free, spec.prior_width, spec.prior_weight, scale)


def _fit_with_prior(problem: Problem, prior, start, outcome, options: FitOptions, progress):
    """The fit again with the prior's rows, from the fit without them and from the prior's values."""
    from .prior import PriorProblem
    with_prior = PriorProblem(problem, prior)
    at_prior = start.theta.copy()
    free_index = np.flatnonzero(start.free)
    at_prior[free_index[prior.index]] = prior.mean
    moved = replace(start, theta=np.where(start.free, 0.0, start.theta))
    moved.theta[start.free] = outcome.x
    return with_prior, run_fit(with_prior, moved, options, progress, (("prior", at_prior),))


def _identifiability(problem, start, outcome, moments: Moments, prior):
    from .identifiability import identifiability
    data = problem.problem if prior is not None else problem
    names = [n for n, f in zip(problem.layout.names, start.free) if f]
    return identifiability(data.jacobian(outcome.x), outcome.x, names, problem.layout, moments.pair_count,
                           None if prior is None else prior.jacobian(outcome.x))


def extra_starts(layout: Layout, start) -> tuple[tuple[str, np.ndarray], ...]:
    """Starting points besides the data guess: UFF values, when every type is a chemical element."""
    from .uff import uff_start
    theta = uff_start(layout, start.theta, start.origin)
    return (("uff", theta),) if theta is not None else ()


def _with_rmse(problem: Problem, minimum):
    import torch
    with torch.no_grad():
        energies = problem.predict(problem.theta(minimum.x))[0].cpu().numpy()
    per = problem.targets.n_atoms if problem.weighting.per_atom else 1.0
    return replace(minimum, rmse=float(np.sqrt(np.mean(((energies - problem.targets.energies) / per) ** 2))))


def _note_minima(result: FitResult) -> FitResult:
    """A note when the starts (data guess, UFF, ...) ended in different minima."""
    minima = [m for m in result.optimizer.minima if m.origin != "hop"]
    if len(minima) < 2:
        return result
    kept, others = minima[0], minima[1:]
    text = "; ".join(f"cost {m.cost:.4g}, RMSE {m.rmse:.4g} eV from the {_start_name(m.origin)}" for m in others)
    note = (f"the starts ended in {len(minima)} different minima: kept cost {kept.cost:.4g}, RMSE {kept.rmse:.4g} eV "
            f"(from the {_start_name(kept.origin)}); also {text}")
    return replace(result, notes=result.notes + (note,))


def _start_name(origin: str) -> str:
    return {"data": "data guess", "user": "given values", "uff": "UFF values", "prior": "prior's values"}.get(
        origin, origin)


def _flag_implausible(result: FitResult) -> FitResult:
    """Adds the flag "implausible" to free epsilon and sigma outside plausibility.PLAUSIBLE, with a warning."""
    from .plausibility import implausible, implausible_message
    layout, theta = result.params.layout, result.params.values
    flagged = implausible(layout, theta, result.free)
    if not flagged.any():
        return result
    warnings.warn(LjfitWarning(implausible_message(layout, theta, flagged)), stacklevel=3)
    flags = tuple(f + ("implausible",) if bad else f for f, bad in zip(result.flags, flagged))
    return replace(result, flags=flags)


def _warn_poor_fit(result: FitResult, layout: Layout) -> None:
    """A fit worse than the mean of the energies is almost always a setup problem: say what to try."""
    r2 = result.energy.r2
    if r2 is None or r2 >= 0:
        return
    hint = ("do the reference energies have another zero? try --offset constant (or per-species)"
            if layout.offset == "none" else "try other starting values (--init) or --method basinhopping")
    warnings.warn(LjfitWarning(f"the fit explains the energies worse than their mean does (R² = {r2:.3g}): "
                               f"{hint}"), stacklevel=2)


def _warn_undetermined_offsets(layout: Layout, dataset: Dataset) -> None:
    """Per-species offsets need compositions that are not all proportional."""
    if layout.offset != "per-species":
        return
    counts = dataset.species_counts
    rank = np.linalg.matrix_rank(counts.astype(float))
    if rank < counts.shape[1]:
        warnings.warn(LjfitWarning(
            f"--offset per-species: the frames' compositions span only {rank} of {counts.shape[1]} dimensions "
            f"(collinear compositions), so the per-species offsets are not determined by the data"), stacklevel=2)


def _only_present_pairs(layout: Layout, moments: Moments) -> Layout:
    a, b = pair_types(layout.n_types)
    present = {(int(x), int(y)) for x, y, c in zip(a, b, moments.pair_count) if c > 0}
    return replace(layout, pairs=tuple(p for p in layout.pairs if p in present))
