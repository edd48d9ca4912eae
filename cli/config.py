"""RunConfig: a command's click options made, once, into the library's typed options.

Units are applied here and only here on the way in: cutoffs, starting values and bounds
arrive in eV and Å in the library. (On the way out, fitcore.report converts.)
"""
from dataclasses import dataclass, field

from fitcore.io.inputs import DataOptions
from fitcore.io.xyz import ReadOptions
from fitcore.spec import FitOptions, FitSpec, ModelOptions
from fitcore.units import Units

from .options import coulomb_config, scheduler_config
from .output import resolve_format

NOT_RECORDED = ("files", "output", "residuals", "plot", "fmt", "quiet", "debug", "scheduler",
                "scheduler_file")  # options left out of params files (where a run happened is not what it fitted)


@dataclass(frozen=True, kw_only=True)
class Outputs:
    params: str | None = None  # -o: the fitted params file
    residuals: str | None = None  # per-frame residuals CSV
    plot: str | None = None  # parity plot
    structures: str | None = None  # predict --write-structures


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything a command needs; physical values in eV and Å."""
    files: tuple[str, ...]  # inputs, globs already expanded ("-": stdin)
    data: DataOptions
    units: Units
    model: ModelOptions
    fmt: str  # table | csv | json (auto already resolved)
    cache: str | None = None
    threads: int | None = None
    scheduler: object | None = None  # fitcore.cluster.Scheduler: featurize on a Dask cluster
    outputs: Outputs = Outputs()
    spec: FitSpec | None = None  # fit only
    fit_options: FitOptions | None = None  # fit only
    options: dict = field(default_factory=dict)  # every option as given, for the params file's record


def _units(kw: dict) -> Units:
    return Units(energy=kw["energy_unit"], length=kw["length_unit"])


def _data(kw: dict, units: Units) -> DataOptions:
    read = ReadOptions(energy_key=kw["energy_key"], type_key=kw["type_key"], fragment_key=kw["fragment_key"],
                       length_unit=units.length, energy_unit=units.energy)
    return DataOptions(read=read, energies=kw["energies"], fragment_split=kw["fragment_split"],
                       site_types=kw.get("site_types"), baseline_key=kw.get("baseline_key"))


def _model(kw: dict, cutoff: float | None, shift: bool, params=None) -> ModelOptions:
    from fitcore.potential import parse_form
    return ModelOptions(cutoff=cutoff, shift=shift, scope=kw.get("interactions", "all"),
                        engine=kw.get("engine", "moments"), device=kw.get("device", "cpu"),
                        dtype=kw.get("dtype", "float64"), form=parse_form(kw.get("potential") or "lj"),
                        tail=bool(kw.get("tail")), coulomb=coulomb_config(kw, params))


def _base(kw: dict, model: ModelOptions, **extra) -> RunConfig:
    units = _units(kw)
    return RunConfig(files=tuple(kw["files"]), data=_data(kw, units), units=units, model=model,
                     fmt=resolve_format(kw["fmt"]), cache=kw.get("cache"), threads=kw.get("threads"),
                     scheduler=scheduler_config(kw),
                     options={k: v for k, v in kw.items() if k not in NOT_RECORDED}, **extra)


def inspect_config(kw: dict) -> RunConfig:
    units = _units(kw)
    return _base(kw, _model({}, kw["cutoff"] * units.length_factor, False))


def fit_config(kw: dict) -> RunConfig:
    """Reads --init-file too: a bad one fails before the (long) reading of the data."""
    from fitcore.io.params_file import read_params
    if kw["tail"] and kw["shift"]:
        import click

        from fitcore.potential import TAIL_AND_SHIFT
        raise click.UsageError(f"--tail with --shift: {TAIL_AND_SHIFT}")
    units = _units(kw)
    in_internal = {name: value * units.parameter_factor(name) for name, value in kw["init"].items()}
    bounds = {name: (lo * units.parameter_factor(name), hi * units.parameter_factor(name))
              for name, (lo, hi) in kw["bounds"].items()}
    spec = FitSpec(mixing=kw["mixing"], offset=kw["offset"], init=in_internal,
                   init_params=read_params(kw["init_file"])[0] if kw["init_file"] not in (None, "uff") else None,
                   fixed=tuple(kw["fix"]),
                   bounds=bounds, forces=kw["forces"], force_weight=kw["force_weight"], per_atom=kw["per_atom"],
                   prior=kw["prior"], prior_width=kw["prior_width"], prior_weight=kw["prior_weight"])
    options = FitOptions(method=kw["method"], algorithm=kw["algorithm"], loss=kw["loss"], f_scale=kw["f_scale"],
                         ftol=kw["ftol"], xtol=kw["xtol"], gtol=kw["gtol"], max_nfev=kw["max_nfev"], niter=kw["niter"],
                         step_size=kw["step_size"], temperature=kw["temperature"], seed=kw["seed"],
                         multistart=kw["multistart"])
    cutoff = None if kw["cutoff"] is None else kw["cutoff"] * units.length_factor
    outputs = Outputs(params=kw["output"], residuals=kw["residuals"], plot=kw["plot"])
    return _base(kw, _model(kw, cutoff, kw["shift"]), spec=spec, fit_options=options, outputs=outputs)


def predict_config(kw: dict, params, warn) -> RunConfig:
    """The params file's cutoff and shift; --cutoff only stands in for a missing cutoff (``warn`` otherwise)."""
    units = _units(kw)
    cutoff = params.cutoff
    if kw["cutoff"] is not None and cutoff is not None:
        warn(f"--cutoff {kw['cutoff']:g} ignored: {kw['params_path']} has cutoff {cutoff:g} Å, "
             f"which the parameters were made for")
    elif kw["cutoff"] is not None:
        cutoff = kw["cutoff"] * units.length_factor
    outputs = Outputs(plot=kw["plot"], structures=kw["write_structures"])
    model = _model({**kw, "potential": params.form.label, "tail": params.tail}, cutoff, params.shift, params)
    return _base(kw, model, outputs=outputs)
