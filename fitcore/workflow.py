"""The library's top level: data -> moments -> problem -> fit or prediction.

These functions are what the CLI calls; they stay free of printing and of click.
"""
from dataclasses import dataclass, field, replace

import numpy as np

from .dataset import Dataset
from .errors import InputError
from .moments import CutoffScheme, Moments, compute_moments, pair_type_names, remap_types
from .params import LJParams, canonical_mixing
from .potential import LJ, Form


@dataclass(frozen=True)
class ModelOptions:
    cutoff: float | None = None  # Å
    shift: bool = False
    scope: str = "all"  # or "inter-fragment"
    engine: str = "moments"
    device: str = "cpu"
    dtype: str = "float64"
    form: Form = LJ  # the pair form (potential.py)
    tail: bool = False  # the analytic tail correction (periodic frames)

    @property
    def scheme(self) -> CutoffScheme:
        return CutoffScheme(self.cutoff, self.shift, self.tail, self.form.exponents)


@dataclass(frozen=True)
class FitSpec:
    """What is fitted: mixing, offsets, starting values, fixed parameters, bounds, weighting."""
    mixing: str | None = None  # None: the form's default (sixthpower for lj96, else lorentz-berthelot)
    offset: str = "none"
    init: dict = field(default_factory=dict)  # name -> value (eV, Å)
    init_params: LJParams | None = None
    fixed: tuple[str, ...] = ()
    bounds: dict = field(default_factory=dict)  # name -> (lower, upper)
    forces: bool = False
    force_weight: float = 1.0
    per_atom: bool = False


def torch_dtype(name: str):
    import torch
    return {"float64": torch.float64, "float32": torch.float32}[name]


def check_device(device: str) -> str:
    import torch
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {device}: CUDA is not available on this machine (use --device cpu)")
    try:
        torch.empty(0, device=device)
    except (RuntimeError, ValueError) as err:
        raise InputError(f"--device {device}: {err}") from None
    return device


def reduce(dataset: Dataset, model: ModelOptions, with_forces: bool, progress=None) -> Moments:
    """Pair moments of the dataset (energies, and forces if asked)."""
    warn_thin_cells(dataset, model.cutoff)
    return compute_moments(dataset, model.scheme, model.scope, with_forces, progress=progress)


def warn_thin_cells(dataset: Dataset, cutoff: float | None) -> None:
    """Cells thinner than 2 rc are handled here (all images count) but not by minimum-image codes."""
    if cutoff is None or not dataset.pbc.any():
        return
    from .cells import cell_widths
    widths = cell_widths(dataset.cells, dataset.pbc).min(axis=1)
    thin = np.flatnonzero(widths < 2 * cutoff)
    if len(thin):
        import warnings

        from .errors import LjfitWarning
        warnings.warn(LjfitWarning(
            f"{len(thin)} of {dataset.n_frames} frames have a periodic cell thinner than twice the cutoff "
            f"(thinnest {widths.min():.3g} Å < 2 x {cutoff:g} Å): ljfit counts every periodic image, but codes "
            f"that use the minimum-image convention would give other energies"), stacklevel=2)


def make_engine(dataset: Dataset, moments: Moments | None, model: ModelOptions, type_names: tuple[str, ...]):
    import torch  # noqa: F401  (engines are torch)

    from .model import DirectEngine, MomentEngine
    device, dtype = check_device(model.device), torch_dtype(model.dtype)
    if model.engine == "direct":
        return DirectEngine(dataset, model.scheme, model.scope, device, dtype, type_names)
    return MomentEngine(remap_types(moments, type_names), device, dtype)


def targets_for(dataset: Dataset, layout, with_forces: bool):
    from .model import offset_design
    from .problem import Targets
    return Targets(dataset.energies, dataset.weights, dataset.atoms_per_frame.astype(float),
                   offset_design(layout, dataset),
                   dataset.forces if with_forces else None,
                   dataset.frame_index if with_forces else None)


def fit_dataset(dataset: Dataset, moments: Moments, model: ModelOptions, spec: FitSpec, options,
                progress=None):
    """Fit ``spec`` to the dataset; returns a FitResult."""
    from .fit import build_start, layout_for, run_fit
    from .guess import initial_guess
    from .linear import linear_system
    from .problem import Problem, Weighting
    from .result import summarize

    mixing = canonical_mixing(spec.mixing or model.form.default_mixing)
    with_forces = spec.forces
    if with_forces and (dataset.forces is None or not dataset.has_forces.any()):
        raise InputError("--forces: no frame carries forces (a forces:R:3 column)")
    mentioned = list(spec.init) + list(spec.fixed) + list(spec.bounds)
    layout = layout_for(dataset.type_names, mixing, spec.offset, dataset.species_names, mentioned, spec.init_params)
    layout = replace(layout, form=model.form)
    notes = []
    if layout.per_type and spec.init_params is not None and spec.init_params.layout.pairs:
        notes.append(f"the pairs of the init file have their own parameters here too (overrides of the mixing "
                     f"rule): {', '.join(layout.pair_name(a, b) for a, b in layout.pairs)}")
    if mixing == "none":
        layout = _only_present_pairs(layout, moments)
    targets = targets_for(dataset, layout, with_forces)
    weighting = Weighting(spec.per_atom, with_forces, spec.force_weight)
    _warn_undetermined_offsets(layout, dataset)
    system = linear_system(moments, targets, weighting)
    guess, guess_notes = initial_guess(layout, system, moments.pair_count)
    start = build_start(layout, guess, notes + guess_notes, spec.init, spec.init_params, list(spec.fixed), spec.bounds)
    engine = make_engine(dataset, moments, model, layout.type_names)
    compressed = system if options.loss == "linear" and model.engine == "moments" else None
    problem = Problem(layout, engine, targets, weighting, start.theta, start.free, compressed)
    outcome = run_fit(problem, start, options, progress)
    absent = tuple(n for n, c in zip(pair_type_names(dataset.type_names), moments.pair_count) if c == 0)
    params = LJParams(layout, start.theta, model.cutoff, model.shift, tail=model.tail)
    result = summarize(problem, start, outcome, params, absent)
    _warn_poor_fit(result, layout)
    return result


def _warn_poor_fit(result, layout) -> None:
    """A fit worse than the mean of the energies is almost always a setup problem: say what to try."""
    r2 = result.statistics["energy"].get("r2")
    if r2 is None or r2 >= 0:
        return
    import warnings

    from .errors import LjfitWarning
    hint = ("do the reference energies have another zero? try --offset constant (or per-species)"
            if layout.offset == "none" else "try other starting values (--init) or --method basinhopping")
    warnings.warn(LjfitWarning(f"the fit explains the energies worse than their mean does (R² = {r2:.3g}): "
                               f"{hint}"), stacklevel=2)


def _warn_undetermined_offsets(layout, dataset: Dataset) -> None:
    """Per-species offsets need compositions that are not all proportional."""
    if layout.offset != "per-species":
        return
    import warnings

    from .errors import LjfitWarning
    counts = dataset.species_counts
    rank = np.linalg.matrix_rank(counts.astype(float))
    if rank < counts.shape[1]:
        warnings.warn(LjfitWarning(
            f"--offset per-species: the frames' compositions span only {rank} of {counts.shape[1]} dimensions "
            f"(collinear compositions), so the per-species offsets are not determined by the data"), stacklevel=2)


def _only_present_pairs(layout, moments: Moments):
    from .moments import pair_types
    a, b = pair_types(layout.n_types)
    present = {(int(x), int(y)) for x, y, c in zip(a, b, moments.pair_count) if c > 0}
    return replace(layout, pairs=tuple(p for p in layout.pairs if p in present))


def predict_dataset(dataset: Dataset, moments: Moments | None, params: LJParams, model: ModelOptions,
                    with_forces: bool, source: str = "the parameters") -> tuple[np.ndarray, np.ndarray | None]:
    """Energies [n_frames] eV and forces [n_atoms, 3] eV/Å (or None) from ``params`` (read from ``source``)."""
    import torch

    from .model import coefficients, offset_design
    layout = params.layout
    if (model.form, model.tail) != (params.form, params.tail):
        raise InputError(f"{source}: the parameters are for potential {params.form.label} (tail {params.tail}) but "
                         f"the model options say {model.form.label} (tail {model.tail})")
    missing = [t for t in dataset.type_names if t not in layout.type_names]
    if missing:
        raise InputError(f"{source}: no parameters for type(s) {', '.join(missing)} found in the data "
                         f"(it covers {', '.join(layout.type_names)})")
    _check_defined_pairs(params, moments, dataset, source)
    engine = make_engine(dataset, moments, model, layout.type_names)
    theta = torch.as_tensor(params.values, dtype=torch_dtype(model.dtype), device=model.device)
    with torch.no_grad():
        c12, c6 = coefficients(layout, theta)
        design = torch.as_tensor(offset_design(layout, dataset), dtype=theta.dtype, device=theta.device)
        energies = engine.energies(c12, c6) + design @ theta[layout.n_lj:]
        forces = engine.forces(c12, c6) if with_forces else None
    return energies.cpu().numpy(), (forces.cpu().numpy() if forces is not None else None)


def _check_defined_pairs(params: LJParams, moments: Moments | None, dataset: Dataset, source: str) -> None:
    """With mixing none, every pair type that occurs needs its own parameters."""
    if params.layout.per_type or moments is None:
        return
    from .moments import pair_types
    layout, names = params.layout, dataset.type_names
    defined = {layout.pair_name(p, q) for p, q in layout.pairs}
    for x, y, count in zip(*pair_types(len(names)), moments.pair_count):
        name = layout.pair_name(layout.type_names.index(names[x]), layout.type_names.index(names[y]))
        if count > 0 and name not in defined:
            raise InputError(f"{source}: mixing none, but there are no parameters for pair {name}, "
                             f"which occurs in the data")
