"""``ljfit predict``: energies (and forces) of structures from a params file."""
import click

from ..options import common_options, data_options, interaction_options
from ..output import guarded

EXAMPLE = """\b
Examples:
  ljfit predict sample_data/argon_mixture/mixture.extxyz --params params.json > energies.csv
  ljfit predict new.extxyz --params params.json --write-structures new.pred.extxyz
"""


@click.command(epilog=EXAMPLE)
@data_options
@click.option("--params", "params_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="ljfit-params/1 file (from ljfit fit or written by hand).")
@interaction_options
@click.option("--write-structures", type=click.Path(dir_okay=False),
              help="Write extended XYZ with the predicted energy= and a forces column (eV, Å).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a parity plot (needs reference energies).")
@common_options
@guarded
def predict(**kw):
    """Predict energies of FILES with the parameters of a params file. Columns:
    name, n_atoms, energy_ref, energy_pred, residual (energy unit of the run)."""
    import numpy as np

    from fitcore.io.params_file import read_params
    from fitcore.result import error_statistics
    from fitcore.workflow import predict_dataset

    from ..loading import load
    from fitcore.io.files import atomic_write

    from ..output import resolve_format
    from ..render import predict_report, residual_rows
    reporter = click.get_current_context().obj
    params, _ = read_params(kw["params_path"])
    with_forces = bool(kw["write_structures"])
    dataset, moments, model = load(kw, reporter, params.cutoff, params.shift, with_forces and kw["engine"] == "moments",
                                   warm=("torch",), cutoff_needed=f"a cutoff, but {kw['params_path']} has cutoff null")
    known = ~np.isnan(dataset.energies)
    if kw["plot"] and not known.any():
        raise click.UsageError("--plot needs reference energies (an energy= key or --energies)")
    energies, forces = predict_dataset(dataset, moments, params, model, with_forces, kw["params_path"])
    rows = residual_rows(dataset, energies, kw["energy_unit"])
    stats = None
    if known.any():
        from fitcore.units import energy_factor
        e = energy_factor(kw["energy_unit"])
        stats = error_statistics(energies[known] / e, dataset.energies[known] / e)
    predict_report(rows, stats, kw["energy_unit"], resolve_format(kw["fmt"]))
    if kw["write_structures"]:
        from fitcore.io.write import extxyz_text
        atomic_write(kw["write_structures"], extxyz_text(dataset, energies, forces))
        reporter.info(f"wrote {kw['write_structures']}")
    if kw["plot"]:
        from ..plot import parity_plot
        parity_plot(kw["plot"], dataset, energies, {"energy": stats}, kw["energy_unit"], already_converted=True)
        reporter.info(f"wrote {kw['plot']}")
