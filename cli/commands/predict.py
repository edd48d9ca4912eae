"""``ljfit predict``: energies (and forces) of structures from a params file."""
import click

from ..options import (cluster_options, common_options, coulomb_options, data_options, interaction_options,
                       writable_path)
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
@coulomb_options
@click.option("--write-structures", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write extended XYZ with the predicted energy= and a forces column (eV, Å).")
@click.option("--plot", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write a parity plot (needs reference energies).")
@click.option("--cutoff", type=click.FloatRange(min=0, min_open=True),
              help="Cutoff (length unit) for a params file that has none (cutoff: null).")
@cluster_options
@common_options
@guarded
def predict(**kw):
    """Predict energies of FILES with the parameters of a params file. Columns:
    name, n_atoms, energy_ref, energy_pred, residual (energy unit of the run)."""
    from ..predicting import run_predict_command
    return run_predict_command(kw, click.get_current_context().obj)
