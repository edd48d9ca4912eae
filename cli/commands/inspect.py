"""``ljfit inspect``: what is in the data, before fitting anything."""
import click

from ..options import cluster_options, common_options, data_options
from ..output import guarded

EXAMPLE = """\b
Example:
  ljfit inspect sample_data/argon_mixture/mixture.extxyz
  ljfit inspect structures/*.xyz --energies energies.csv --format json
"""


@click.command(epilog=EXAMPLE)
@data_options
@click.option("--cutoff", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Pairs are counted within this distance (non-periodic frames: all pairs).")
@cluster_options
@common_options
@guarded
def inspect(**kw):
    """Summarise structure files: frames, atoms, types, cells, energies, and
    per type pair the number of pairs and the smallest distance."""
    from ..config import inspect_config
    from ..loading import load
    from ..render import inspect_report
    config = inspect_config(kw)
    dataset, moments = load(config, click.get_current_context().obj, False, warm=(), counting_only=True)
    inspect_report(dataset, moments, config, config.fmt)
