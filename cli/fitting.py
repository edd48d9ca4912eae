"""The body of ``ljfit fit``: options -> library calls -> report and files."""
import contextlib
import sys

from .output import EXIT_NOT_CONVERGED, EXIT_OK, resolve_format


def _in_internal_units(values: dict, kw: dict, pair=False) -> dict:
    """Parameter values (or bounds) from the run's units to eV and Å."""
    from fitcore.params import unit_factor

    def convert(name, value):
        factor = unit_factor(name, kw["energy_unit"], kw["length_unit"])
        return tuple(v * factor for v in value) if pair else value * factor

    return {name: convert(name, value) for name, value in values.items()}


def fit_spec(kw: dict):
    from fitcore.io.params_file import read_params
    from fitcore.workflow import FitSpec
    init_params = read_params(kw["init_file"])[0] if kw["init_file"] not in (None, "uff") else None
    return FitSpec(kw["mixing"], kw["offset"], _in_internal_units(kw["init"], kw), init_params, tuple(kw["fix"]),
                   _in_internal_units(kw["bounds"], kw, pair=True), kw["forces"], kw["force_weight"], kw["per_atom"])


def _with_uff_start(spec, type_names):
    from dataclasses import replace

    from fitcore.errors import InputError
    from fitcore.uff import uff_params
    try:
        return replace(spec, init_params=uff_params(type_names))
    except InputError as err:
        raise InputError(f"--init-file uff: {err}") from None


def fit_options(kw: dict):
    from fitcore.fit import FitOptions
    return FitOptions(kw["method"], kw["algorithm"], kw["loss"], kw["f_scale"], kw["ftol"], kw["xtol"], kw["gtol"],
                      kw["max_nfev"], kw["niter"], kw["step_size"], kw["temperature"], kw["seed"])


def run_fit_command(kw: dict, reporter) -> int:
    from fitcore.io.files import atomic_write
    from fitcore.params import UnknownParameter
    from fitcore.workflow import fit_dataset

    from .loading import length_to_angstrom, load
    from .render import fit_report, fit_summary_lines, residual_rows, residuals_csv
    fmt = resolve_format(kw["fmt"])
    if kw["tail"] and kw["shift"]:
        import click

        from fitcore.potential import TAIL_AND_SHIFT
        raise click.UsageError(f"--tail with --shift: {TAIL_AND_SHIFT}")
    spec = fit_spec(kw)  # reads --init-file: fails before the (long) reading of the data if it is bad
    dataset, moments, model = load(kw, reporter, length_to_angstrom(kw, kw["cutoff"]), kw["shift"], kw["forces"],
                                   need_energies=True)
    options = fit_options(kw)  # imports the optimiser: after load() has started the workers
    if kw["init_file"] == "uff":
        spec = _with_uff_start(spec, dataset.type_names)
    hopping = kw["method"] == "basinhopping"
    try:
        with reporter.progress("basin-hopping", kw["niter"]) if hopping else contextlib.nullcontext() as update:
            result = fit_dataset(dataset, moments, model, spec, options, progress=update)
    except UnknownParameter as err:  # a misspelt name in --init/--fix/--bound: a usage error, like click's own
        import click
        option = next((o for o, values in (("--init", kw["init"]), ("--fix", kw["fix"]), ("--bound", kw["bounds"]))
                       if err.name in values), "--init-file")
        raise click.BadParameter(str(err), param_hint=option) from None
    params = _with_fit_section(result, kw, dataset)
    fit_report(result, params, kw, fmt)
    if kw["output"]:
        from fitcore.io.params_file import params_json
        atomic_write(kw["output"], params_json(params, kw["energy_unit"], kw["length_unit"]))
        reporter.info(f"wrote {kw['output']}")
    if kw["residuals"]:
        atomic_write(kw["residuals"], residuals_csv(residual_rows(dataset, result.energy_pred, kw["energy_unit"])))
        reporter.info(f"wrote {kw['residuals']}")
    if kw["plot"]:
        from .plot import parity_plot
        parity_plot(kw["plot"], dataset, result.energy_pred, result.statistics, kw["energy_unit"])
        reporter.info(f"wrote {kw['plot']}")
    if fmt != "table":  # stdout holds the data; people still want to know how good the fit is
        for line in fit_summary_lines(result, params.fit):
            reporter.info(line)
    if not result.converged:
        reporter.warn(f"the fit did not converge: {result.outcome.message}")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


def _with_fit_section(result, kw: dict, dataset):
    from dataclasses import replace

    import fitcore

    from .render import statistics_in_units
    names = result.params.names
    outcome = result.outcome
    options = {k: v for k, v in kw.items() if k not in ("files", "output", "residuals", "plot", "fmt", "quiet", "debug",
                                                     "scheduler", "scheduler_file")}
    section = {
        "ljfit_version": fitcore.__version__,
        "command": _command_line(),
        "method": kw["method"], "algorithm": kw["algorithm"], "loss": kw["loss"], "seed": outcome.seed,
        "options": options,
        "inputs": [_file_record(p) for p in kw["files"]]
        + ([_file_record(kw["energies"])] if kw["energies"] else []),
        "statistics": statistics_in_units(result.statistics, kw["energy_unit"], kw["length_unit"]),
        "flags": {n: list(f) for n, f in zip(names, result.flags) if f},
        "strong_correlations": [[a, b, c] for a, b, c in result.strong_correlations],
        "absent_pairs": list(result.absent_pairs),
        "notes": list(result.notes),
    }
    if kw["method"] == "basinhopping":
        section["basinhopping"] = {"hops": outcome.hops, "distinct_minima": len(outcome.minima),
                                   "minima_costs": [c for c, _ in outcome.minima[:20]]}
    return replace(result.params, fit=section)


def _command_line() -> str:
    import shlex

    import click
    argv = click.get_current_context().meta.get("ljfit.argv", sys.argv[1:])
    return shlex.join(["ljfit"] + [str(a) for a in argv])


def _file_record(path: str) -> dict:
    import os

    from fitcore.cache import file_digest
    if path == "-":
        return {"path": "-"}
    return {"path": path, "bytes": os.path.getsize(path), "sha256": file_digest(path)}
