"""The body of ``ljfit fit``: RunConfig -> library calls -> report and files."""
import contextlib
import sys
from dataclasses import replace

from .config import RunConfig, fit_config
from .output import EXIT_NOT_CONVERGED, EXIT_OK, write_output


def run_fit_command(kw: dict, reporter) -> int:
    from .loading import load
    config = fit_config(kw)
    by_key = bool(kw["cv"]) and kw["cv_group"] not in ("frame", "file")  # frame info is kept for --cv-group KEY
    dataset, moments = load(config, reporter, config.spec.forces, need_energies=True, coordinates=by_key)
    # torch and scipy only now: load() starts the workers first (by fork, before torch exists in this
    # process) and imports them while the workers read
    from fitcore.fitting import fit_dataset
    from fitcore.params import UnknownParameter
    from fitcore.report import fit_report
    if kw["init_file"] == "uff":
        config = replace(config, spec=_with_uff_start(config.spec, dataset.type_names))
    hopping = config.fit_options.method == "basinhopping"
    try:
        with reporter.progress("basin-hopping", config.fit_options.niter) if hopping else contextlib.nullcontext() \
                as update:
            result = fit_dataset(dataset, moments, config.model, config.spec, config.fit_options, progress=update,
                                 validation=_validation_options(kw, config.threads))
    except UnknownParameter as err:  # a misspelt name in --init/--fix/--bound: a usage error, like click's own
        import click
        option = next((o for o, values in (("--init", kw["init"]), ("--fix", kw["fix"]), ("--bound", kw["bounds"]))
                       if err.name in values), "--init-file")
        raise click.BadParameter(str(err), param_hint=option) from None
    result = _with_charges(result, moments, dataset, config)
    if kw["test_files"]:
        result = _with_test_errors(result, kw, config, reporter)
    report = fit_report(result, config.units, _provenance(config))
    _write_outputs(config, report, result.energy_pred, dataset, reporter)
    return _finish(config, report, reporter)


def _validation_options(kw: dict, threads: int | None):
    """--cv, --bootstrap; their refits may use a worker per CPU (capped by --threads; refits.py decides)."""
    from fitcore.validation import ValidationOptions
    from fitcore.workers import worker_count
    return ValidationOptions(cv=kw["cv"] or 0, cv_group=kw["cv_group"], bootstrap=kw["bootstrap"] or 0,
                             seed=kw["seed"], workers=worker_count(threads))


def _with_test_errors(result, kw: dict, config: RunConfig, reporter):
    """The fitted parameters' errors on the --test structures (read as the fit's inputs are)."""
    from fitcore.predicting import predict_dataset
    from fitcore.result import ErrorStats
    from fitcore.validation import Validation

    from .loading import load
    test_config = fit_config({**kw, "files": kw["test_files"], "energies": kw["test_energies"]})
    dataset, moments = load(test_config, reporter, False, need_energies=True)
    energies, _ = predict_dataset(dataset, moments, result.params, config.model, False, source="--test")
    per = dataset.atoms_per_frame if config.spec.per_atom else 1.0
    stats = ErrorStats.of(energies / per, dataset.energies / per)
    validation = result.validation or Validation(seed=kw["seed"])
    return replace(result, validation=replace(validation, test=stats))


def _with_charges(result, moments, dataset, config: RunConfig):
    """The params file records the charges (per type, where they are), the Coulomb options and where the
    baseline came from (so that predict can say when it is not added back)."""
    from fitcore.coulomb import coulomb_record
    charges, record = coulomb_record(moments, dataset, config.model.coulomb_options)
    baseline = None
    if dataset.baseline is not None:
        key = config.data.baseline_key
        baseline = f"--baseline-key {key}" if key else f"the baseline column of {config.data.energies}"
    return replace(result, params=replace(result.params, charges=charges, coulomb=record, baseline=baseline))


def _with_uff_start(spec, type_names):
    from fitcore.errors import InputError
    from fitcore.uff import uff_params
    try:
        return replace(spec, init_params=uff_params(type_names))
    except InputError as err:
        raise InputError(f"--init-file uff: {err}") from None


def _write_outputs(config: RunConfig, report, energy_pred, dataset, reporter) -> None:
    """The report on stdout and the files asked for; ``energy_pred`` [n_frames] eV, as fitted."""
    from fitcore.io.params_file import document_json
    from fitcore.report import prediction_report

    from .render import print_fit, residuals_csv
    out = config.outputs
    if out.params != "-":  # -o -: the params file is the data on stdout, and the report goes to stderr
        print_fit(report, config.fmt)
    if out.params:
        write_output(out.params, document_json(report.document), reporter)
    if out.residuals:
        write_output(out.residuals, residuals_csv(prediction_report(dataset, energy_pred, config.units)), reporter)
    if out.plot:
        from .plot import parity_plot
        parity_plot(out.plot, dataset, report.energy_ref, report.energy_pred, report.energy, report.energy_unit)
        reporter.info(f"wrote {out.plot}")


def _finish(config: RunConfig, report, reporter) -> int:
    from .render import fit_summary_lines
    if config.fmt != "table" or config.outputs.params == "-":  # stdout holds data; people want to know the fit
        for line in fit_summary_lines(report):
            reporter.info(line)
    if not report.converged:
        reporter.warn(f"the fit did not converge: {report.optimizer.message}")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


def _provenance(config: RunConfig):
    import fitcore
    from fitcore.provenance import Provenance, input_files
    paths = list(config.files) + ([config.data.energies] if config.data.energies else [])
    return Provenance(version=fitcore.__version__, command=_command_line(), options=config.options,
                      inputs=input_files(paths))


def _command_line() -> str:
    import shlex

    import click
    argv = click.get_current_context().meta.get("ljfit.argv", sys.argv[1:])
    return shlex.join(["ljfit"] + [str(a) for a in argv])
