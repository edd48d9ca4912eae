"""``ljfit params``: parameter files from built-in tables (``ljfit params uff C O``)."""
import click

from ..options import ENERGY_UNITS, LENGTH_UNITS, writable_path
from ..output import guarded

UFF_EXAMPLE = """\b
Examples:
  ljfit params uff C O Cu -o uff.json
  ljfit params uff Ar Kr --format table
  ljfit fit data.extxyz --cutoff 8.5 --init-file uff.json      (or --init-file uff)
\b
sigma = x_i / 2^(1/6) and epsilon = D_i from Table 1 of Rappé et al.,
J. Am. Chem. Soc. 114, 10024 (1992); geometric mixing, as UFF uses.
--format auto: a table on a terminal, the JSON file otherwise.
"""


@click.group()
def params():
    """Parameter files from built-in tables."""


@params.command(epilog=UFF_EXAMPLE)
@click.argument("types", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["auto", "json", "table"]), default="auto", show_default=True,
              help="auto: a table on a terminal, JSON otherwise.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write the ljfit-params/1 file here.")
@click.option("--cutoff", type=click.FloatRange(min=0, min_open=True),
              help="Cutoff (length unit) recorded in the file; default none.")
@click.option("--shift/--no-shift", default=False, show_default=True, help="Recorded in the file.")
@click.option("--energy-unit", type=click.Choice(ENERGY_UNITS), default="eV", show_default=True,
              help="Energy unit of the written values.")
@click.option("--length-unit", type=click.Choice(LENGTH_UNITS), default="angstrom", show_default=True,
              help="Length unit of the written values.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stderr but errors.")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@guarded
def uff(types, fmt, output, cutoff, shift, energy_unit, length_unit, quiet, debug):
    """UFF epsilon and sigma of the chemical elements TYPES as an ljfit-params/1 file."""
    import sys

    from fitcore.errors import InputError
    from fitcore.io.files import atomic_write
    from fitcore.io.params_file import params_json
    from fitcore.units import length_factor
    from fitcore.uff import uff_params

    from ..render import emit
    duplicate = next((t for k, t in enumerate(types) if t in types[:k]), None)
    if duplicate:
        raise click.BadParameter(f"{duplicate} is given twice", param_hint="TYPES")
    try:
        table = uff_params(tuple(types), None if cutoff is None else cutoff * length_factor(length_unit), shift)
    except InputError as err:
        raise click.BadParameter(str(err), param_hint="TYPES") from None
    text = params_json(table, energy_unit, length_unit)
    if output:
        atomic_write(output, text)
        click.get_current_context().obj.info(f"wrote {output}")
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "json"
    if fmt == "json":
        emit(text)
    elif fmt == "table":
        _table(table, energy_unit, length_unit)


def _table(table, energy_unit: str, length_unit: str) -> None:
    from rich.table import Table

    from fitcore.uff import uff_table
    from fitcore.units import energy_factor, length_factor

    from ..render import _stdout_console
    out = Table(title="UFF (Rappé et al. 1992), geometric mixing", title_justify="left")
    for col in ("type", "x_i (Å)", "D_i (kcal/mol)", f"sigma ({length_unit})", f"epsilon ({energy_unit})"):
        out.add_column(col, justify="left" if col == "type" else "right")
    for k, name in enumerate(table.layout.type_names):
        x, d = uff_table()[name]
        eps, sigma = table.values[2 * k] / energy_factor(energy_unit), table.values[2 * k + 1] / length_factor(length_unit)
        out.add_row(name, f"{x:.3f}", f"{d:.3f}", f"{sigma:.6g}", f"{eps:.6g}")
    _stdout_console().print(out)
