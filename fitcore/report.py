"""Reports: a fit or a prediction as people and files see it, every value in the run's units.

The library builds the report (lmfit's fit_report idea, as a record rather than a string);
the CLI only formats it: a rich table, CSV, JSON, the params file and the parity plot all
read the same ``FitReport``. Units are converted here, once, on the way out.
"""
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .io.params_file import params_to_dict
from .provenance import Provenance
from .result import ErrorStats, FitResult, OptimizerInfo
from .units import Units

PREDICTION_COLUMNS = ("name", "n_atoms", "energy_ref", "energy_pred", "residual")
# the parts of energy_pred, after those columns when the run has a Coulomb term or a baseline
PART_COLUMNS = {"lj": "energy_lj", "coulomb": "energy_coulomb", "baseline": "baseline"}


@dataclass(frozen=True, kw_only=True)
class ParameterRow:
    name: str
    value: float
    stderr: float  # 0 for fixed, inf for undetermined
    unit: str
    flags: tuple[str, ...]
    ci95: tuple[float, float] | None = None  # bootstrap 95% interval (free parameters, with --bootstrap)


@dataclass(frozen=True, kw_only=True, eq=False)
class FitReport:
    units: Units
    parameters: tuple[ParameterRow, ...]
    energy: ErrorStats  # in units.energy (per atom with per_atom)
    energy_unit: str  # "eV" or "eV/atom"
    forces: ErrorStats | None  # in units.force
    optimizer: OptimizerInfo
    lines: tuple[str, ...]  # what a careful reader should know, in words
    document: dict  # the ljfit-params/1 object with its "fit" section
    energy_ref: np.ndarray  # [n_frames] units.energy
    energy_pred: np.ndarray  # [n_frames] units.energy
    converged: bool

    def statistics(self) -> dict:
        return self.document["fit"]["statistics"]

    def json_document(self) -> dict:
        """What ``--format json`` prints: the params object, with the statistics at the top level."""
        data = dict(self.document)
        data.setdefault("pairs", {})
        fit = dict(data["fit"])
        data["statistics"], data["fit"] = fit.pop("statistics"), fit
        return data


def stats_dict(stats: ErrorStats, unit: str) -> dict:
    return {"n": stats.n, "rmse": stats.rmse, "mae": stats.mae, "max_abs": stats.max_abs, "r2": stats.r2,
            "unit": unit}


def fit_report(result: FitResult, units: Units, provenance: Provenance) -> FitReport:
    """The report of ``result`` in ``units``, with where it came from."""
    params, opt = result.params, result.optimizer
    factors = np.array([units.parameter_factor(n) for n in params.names])
    ci95 = (result.validation.ci95 if result.validation is not None else None) or {}
    rows = tuple(ParameterRow(name=n, value=float(v), stderr=float(s), unit=units.parameter_unit(n), flags=f,
                              ci95=tuple(b / k for b in ci95[n]) if n in ci95 else None)
                 for n, v, s, f, k in zip(params.names, params.values / factors, params.stderr / factors, result.flags,
                                          factors))
    energy_unit = units.energy + ("/atom" if result.per_atom else "")
    energy = result.energy.in_unit(units.energy_factor)
    forces = None if result.forces is None else result.forces.in_unit(units.energy_factor / units.length_factor)
    statistics = {"energy": stats_dict(energy, energy_unit), "energy_per_atom": result.per_atom}
    if forces is not None:
        statistics["forces"] = stats_dict(forces, units.force)
    statistics.update(cost=opt.cost, nfev=opt.nfev, njev=opt.njev, status=opt.status, message=opt.message,
                      success=opt.success, n_free=opt.n_free, n_residuals=opt.n_residuals, dof=opt.dof, s2=opt.s2,
                      jacobian_condition=opt.jacobian_condition)
    section = {**provenance.as_dict(), "method": opt.method, "algorithm": opt.algorithm, "loss": opt.loss,
               "seed": opt.seed, "statistics": statistics,
               "flags": {n: list(f) for n, f in zip(params.names, result.flags) if f},
               "strong_correlations": [[a, b, c] for a, b, c in result.strong_correlations],
               "absent_pairs": list(result.absent_pairs), "notes": list(result.notes),
               "minima": [{"cost": m.cost, "rmse": None if m.rmse is None else m.rmse / units.energy_factor,
                           "origin": m.origin} for m in opt.minima]}
    if result.identifiability is not None:
        ident = result.identifiability
        section["identifiability"] = {"rank": ident.rank, "free": ident.free, "data_rank": ident.data_rank,
                                      "directions": list(ident.directions), "to_fix": list(ident.to_fix)}
    if result.validation is not None:
        section["validation"] = _validation_dict(result.validation, units)
    if result.prior is not None:
        section["prior"] = result.prior.as_dict({n: units.parameter_factor(n) for n in result.prior.names})
    if opt.method == "basinhopping":
        section["basinhopping"] = {"hops": opt.hops, "distinct_minima": len(opt.minima),
                                   "minima_costs": [m.cost for m in opt.minima[:20]]}
    document = {**params_to_dict(params, units.energy, units.length), "fit": section}
    return FitReport(units=units, parameters=rows, energy=energy, energy_unit=energy_unit, forces=forces,
                     optimizer=opt, lines=tuple(_lines(result, params.layout.mixing) + (
                         _validation_lines(result.validation, units) if result.validation else [])), document=document,
                     energy_ref=result.energy_ref / units.energy_factor,
                     energy_pred=result.energy_pred / units.energy_factor, converged=result.converged)


def _validation_dict(v, units: Units) -> dict:
    e, f_unit = units.energy_factor, units.energy_factor / units.length_factor
    out = {"seed": v.seed}
    if v.folds:
        out["cv"] = {"k": len(v.folds), "group": v.cv_group, "rmse": v.cv_rmse / e, "mae": v.cv_mae / e,
                     "unit": units.energy,
                     "folds": [{"rmse": f.rmse / e, "mae": f.mae / e, "train_rmse": f.train_rmse / e,
                                "n_test": f.n_test} for f in v.folds]}
        if v.cv_force_rmse is not None:
            out["cv"].update(force_rmse=v.cv_force_rmse / f_unit, force_unit=units.force)
            for fold, stats in zip(out["cv"]["folds"], v.folds):
                fold.update(force_rmse=stats.force_rmse / f_unit, train_force_rmse=stats.train_force_rmse / f_unit)
    if v.ci95:
        out["bootstrap"] = {n: {"ci95": [lo / units.parameter_factor(n), hi / units.parameter_factor(n)]}
                            for n, (lo, hi) in v.ci95.items()}
        out["bootstrap_resamples"], out["bootstrap_failed"] = v.bootstrap_n, v.bootstrap_failed
    if v.test is not None:
        out["test"] = stats_dict(v.test.in_unit(e), units.energy)
    return out


def _validation_lines(v, units: Units) -> list[str]:
    e, unit, lines = units.energy_factor, units.energy, []
    if v.folds:
        folds = ", ".join(f"{f.rmse / e:.4g}" for f in v.folds)
        train = np.mean([f.train_rmse for f in v.folds]) / e
        lines.append(f"cross-validation ({len(v.folds)} folds by {v.cv_group}, seed {v.seed}): held-out RMSE "
                     f"{v.cv_rmse / e:.4g} {unit} (MAE {v.cv_mae / e:.4g}; per fold {folds}), training RMSE "
                     f"{train:.4g} {unit}")
        if v.cv_force_rmse is not None:
            f_unit = e / units.length_factor
            train = np.mean([f.train_force_rmse for f in v.folds]) / f_unit
            lines.append(f"cross-validation: held-out force RMSE {v.cv_force_rmse / f_unit:.4g} {units.force}, "
                         f"training {train:.4g} {units.force}")
    if v.ci95:
        parts = ", ".join(f"{n} [{lo / units.parameter_factor(n):.4g}, {hi / units.parameter_factor(n):.4g}]"
                          for n, (lo, hi) in v.ci95.items())
        failed = f", {v.bootstrap_failed} failed" if v.bootstrap_failed else ""
        lines.append(f"bootstrap ({v.bootstrap_n} resamples{failed}, seed {v.seed}): 95% intervals {parts}")
    if v.test is not None:
        t = v.test.in_unit(e)
        lines.append(f"test set: RMSE {t.rmse:.4g} {unit}, MAE {t.mae:.4g}, max {t.max_abs:.4g}, R² "
                     f"{t.r2 if t.r2 is None else round(t.r2, 6)} ({t.n} frames, not fitted)")
    return lines


def _lines(result: FitResult, mixing: str) -> list[str]:
    opt = result.optimizer
    lines = [f"optimizer: {opt.method}/{opt.algorithm}, {opt.message} nfev {opt.nfev}, cost {opt.cost:.4g} "
             f"(half the weighted squared residuals, eV and Å); {opt.n_residuals} residuals, "
             f"{opt.n_free} free parameters"]
    if opt.method == "basinhopping":
        costs = ", ".join(f"{m.cost:.4g}" for m in opt.minima[:5])
        lines.append(f"basin-hopping: {opt.hops} hops, seed {opt.seed}, {len(opt.minima)} distinct minima, "
                     f"costs {costs}")
    lines += [f"correlation {a} ~ {b}: {c:+.3f}" for a, b, c in result.strong_correlations]
    ident = result.identifiability
    if ident is not None and (not ident.complete or ident.data_rank < ident.rank):
        lines.append(f"identifiability: {ident.sentence()}")
    if result.prior is not None:
        p = result.prior
        lines.append(f"prior: {p.source}, width {p.width:g} (relative), weight {p.weight / p.scale:g} x the data's "
                     f"noise scale {p.scale:.3g}, on {len(p.names)} parameters"
                     + (f"; none for {', '.join(p.missing)}" if p.missing else ""))
    if result.absent_pairs:
        rule = "not fitted" if mixing == "none" else "given by the mixing rule alone"
        lines.append(f"type pairs absent from the data ({rule}): {', '.join(result.absent_pairs)}")
    return lines + [f"note: {n}" for n in result.notes]


@dataclass(frozen=True, kw_only=True, eq=False)
class PredictionReport:
    units: Units
    columns: tuple[str, ...]  # PREDICTION_COLUMNS, then the parts shown (PART_COLUMNS' values)
    rows: list  # one list per frame in ``columns`` order (energy_ref, residual None: no reference)
    energy: ErrorStats | None  # over the frames with a reference, in units.energy
    energy_ref: np.ndarray  # [n_frames] units.energy (NaN: none)
    energy_pred: np.ndarray  # [n_frames] units.energy


def prediction_report(dataset: Dataset, energy_pred: np.ndarray, units: Units,
                      parts: dict[str, np.ndarray | None] | None = None) -> PredictionReport:
    """Per-frame predicted energies (eV in) beside the references, in ``units``.

    ``parts``: {"lj", "coulomb", "baseline"} -> [n_frames] eV or None (absent); they are shown when the
    Coulomb term or the baseline is there (the lj part alone is the total)."""
    ref, pred = dataset.energies / units.energy_factor, energy_pred / units.energy_factor
    known = ~np.isnan(ref)
    parts = parts or {}
    shown = {k: v for k, v in parts.items() if v is not None}
    if set(shown) <= {"lj"}:
        shown = {}
    columns = PREDICTION_COLUMNS + tuple(PART_COLUMNS[k] for k in PART_COLUMNS if k in shown)
    extra = [np.asarray(shown[k], float) / units.energy_factor for k in PART_COLUMNS if k in shown]
    rows = [[name, int(n), float(r) if k else None, float(p), float(p - r) if k else None]
            + [float(values[i]) for values in extra]
            for i, (name, n, r, p, k) in enumerate(zip(dataset.names, dataset.atoms_per_frame, ref, pred, known))]
    energy = ErrorStats.of(pred[known], ref[known]) if known.any() else None
    return PredictionReport(units=units, columns=columns, rows=rows, energy=energy, energy_ref=ref,
                            energy_pred=pred)
