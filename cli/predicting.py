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
    from fitcore.predicting import predict_dataset  # after load(): workers first, then torch (see fitting.py)
    from fitcore.report import prediction_report
    if out.plot and np.isnan(dataset.energies).all():
        import click
        raise click.UsageError("--plot needs reference energies (an energy= key or --energies)")
    energies, forces = predict_dataset(dataset, moments, params, config.model, with_forces, kw["params_path"])
    report = prediction_report(dataset, energies, config.units)
    print_prediction(report, config.fmt)
    if out.structures:
        from fitcore.io.write import extxyz_text
        atomic_write(out.structures, extxyz_text(dataset, energies, forces))
        reporter.info(f"wrote {out.structures}")
    if out.plot:
        from .plot import parity_plot
        parity_plot(out.plot, dataset, report.energy_ref, report.energy_pred, report.energy, config.units.energy)
        reporter.info(f"wrote {out.plot}")
