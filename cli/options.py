"""Options shared by several commands, as decorators, and their conversion to library options."""
import math
import os
import re

import click

from .output import FORMATS

from fitcore.spec import DTYPES, ENGINES, SCOPES
from fitcore.units import ENERGY_UNITS, LENGTH_UNITS


def _stack(*decorators):
    def apply(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func
    return apply


def _load_config(ctx: click.Context, param, path):
    """--config FILE.toml: its keys (option names, - or _) become defaults; the command line wins.

    Top-level keys serve every command that has the option (and must name an option of some
    ljfit command); keys in a [fit], [predict], ... table serve that command only.
    """
    if not path:
        return path
    data = _read_toml(ctx, param, path)
    commands = ctx.parent.command.commands if ctx.parent and isinstance(ctx.parent.command, click.Group) else {}
    for key, value in data.items():
        if isinstance(value, dict) and key not in commands:
            raise click.BadParameter(f"{path}: unknown table [{key}]; expected one of "
                                     f"{', '.join(f'[{c}]' for c in sorted(commands))}", ctx, param)
    own = _config_names(ctx.command)
    anywhere = set(own).union(*(_config_names(c) for c in commands.values()))
    defaults = {}
    for key, value in data.items():
        if isinstance(value, dict):
            continue
        name = key.replace("-", "_")
        if name not in anywhere:
            raise click.BadParameter(f"{path}: unknown option {key!r}", ctx, param)
        if name in own:
            defaults[own[name]] = value
    for key, value in data.get(ctx.info_name, {}).items():
        name = own.get(key.replace("-", "_"))
        if name is None:
            raise click.BadParameter(f"{path}: unknown option {key!r} for ljfit {ctx.info_name}", ctx, param)
        defaults[name] = value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


def _read_toml(ctx: click.Context, param, path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise click.BadParameter("reading TOML needs Python 3.11+ or the tomli package (pip install tomli)",
                                     ctx, param) from None
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as err:
        raise click.BadParameter(f"cannot read {path}: {err.strerror}", ctx, param) from None
    except tomllib.TOMLDecodeError as err:
        raise click.BadParameter(f"{path}: {err}", ctx, param) from None


def _config_names(command: click.Command) -> dict[str, str]:
    """Config keys (long option names with _ for -, e.g. format for --format) -> parameter names (fmt)."""
    names = {}
    for p in command.params:
        if p.expose_value and p.name:
            names[p.name] = p.name
            for opt in p.opts + p.secondary_opts:
                if opt.startswith("--") and not opt.startswith("--no-"):
                    names[opt[2:].replace("-", "_")] = p.name
    return names


def _threads(ctx, param, value):
    if value is not None:
        if value < 1:
            raise click.BadParameter("must be at least 1", ctx, param)
    return value  # applied by cli.runtime when the command runs


def _existing_inputs(ctx, param, values):
    """Input files must exist (globs must match): a usage error otherwise, like a missing --energies file.
    The paths with globs expanded (once: the commands use them as they are)."""
    from fitcore.errors import InputError
    from fitcore.io.inputs import expand_paths
    try:
        paths = expand_paths(list(values))
    except InputError as err:
        raise click.BadParameter(str(err), ctx, param) from None
    missing = [v for v in values if v != "-" and not os.path.exists(v) and not any(c in v for c in "*?[")]
    if missing:
        raise click.BadParameter(f"{missing[0]}: no such file", ctx, param)
    return tuple(paths)


def _scheduler(ctx, param, value):
    if value is None:
        return value
    from fitcore.cluster import check_address
    try:
        return check_address(value)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx, param) from None


_DEVICE = re.compile(r"cpu|cuda(:\d+)?|mps|xpu(:\d+)?")


def _device(ctx, param, value):
    """The form of a torch device is checked here; whether it exists, when the model is built."""
    if not _DEVICE.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a torch device (cpu, cuda, cuda:N, mps, xpu)", ctx, param)
    return value


def init_file_or_uff(ctx, param, value):
    """``uff`` (the built-in UFF table, resolved once the types are known) or an existing params file."""
    if value is None or value == "uff":
        return value
    return click.Path(exists=True, dir_okay=False).convert(value, param, ctx)


def writable_path(ctx, param, value):
    """An output file that can be written: checked before any work is done. A symlink is checked at
    its target; an existing FIFO or device is written through; ``-`` is stdout (for -o only)."""
    if value is None:
        return value
    if value == "-":
        if param.name != "output":
            raise click.BadParameter("only -o can write to stdout (-)", ctx, param)
        return value
    target = os.path.realpath(value)
    if os.path.isdir(target):
        raise click.BadParameter(f"{value} is a folder", ctx, param)
    if os.path.exists(target) and not os.path.isfile(target):
        return value
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise click.BadParameter(f"folder {folder} does not exist", ctx, param)
    if not os.access(folder, os.W_OK):
        raise click.BadParameter(f"folder {folder} is not writable", ctx, param)
    return value


common_options = _stack(
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
                 help="Output format; auto = a table on a terminal, CSV when piped."),
    click.option("--quiet", "-q", is_flag=True, help="Print nothing on stderr but errors."),
    click.option("--debug", is_flag=True, help="Show the Python traceback of an error."),
    click.option("--threads", type=int, callback=_threads, help="Cap on CPU threads (torch, BLAS, workers)."),
    click.option("--config", type=click.Path(dir_okay=False), callback=_load_config, is_eager=True,
                 expose_value=False, help="TOML file of option values; the command line overrides it."),
)

data_options = _stack(
    click.argument("files", nargs=-1, required=True, callback=_existing_inputs),
    click.option("--energies", type=click.Path(exists=True, dir_okay=False),
                 help="CSV/TSV table name,energy[,weight] joined on frame names."),
    click.option("--energy-key", default="energy", show_default=True, help="Extended-XYZ key holding the energy."),
    click.option("--type-key", help="Per-atom string column giving parameter types (default: species)."),
    click.option("--fragment-key", help="Per-atom integer column of fragment ids [default: fragment, if present]."),
    click.option("--fragment-split", type=click.IntRange(min=1),
                 help="First N atoms of every frame are fragment 0, the rest fragment 1."),
    click.option("--site-types", type=click.IntRange(min=1),
                 help="First N atoms of every frame each get their own type: element and position (C1, O2, ...)."),
    click.option("--energy-unit", type=click.Choice(list(ENERGY_UNITS)), default="eV", show_default=True,
                 help="Unit of energies in the inputs (K: energy/k_B); parameters come out in it."),
    click.option("--length-unit", type=click.Choice(list(LENGTH_UNITS)), default="angstrom", show_default=True,
                 help="Unit of coordinates in the inputs; parameters come out in it."),
)

cluster_options = _stack(
    click.option("--scheduler", callback=_scheduler, metavar="ADDRESS",
                 help="Read and reduce on a Dask cluster: a scheduler address (tcp://host:port), or local:N for "
                      "N worker processes here. Needs pip install 'ljfit[dask]'."),
    click.option("--scheduler-file", type=click.Path(exists=True, dir_okay=False),
                 help="The same, with the scheduler named in a scheduler file (dask-mpi, dask-jobqueue)."),
)

interaction_options = _stack(
    click.option("--interactions", type=click.Choice(SCOPES), default="all", show_default=True,
                 help="Which pairs count: all, or only pairs between different fragments."),
    click.option("--engine", type=click.Choice(ENGINES), default="moments", show_default=True,
                 help="moments: fast pair-moment model; direct: reference pairwise evaluation (all pairs in memory)."),
    click.option("--device", default="cpu", show_default=True, callback=_device,
                 help="torch device: cpu, cuda, cuda:1, ..."),
    click.option("--dtype", type=click.Choice(DTYPES), default="float64", show_default=True),
)


def _charges(ctx, param, values):
    """TYPE=Q options (repeatable) -> {type: charge in e}."""
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"expected TYPE=CHARGE with a number (e), got {item!r}", ctx, param) from None
        if not math.isfinite(out[name.strip()]):
            raise click.BadParameter(f"{item}: the charge must be finite", ctx, param)
    return out


coulomb_options = _stack(
    click.option("--coulomb", type=click.Choice(["auto", "none", "direct", "ewald"]),
                 help="Fixed-charge Coulomb term: auto = none without charges, else direct sums for molecules and "
                      "Ewald sums for periodic frames (slabs as LAMMPS' kspace_modify slab 3.0).  [default: auto; "
                      "predict: the params file's]"),
    click.option("--coulomb-accuracy", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
                 help="Relative accuracy of the Ewald sums, as LAMMPS' kspace_style ewald ACC.  [default: 1e-08; "
                      "predict: the params file's]"),
    click.option("--charge", "charge", multiple=True, callback=_charges, metavar="TYPE=Q",
                 help="Charge (e) of every atom of a type (repeatable); or a per-atom column in the files."),
    click.option("--charge-key", metavar="KEY",
                 help="Per-atom column of charges (e)  [default: initial_charges, charges, charge or q, if present]."),
    click.option("--baseline-key", metavar="KEY",
                 help="Frame key of an energy added to the model (D3, polarisation...), in the energy unit; "
                      "or a baseline column of the energies table."),
)


def coulomb_config(kw: dict, params=None):
    """CoulombOptions from --coulomb, --coulomb-accuracy, --charge, --charge-key (and a params file's
    charges and Coulomb record, which stand in for options not given); None for commands without them."""
    if "coulomb" not in kw:
        return None
    from fitcore.coulomb import CoulombOptions
    recorded = params.coulomb if params is not None else {}
    charges = dict(params.charges) if params is not None else {}
    for name, value in kw["charge"].items():
        if name in charges and abs(charges[name] - value) > 1e-12:
            raise click.BadParameter(f"{name}={value:g}, but {kw['params_path']} gives {name} charge "
                                     f"{charges[name]:g}; give charges one way", param_hint="--charge")
        charges[name] = value
    return CoulombOptions(method=kw["coulomb"] or recorded.get("method", "auto"),
                          accuracy=kw["coulomb_accuracy"] or recorded.get("accuracy", 1e-8),
                          charge_key=kw["charge_key"], charges=tuple(sorted(charges.items())))


def scheduler_config(kw: dict):
    """The Dask scheduler of --scheduler or --scheduler-file, or None for local worker processes."""
    address, file = kw.get("scheduler"), kw.get("scheduler_file")
    if address is None and file is None:
        return None
    if address is not None and file is not None:
        raise click.UsageError("--scheduler and --scheduler-file: give one of them, not both")
    from fitcore.cluster import Scheduler
    return Scheduler(address=address, file=file)


def potential_form(ctx, param, value):
    """--potential lj|lj96|mie:N,M, checked here and kept as its canonical text (lj96, mie:14,6)."""
    from fitcore.errors import InputError
    from fitcore.potential import parse_form
    try:
        return parse_form(value).label
    except InputError as err:
        raise click.BadParameter(str(err), ctx, param) from None


def parse_assignments(ctx, param, values):
    """NAME=VALUE options -> {name: float}; epsilon and sigma must be positive."""
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"expected NAME=VALUE with a number, got {item!r}", ctx, param) from None
        if name.strip().endswith((".epsilon", ".sigma")) and not out[name.strip()] > 0:
            raise click.BadParameter(f"{item}: epsilon and sigma must be positive", ctx, param)
    return out


def parse_bounds(ctx, param, values):
    """NAME=LO:HI options (either side may be empty) -> {name: (lo, hi)}."""
    out = {}
    for item in values:
        name, sep, rng = item.partition("=")
        lo, colon, hi = rng.partition(":")
        try:
            if not sep or not colon:
                raise ValueError
            bounds = (float(lo) if lo.strip() else -float("inf"), float(hi) if hi.strip() else float("inf"))
            if not bounds[0] < bounds[1]:
                raise ValueError
        except ValueError:
            raise click.BadParameter(f"expected NAME=LOW:HIGH with LOW < HIGH, got {item!r}", ctx, param) from None
        out[name.strip()] = bounds
    return out
