"""``ljfit``: fit Lennard-Jones parameters to reference energies and forces."""
import os
import sys

import click

from .commands import energies, export, fit, inspect, params, predict

EPILOG = """\b
Exit codes: 0 success; 1 bad input data or a failed run; 2 usage error
(unknown option, bad value, missing file); 3 the fit finished but did not
converge (results are still written and flagged); 130 interrupted;
143 terminated (SIGTERM).

\b
Quick start:
  ljfit inspect data.extxyz
  ljfit fit data.extxyz --cutoff 8.5 --shift -o params.json
  ljfit predict data.extxyz --params params.json > energies.csv
  ljfit export params.json --to lammps
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("ljfit")
    except PackageNotFoundError:
        return "unknown"


class _Group(click.Group):
    """Remembers the arguments it was called with (params files record their command line)."""

    def make_context(self, info_name, args, parent=None, **extra):
        argv = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta["ljfit.argv"] = argv
        return ctx


@click.group(cls=_Group, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "--version", prog_name="ljfit", message="%(prog)s %(version)s")
def main():
    """Fit Lennard-Jones epsilon and sigma to reference energies (and forces) of
    structures in XYZ / extended-XYZ files, predict with them, and export them
    for MD codes. Data goes to stdout (CSV when piped), messages to stderr."""


main.add_command(inspect.inspect)
main.add_command(fit.fit)
main.add_command(predict.predict)
main.add_command(export.export)
main.add_command(params.params)
main.add_command(energies.energies)


def entry() -> None:
    """The console script: run the CLI, then end the process (cli.runtime.finish).

    numpy's OpenBLAS is set to one thread here, before option callbacks import numpy (later
    settings, cli.runtime.use_threads included, come too late for it): ljfit's parallelism is its
    worker processes, and OpenBLAS threads on top of them made the 6000-frame fit with charges
    6.6x slower (87.9 s against 13.3 s, measured)."""
    from .runtime import finish
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    finish(code)
