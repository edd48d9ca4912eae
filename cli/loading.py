"""Reading inputs and reducing them to moments (in worker processes for large inputs), with progress."""
import importlib

from .options import data_config, model_config


def length_to_angstrom(kw: dict, value: float | None) -> float | None:
    from fitcore.units import length_factor
    return None if value is None else value * length_factor(kw["length_unit"])


def load(kw: dict, reporter, cutoff: float | None, shift: bool, with_forces: bool, need_energies: bool = False,
         warm: tuple[str, ...] = ("torch", "scipy.optimize"), counting_only: bool = False,
         cutoff_needed: str = "--cutoff", coordinates: bool = False):
    """(dataset, moments, model options) for a command's data and interaction options.

    The modules in ``warm`` are imported while the workers read: the start-up costs overlap.
    ``counting_only`` (inspect): non-periodic frames get all their pairs, and no physics warnings.
    ``coordinates``: keep positions and other columns (also kept for inspect and the direct engine).
    With ``kw["cache"]`` the reduction is looked up in, or stored to, that folder.
    """
    from fitcore.heap import keep_heap_margin
    from fitcore.io.inputs import finish_dataset
    from fitcore.pipeline import Reduction
    keep_heap_margin()
    model = model_config(kw, cutoff, shift)
    data = data_config(kw)
    coordinates = coordinates or counting_only or model.engine == "direct"
    job = Reduction(data, model.scheme, model.scope, with_forces, counting_only, cutoff_needed, coordinates)
    paths = list(kw["files"])  # globs expanded once, by the option's callback
    dataset, moments = _reduce(paths, job, kw, reporter, warm)
    dataset = finish_dataset(dataset, data)
    if need_energies:
        from fitcore.io.inputs import require_energies
        require_energies(dataset)
    if not counting_only:
        from fitcore.workflow import warn_thin_cells
        warn_thin_cells(dataset, model.cutoff)
    return dataset, moments, model


def _reduce(paths: list[str], job, kw: dict, reporter, warm: tuple[str, ...]):
    """The reduction: from the cache when it has it, else by the workers (then stored)."""
    from dataclasses import replace

    from fitcore.pipeline import PendingReduction, worker_count

    from .options import scheduler_config
    scheduler = scheduler_config(kw)
    folder, key = kw.get("cache"), None
    if folder and "-" in paths:
        reporter.warn("--cache: input from stdin is not cached")
        folder = None
    if folder:
        from fitcore import __version__
        from fitcore.cache import cache_key, load_entry, remember_digests
        remember_digests(folder, paths)
        key = cache_key(paths, replace(job, data=replace(job.data, energies=None)), __version__)
        entry = load_entry(folder, key)
        if entry is not None:
            reporter.info(f"pairs and moments from the cache in {folder}")
            for module in warm:
                importlib.import_module(module)
            return entry
    with reporter.progress("reading, pairs and moments", None) as update:
        if scheduler is not None:
            from fitcore.cluster import ClusterReduction
            pending = ClusterReduction(paths, job, scheduler, update)
        else:
            pending = PendingReduction(paths, job, worker_count(kw.get("threads")), update)
        for module in warm:
            importlib.import_module(module)
        dataset, moments = pending.result()
    if folder:
        from fitcore.cache import store_entry
        store_entry(folder, key, dataset, moments)
    return dataset, moments
