"""``ljfit inspect``: what is in the data, before fitting anything."""
import click

from ..options import common_options, data_options
from ..output import guarded

EXAMPLE = """\b
Example:
  ljfit inspect sample_data/argon_mixture/mixture.extxyz
  ljfit inspect structures/*.xyz --energies energies.csv --format json
"""


@click.command(epilog=EXAMPLE)
@data_options
@click.option("--cutoff", type=float, default=10.0, show_default=True,
              help="Pairs are counted within this distance (non-periodic frames: all pairs).")
@common_options
@guarded
def inspect(**kw):
    """Summarise structure files: frames, atoms, types, cells, energies, and
    per type pair the number of pairs and the smallest distance."""
    from ..loading import length_to_angstrom, read_dataset, reduce_dataset
    from ..options import model_config
    from ..output import resolve_format
    from ..render import inspect_report

    reporter = click.get_current_context().obj
    if kw["cutoff"] <= 0:
        raise click.BadParameter("must be positive", param_hint="--cutoff")
    dataset = read_dataset(kw, reporter)
    model = model_config({"interactions": "all", "engine": "moments", "device": "cpu", "dtype": "float64"},
                         length_to_angstrom(kw, kw["cutoff"]), False)
    moments = reduce_dataset(dataset, model, reporter, False, all_pairs_if_isolated=True)
    inspect_report(dataset, moments, kw, resolve_format(kw["fmt"]))
