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
from .moments import Moments, pair_type_names, pair_types
from .params import Layout, canonical_mixing
from .problem import Problem, Targets, Weighting
from .result import FitResult, summarize
from .spec import FitSpec, ModelOptions


def targets_for(dataset: Dataset, layout: Layout, with_forces: bool) -> Targets:
    return Targets(energies=dataset.energies, weights=dataset.weights, n_atoms=dataset.atoms_per_frame.astype(float),
                   offset_design=offset_design(layout, dataset),
                   forces=dataset.forces if with_forces else None,
                   atom_frame=dataset.frame_index if with_forces else None)


def fit_dataset(dataset: Dataset, moments: Moments, model: ModelOptions, spec: FitSpec, options: FitOptions,
                progress=None) -> FitResult:
    """Fit ``spec`` to the dataset under ``model`` with the optimizer ``options``."""
    mixing = canonical_mixing(spec.mixing or model.pair_form.default_mixing)
    if spec.forces and (dataset.forces is None or not dataset.has_forces.any()):
        raise InputError("--forces: no frame carries forces (a forces:R:3 column)")
    mentioned = list(spec.init) + list(spec.fixed) + list(spec.bounds)
    layout = layout_for(dataset.type_names, mixing, spec.offset, dataset.species_names, mentioned, spec.init_params)
    layout = replace(layout, form=model.pair_form)
    notes = []
    if layout.per_type and spec.init_params is not None and spec.init_params.layout.pairs:
        notes.append(f"the pairs of the init file have their own parameters here too (overrides of the mixing "
                     f"rule): {', '.join(layout.pair_name(a, b) for a, b in layout.pairs)}")
    if mixing == "none":
        layout = _only_present_pairs(layout, moments)
    targets = targets_for(dataset, layout, spec.forces)
    weighting = Weighting(per_atom=spec.per_atom, forces=spec.forces, force_weight=spec.force_weight)
    _warn_undetermined_offsets(layout, dataset)
    system = linear_system(moments, targets, weighting)
    guess, guess_notes = initial_guess(layout, system, moments.pair_count)
    start = build_start(layout, guess, notes + guess_notes, spec.init, spec.init_params, list(spec.fixed), spec.bounds)
    engine = make_engine(dataset, moments, model, layout.type_names)
    compressed = system if options.loss == "linear" and model.engine == "moments" else None
    problem = Problem(layout=layout, engine=engine, targets=targets, weighting=weighting, theta0=start.theta,
                      free=start.free, system=compressed)
    outcome = run_fit(problem, start, options, progress)
    absent = tuple(n for n, c in zip(pair_type_names(dataset.type_names), moments.pair_count) if c == 0)
    result = summarize(problem, start, outcome, options, model, absent)
    _warn_poor_fit(result, layout)
    return result


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
