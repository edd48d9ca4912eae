"""``ljfit export``: parameters in the formats of MD codes."""
import math
import os

import click

from ..options import writable_path
from ..output import guarded

EXAMPLE = """\b
Examples:
  ljfit export params.json --to lammps > in.lj
  ljfit export params.json --to lammps --lammps-units real
  ljfit export params.json --to openmm -o ljfit.xml
  ljfit export params.json --to gromacs -o ljfit.itp
  ljfit export params.json --to raspa -o forcefield/
"""
TARGETS = ["lammps", "openmm", "gromacs", "raspa", "csv"]


def _output(ctx, param, value):
    """-o: a file as the other commands check it (``-`` is stdout), or for raspa a folder, created if
    missing, whose parent exists: checked before any work."""
    if ctx.params.get("target") != "raspa":
        if value is not None and os.path.isdir(value):  # as click words it for the other commands' -o
            raise click.BadParameter(f"{value} is a directory; --to {ctx.params.get('target')} writes one file",
                                     ctx, param)
        return writable_path(ctx, param, value)
    if value is None:
        return value
    if os.path.exists(value) and not os.path.isdir(value):
        raise click.BadParameter(f"{value} is a file; --to raspa writes a folder", ctx, param)
    folder = value if os.path.isdir(value) else os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(folder):
        raise click.BadParameter(f"folder {folder} does not exist", ctx, param)
    if not os.access(folder, os.W_OK):
        raise click.BadParameter(f"folder {folder} is not writable", ctx, param)
    return value


@click.command(epilog=EXAMPLE)
@click.argument("params_path", metavar="PARAMS.json", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, is_eager=True)
@click.option("--lammps-units", type=click.Choice(["metal", "real"]), default="metal", show_default=True)
@click.option("--cutoff", type=click.FloatRange(min=0, min_open=True),
              help="Cutoff (Å) for LAMMPS, GROMACS and RASPA when the params file has none.")
@click.option("--output", "-o", type=click.Path(), callback=_output,
              help="Write here instead of stdout (a folder for raspa, which needs it).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stderr but errors.")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@guarded
def export(params_path, target, lammps_units, cutoff, output, quiet, debug):
    """Export a params file: a LAMMPS input block (pair_style lj/cut with a
    type map), an OpenMM force field fragment, a GROMACS topology fragment,
    RASPA force field files (a folder), or CSV."""
    from fitcore.io.files import atomic_write
    from fitcore.io.params_file import read_params

    from ..output import write_output
    from ..render import emit
    reporter = click.get_current_context().obj
    if target == "raspa" and not output:
        raise click.UsageError("--to raspa writes three files: give the folder with -o DIR")
    params, units = read_params(params_path)
    if cutoff is not None and params.cutoff is not None and not math.isclose(cutoff, params.cutoff):
        reporter.warn(f"--cutoff {cutoff:g} ignored: {params_path} has cutoff {params.cutoff:g} Å, "
                      f"the one its parameters belong to")
    files = _export_files(params, units, target, params_path, lammps_units, cutoff)
    if target == "raspa":
        os.makedirs(output, exist_ok=True)
        for name, text in files.items():
            atomic_write(os.path.join(output, name), text)
        reporter.info(f"wrote {', '.join(files)} in {output}")
    elif output:
        write_output(output, files[target], reporter)
    else:
        emit(files[target])


def _export_files(params, units, target, source, lammps_units, cutoff) -> dict[str, str]:
    """{file name: text} for raspa, {target: text} for the one-file exports; made before anything is written."""
    if target == "lammps":
        from fitcore.io.export.lammps import lammps_block
        return {target: lammps_block(params, lammps_units, source, cutoff)}
    if target == "openmm":
        from fitcore.io.export.openmm import openmm_xml
        return {target: openmm_xml(params, source)}
    if target == "gromacs":
        from fitcore.io.export.gromacs import gromacs_topology
        return {target: gromacs_topology(params, source, cutoff)}
    if target == "raspa":
        from fitcore.io.export.raspa import raspa_files
        return raspa_files(params, source, cutoff)
    from fitcore.io.export.csv import csv_rows

    from ..output import csv_text
    return {target: csv_text(*csv_rows(params, units["energy"], units["length"]))}
