"""``ljfit energies``: the energies table (name,energy) from the comment lines of XYZ files."""
import string

import click

from ..options import ENERGY_UNITS, _existing_inputs, writable_path
from ..output import guarded

EXAMPLE = """\b
Examples:
  ljfit energies energies/*.xyz > energies.csv
  ljfit energies dft/*.xyz --name-format "{stem}_extended" -o energies.csv
  ljfit fit structures/*.xyz --energies energies.csv ...
\b
Each frame's energy is read as ljfit reads it (--energy-key, or a number in a
free-text comment) and written in --energy-unit; give fit the same --energy-unit.
--name-format makes the names that the table is joined on from {stem} (the
file name without folder and extension), {name} (the frame's own name: its
name= key, else the stem, else stem:k) and {index} (the frame's position in
its file, from 0).
"""
FIELDS = {"stem", "name", "index"}


def _name_format(ctx, param, value):
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    except ValueError as err:
        raise click.BadParameter(f"{value!r}: {err}", ctx, param) from None
    unknown = {f.split(".")[0].split("[")[0] for f in fields} - FIELDS
    if unknown or "" in fields:
        raise click.BadParameter(f"{value!r}: use {{stem}}, {{name}} and {{index}} only "
                                 f"(got {', '.join(sorted(unknown)) or '{}'})", ctx, param)
    return value


@click.command(epilog=EXAMPLE)
@click.argument("files", nargs=-1, required=True, callback=_existing_inputs)
@click.option("--name-format", default="{name}", show_default=True, callback=_name_format,
              help="Name of each row, from {stem}, {name} and {index}.")
@click.option("--energy-key", default="energy", show_default=True, help="Extended-XYZ key holding the energy.")
@click.option("--energy-unit", type=click.Choice(list(ENERGY_UNITS)), default="eV", show_default=True,
              help="Unit of the energies in the files, and of the table.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write the table here instead of stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stderr but errors.")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@guarded
def energies(files, name_format, energy_key, energy_unit, output, quiet, debug):
    """Print the energies table (name,energy) of the frames of FILES, from
    their comment lines, ready for `ljfit fit --energies`."""
    from pathlib import Path

    from fitcore.errors import InputError
    from fitcore.io.xyz import ReadOptions, read_structures
    from fitcore.units import energy_factor

    from ..output import csv_text, write_output
    from ..render import emit
    options = ReadOptions(energy_key=energy_key, energy_unit=energy_unit)
    rows, seen = [], {}
    for path in files:  # globs already expanded
        dataset = read_structures(path, options)
        stem = "stdin" if path == "-" else Path(path).stem
        for k, (frame, energy) in enumerate(zip(dataset.names, dataset.energies)):
            where = f"{path}:{int(dataset.first_atom_line[k]) - 1}"
            if energy != energy:  # NaN
                raise InputError(f"{where}: frame {frame} has no energy in its comment line "
                                 f"(no {energy_key}= key and no number in free text; see --energy-key)")
            name = name_format.format(stem=stem, name=frame, index=k)
            if name in seen:
                raise InputError(f"{where}: name {name!r} is made twice (also for {seen[name]}); "
                                 f"give a --name-format that tells the frames apart, e.g. with {{index}}")
            seen[name] = where
            rows.append([name, float(energy / energy_factor(energy_unit))])
    text = csv_text(["name", "energy"], rows)
    if output:
        write_output(output, text, click.get_current_context().obj)
    else:
        emit(text)
