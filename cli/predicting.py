"""The body of ``ljfit predict``: params file + structures -> energies (and forces), report and files."""
import numpy as np

from .loading import length_to_angstrom, load
from .output import resolve_format


def _cutoff(params, kw: dict, reporter) -> float | None:
    """The params file's cutoff; --cutoff only stands in for a missing one."""
    if kw["cutoff"] is None:
        return params.cutoff
    if params.cutoff is not None:
        reporter.warn(f"--cutoff {kw['cutoff']:g} ignored: {kw['params_path']} has cutoff "
                      f"{params.cutoff:g} Å, which the parameters were made for")
        return params.cutoff
    return length_to_angstrom(kw, kw["cutoff"])


def run_predict_command(kw: dict, reporter) -> None:
    from fitcore.io.files import atomic_write
    from fitcore.io.params_file import read_params
    from fitcore.result import error_statistics
    from fitcore.units import energy_factor
    from fitcore.workflow import predict_dataset

    from .render import predict_report, residual_rows
    params, _ = read_params(kw["params_path"])
    with_forces = bool(kw["write_structures"])
    missing_cutoff = f"a cutoff, but {kw['params_path']} has cutoff null (give --cutoff)"
    model_kw = {**kw, "potential": params.form.label, "tail": params.tail}  # the form and tail of the parameters
    dataset, moments, model = load(model_kw, reporter, _cutoff(params, kw, reporter), params.shift,
                                   with_forces and kw["engine"] == "moments", warm=("torch",),
                                   cutoff_needed=missing_cutoff, coordinates=with_forces)
    known = ~np.isnan(dataset.energies)
    if kw["plot"] and not known.any():
        import click
        raise click.UsageError("--plot needs reference energies (an energy= key or --energies)")
    energies, forces = predict_dataset(dataset, moments, params, model, with_forces, kw["params_path"])
    e = energy_factor(kw["energy_unit"])
    stats = error_statistics(energies[known] / e, dataset.energies[known] / e) if known.any() else None
    predict_report(residual_rows(dataset, energies, kw["energy_unit"]), stats, kw["energy_unit"],
                   resolve_format(kw["fmt"]))
    if kw["write_structures"]:
        from fitcore.io.write import extxyz_text
        atomic_write(kw["write_structures"], extxyz_text(dataset, energies, forces))
        reporter.info(f"wrote {kw['write_structures']}")
    if kw["plot"]:
        from .plot import parity_plot
        parity_plot(kw["plot"], dataset, energies, {"energy": stats}, kw["energy_unit"], already_converted=True)
        reporter.info(f"wrote {kw['plot']}")
