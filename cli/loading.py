"""Reading inputs and featurizing them to moments (in worker processes for large inputs), with progress."""
import importlib

from .config import RunConfig


def load(config: RunConfig, reporter, with_forces: bool, need_energies: bool = False,
         warm: tuple[str, ...] = ("torch", "scipy.optimize"), counting_only: bool = False,
         cutoff_needed: str = "--cutoff", coordinates: bool = False):
    """(dataset, moments) of a command's inputs under ``config.model``.

    The modules in ``warm`` are imported while the workers read: the start-up costs overlap.
    ``counting_only`` (inspect): non-periodic frames get all their pairs, and no physics warnings.
    ``coordinates``: keep positions and other columns (also kept for inspect and the direct engine).
    With ``config.cache`` the featurization is looked up in, or stored to, that folder.
    """
    from fitcore.io.inputs import finish_dataset
    from fitcore.pipeline import Featurization
    model = config.model
    coordinates = coordinates or counting_only or model.engine == "direct"
    job = Featurization(data=config.data, scheme=model.scheme, scope=model.scope, with_forces=with_forces,
                        all_pairs_if_isolated=counting_only, cutoff_needed=cutoff_needed, coordinates=coordinates,
                        coulomb=None if counting_only or model.coulomb_options.method == "none" else model.coulomb_options)
    dataset, moments = _featurize(list(config.files), job, config, reporter, warm)
    dataset = finish_dataset(dataset, config.data)
    if need_energies:
        from fitcore.io.inputs import require_energies
        require_energies(dataset)
    if not counting_only:
        from fitcore.cells import warn_thin_cells
        warn_thin_cells(dataset.cells, dataset.pbc, model.cutoff)
    return dataset, moments


def _featurize(paths: list[str], job, config: RunConfig, reporter, warm: tuple[str, ...]):
    """The featurization: from the cache when it has it, else by the workers (then stored)."""
    from dataclasses import replace

    from fitcore.pipeline import PendingFeaturization, worker_count
    folder, key = config.cache, None
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
            _import(warm)
            return entry
    with reporter.progress("reading, pairs and moments", None) as update:
        if config.scheduler is not None:
            from fitcore.cluster import ClusterFeaturization

            from .runtime import keep_heap_margin  # the workers read as fast as the local pipeline's
            pending = ClusterFeaturization(paths, job, config.scheduler, update, worker_setup=keep_heap_margin)
        else:
            pending = PendingFeaturization(paths, job, worker_count(config.threads), update)
        _import(warm)
        dataset, moments = pending.result()
    if folder:
        from fitcore.cache import store_entry
        store_entry(folder, key, dataset, moments)
    return dataset, moments


def _import(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (torch, scipy) with Ctrl-C and SIGTERM held until each import is complete."""
    from .runtime import signals_held
    for module in modules:
        with signals_held():
            importlib.import_module(module)
