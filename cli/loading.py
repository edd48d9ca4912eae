"""Reading inputs and reducing them to moments (in worker processes for large inputs), with progress."""
import importlib

from .options import data_config, model_config


def length_to_angstrom(kw: dict, value: float | None) -> float | None:
    from fitcore.units import length_factor
    return None if value is None else value * length_factor(kw["length_unit"])


def load(kw: dict, reporter, cutoff: float | None, shift: bool, with_forces: bool, need_energies: bool = False,
         warm: tuple[str, ...] = ("torch", "scipy.optimize"), counting_only: bool = False,
         cutoff_needed: str = "--cutoff"):
    """(dataset, moments, model options) for a command's data and interaction options.

    The modules in ``warm`` are imported while the workers read: the start-up costs overlap.
    ``counting_only`` (inspect): non-periodic frames get all their pairs, and no physics warnings.
    """
    from fitcore.pipeline import PendingReduction, Reduction, worker_count
    model = model_config(kw, cutoff, shift)
    job = Reduction(data_config(kw), model.scheme, model.scope, with_forces, counting_only, cutoff_needed)
    with reporter.progress("reading, pairs and moments", None) as update:
        pending = PendingReduction(list(kw["files"]), job, worker_count(kw.get("threads")), update)
        for module in warm:
            importlib.import_module(module)
        dataset, moments = pending.result()
    if need_energies:
        from fitcore.io.inputs import require_energies
        require_energies(dataset)
    if not counting_only:
        from fitcore.workflow import warn_thin_cells
        warn_thin_cells(dataset, model.cutoff)
    return dataset, moments, model
