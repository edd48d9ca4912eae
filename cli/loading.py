"""Reading inputs and reducing them to moments, with progress on stderr."""
from .options import data_config, model_config


def read_dataset(kw: dict, reporter):
    from fitcore.io.inputs import load_dataset
    return load_dataset(list(kw["files"]), data_config(kw))


def length_to_angstrom(kw: dict, value: float | None) -> float | None:
    from fitcore.units import length_factor
    return None if value is None else value * length_factor(kw["length_unit"])


def reduce_dataset(dataset, model, reporter, with_forces: bool, all_pairs_if_isolated: bool = False):
    from fitcore.moments import compute_moments
    from fitcore.workflow import warn_thin_cells
    if not all_pairs_if_isolated:  # inspect's own cutoff is only for counting pairs
        warn_thin_cells(dataset, model.cutoff)
    with reporter.progress("pairs and moments", dataset.n_frames) as update:
        return compute_moments(dataset, model.scheme, model.scope, with_forces, progress=update,
                               all_pairs_if_isolated=all_pairs_if_isolated)


def load(kw: dict, reporter, cutoff: float | None, shift: bool, with_forces: bool, need_energies: bool = False):
    """(dataset, moments, model options) for a command's data and interaction options."""
    dataset = read_dataset(kw, reporter)
    if need_energies:
        from fitcore.io.inputs import require_energies
        require_energies(dataset)
    model = model_config(kw, cutoff, shift)
    return dataset, reduce_dataset(dataset, model, reporter, with_forces), model
