"""The body of ``ljfit predict``: params file + structures -> energies (and forces), report and files."""
import numpy as np

from .config import predict_config
from .loading import load


def run_predict_command(kw: dict, reporter) -> None:
    from fitcore.io.files import atomic_write
    from fitcore.io.params_file import read_params

    from .render import print_prediction
    params, _ = read_params(kw["params_path"])
    config = predict_config(kw, params, reporter.warn)
    out = config.outputs
    with_forces = bool(out.structures)
    missing_cutoff = f"a cutoff, but {kw['params_path']} has cutoff null (give --cutoff)"
    dataset, moments = load(config, reporter, with_forces, warm=("torch",),
                            cutoff_needed=missing_cutoff, coordinates=with_forces)
    from fitcore.predicting import predict_parts  # after load(): workers first, then torch (see fitting.py)
    from fitcore.report import prediction_report
    if out.plot and np.isnan(dataset.energies).all():
        import click
        raise click.UsageError("--plot needs reference energies (an energy= key or --energies)")
    prediction = predict_parts(dataset, moments, params, config.model, with_forces, kw["params_path"])
    if params.baseline is not None and prediction.baseline is None:
        reporter.warn(f"{kw['params_path']} was fitted on top of a baseline ({params.baseline}), which this "
                      f"prediction does not add: give --baseline-key or a baseline column of --energies")
    parts = {"lj": prediction.lj, "coulomb": prediction.coulomb, "baseline": prediction.baseline}
    report = prediction_report(dataset, prediction.energies, config.units, parts)
    print_prediction(report, config.fmt)
    if out.structures:
        atomic_write(out.structures, _structures_text(dataset, moments, prediction, config))
        reporter.info(f"wrote {out.structures}")
    if out.plot:
        from .plot import parity_plot
        parity_plot(out.plot, dataset, report.energy_ref, report.energy_pred, report.energy, config.units.energy)
        reporter.info(f"wrote {out.plot}")


def _structures_text(dataset, moments, prediction, config) -> str:
    """--write-structures: the frames with the prediction, its parts and the charges used (in the column
    they were read from, else ASE's initial_charges), in eV and Å."""
    from fitcore.charges import charge_column
    from fitcore.io.write import WrittenCharges, extxyz_text
    charges = None
    if moments is not None and moments.charges is not None:
        column = charge_column(dataset, config.model.coulomb_options.charge_key)
        charges = WrittenCharges(values=np.asarray(moments.charges), column=column or "initial_charges")
    parts = {}
    if prediction.coulomb is not None or prediction.baseline is not None:
        parts = {key: values for key, values in (("energy_lj", prediction.lj), ("energy_coulomb", prediction.coulomb),
                                                 ("baseline", prediction.baseline)) if values is not None}
    return extxyz_text(dataset, prediction.energies, prediction.forces, charges, parts)
