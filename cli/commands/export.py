"""``ljfit export``: parameters in the formats of MD codes."""
import math

import click

from ..options import writable_path
from ..output import guarded

EXAMPLE = """\b
Examples:
  ljfit export params.json --to lammps > in.lj
  ljfit export params.json --to lammps --lammps-units real
  ljfit export params.json --to openmm -o ljfit.xml
"""


@click.command(epilog=EXAMPLE)
@click.argument("params_path", metavar="PARAMS.json", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "target", type=click.Choice(["lammps", "openmm", "csv"]), required=True)
@click.option("--lammps-units", type=click.Choice(["metal", "real"]), default="metal", show_default=True)
@click.option("--cutoff", type=click.FloatRange(min=0, min_open=True),
              help="Cutoff (Å) for LAMMPS when the params file has none.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write here instead of stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stderr but errors.")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@guarded
def export(params_path, target, lammps_units, cutoff, output, quiet, debug):
    """Export a params file: a LAMMPS input block (pair_style lj/cut with a
    type map), an OpenMM force field fragment, or CSV."""
    from fitcore.io.export.csv import csv_rows
    from fitcore.io.export.lammps import lammps_block
    from fitcore.io.export.openmm import openmm_xml
    from fitcore.io.params_file import read_params

    from ..output import csv_text, write_output
    from ..render import emit
    params, units = read_params(params_path)
    if cutoff is not None and params.cutoff is not None and not math.isclose(cutoff, params.cutoff):
        click.get_current_context().obj.warn(f"--cutoff {cutoff:g} ignored: {params_path} has cutoff "
                                             f"{params.cutoff:g} Å, the one its parameters belong to")
    if target == "lammps":
        text = lammps_block(params, lammps_units, params_path, cutoff)
    elif target == "openmm":
        text = openmm_xml(params, params_path)
    else:
        text = csv_text(*csv_rows(params, units["energy"], units["length"]))
    if output:
        write_output(output, text, click.get_current_context().obj)
    else:
        emit(text)
