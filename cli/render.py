"""Rendering results on stdout: rich tables for people, CSV and JSON for machines."""
import math

import click

from .output import csv_text, to_json


def _stdout_console():
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:  # rich exits 1 here; a reader that stops early is not an error
            import os
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.file.fileno())
            raise SystemExit(0)

    return StdoutConsole(highlight=False)


def _fmt(value, digits: int = 6) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.{digits}g}"
    return str(value)


def emit(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


# ---------------------------------------------------------------- inspect


def inspect_report(dataset, moments, kw: dict, fmt: str) -> None:
    from fitcore.summary import dataset_summary
    from fitcore.units import length_factor
    cutoff = kw["cutoff"] * length_factor(kw["length_unit"])
    summary = dataset_summary(dataset, moments, cutoff, kw["energy_unit"], kw["length_unit"])
    if fmt == "json":
        emit(to_json(summary))
    elif fmt == "csv":
        emit(csv_text(["pair", "count", "min_distance"],
                      [[p["pair"], p["count"], p["min_distance"]] for p in summary["pairs"]]))
    else:
        _inspect_tables(summary)


def _inspect_tables(s: dict) -> None:
    from rich.table import Table
    console = _stdout_console()
    e = s["energy"]
    overview = Table(title="Data", show_header=False, title_justify="left")
    overview.add_row("files", ", ".join(s["files"]))
    overview.add_row("frames", str(s["frames"]))
    low, high = s["atoms_per_frame"]["min"], s["atoms_per_frame"]["max"]
    overview.add_row("atoms", f"{s['atoms']} ({low if low == high else f'{low}-{high}'} per frame)")
    overview.add_row("pbc", ", ".join(f"{k}: {v}" for k, v in s["pbc"].items()))
    overview.add_row("energies", f"{e['frames_with_energy']} frames, {_fmt(e['min'])} to {_fmt(e['max'])} {e['unit']}"
                     f" ({_fmt(e['min_per_atom'])} to {_fmt(e['max_per_atom'])} per atom)")
    overview.add_row("forces", f"{s['frames_with_forces']} frames")
    overview.add_row("fragments", "yes" if s["fragments"] else "no")
    console.print(overview)
    types = Table(title="Types", title_justify="left")
    for col in ("type", "atoms", "frames"):
        types.add_column(col, justify="left" if col == "type" else "right")
    for name, t in s["types"].items():
        types.add_row(name, str(t["atoms"]), str(t["frames"]))
    console.print(types)
    isolated = s["pbc"].get("F F F", 0)
    scope = "" if not isolated else ("; all pairs" if isolated == s["frames"] else "; non-periodic frames: all pairs")
    pairs = Table(title=f"Pairs within {_fmt(s['cutoff'])} {s['length_unit']}{scope}", title_justify="left")
    for col in ("pair", "pairs", "closest"):
        pairs.add_column(col, justify="left" if col == "pair" else "right")
    for p in s["pairs"]:
        pairs.add_row(p["pair"], str(p["count"]), _fmt(p["min_distance"], 4))
    console.print(pairs)


# ---------------------------------------------------------------- fit


def statistics_in_units(stats: dict, energy_unit: str, length_unit: str) -> dict:
    """Error statistics converted from eV (and eV/Å) to the run's units; other figures as they are."""
    from fitcore.units import energy_factor, length_factor
    e, length = energy_factor(energy_unit), length_factor(length_unit)
    out = dict(stats)
    for key, factor, unit in (("energy", e, energy_unit), ("forces", e / length, f"{energy_unit}/{length_unit}")):
        if key in stats:
            block = {k: (v / factor if k in ("rmse", "mae", "max_abs") and v is not None else v)
                     for k, v in stats[key].items()}
            block["unit"] = unit + ("/atom" if key == "energy" and stats.get("energy_per_atom") else "")
            out[key] = block
    return out


def _param_unit(name: str, kw: dict) -> str:
    return kw["length_unit"] if name.endswith(".sigma") else kw["energy_unit"]


def fit_summary_lines(result, section: dict) -> list[str]:
    """The statistics and notes of a fit as lines for stderr (when stdout carries CSV or JSON)."""
    stats = section["statistics"]
    lines = []
    for key, label in (("energy", "energies"), ("forces", "forces")):
        if key in stats and stats[key].get("n"):
            b = stats[key]
            lines.append(f"{label}: RMSE {_fmt(b['rmse'], 4)} {b['unit']}, MAE {_fmt(b['mae'], 4)}, "
                         f"max {_fmt(b['max_abs'], 4)}, R² {_fmt(b['r2'], 6)} ({b['n']} values)")
    return lines + _fit_notes(section, stats, result.outcome)


def fit_report(result, params, kw: dict, fmt: str) -> None:
    from fitcore.io.params_file import params_to_dict
    data = params_to_dict(params, kw["energy_unit"], kw["length_unit"])
    if fmt == "json":
        data.setdefault("pairs", {})
        fit = dict(data["fit"])  # a copy: data["fit"] is params.fit, which the params file still needs
        data["statistics"], data["fit"] = fit.pop("statistics"), fit
        emit(to_json(data))
        return
    from fitcore.params import unit_factors
    factors = unit_factors(params.layout, kw["energy_unit"], kw["length_unit"])
    values, stderr = params.values / factors, params.stderr / factors
    rows = [[n, float(v), float(s), _param_unit(n, kw), "; ".join(f)]
            for n, v, s, f in zip(params.names, values, stderr, result.flags)]
    if fmt == "csv":
        emit(csv_text(["parameter", "value", "stderr", "unit", "flags"], rows))
    else:
        _fit_tables(rows, params.fit, result)


def _fit_tables(rows, section: dict, result) -> None:
    from rich.table import Table
    console = _stdout_console()
    table = Table(title="Fitted parameters", title_justify="left")
    for col, justify in (("parameter", "left"), ("value", "right"), ("± stderr", "right"), ("unit", "left"),
                         ("flags", "left")):
        table.add_column(col, justify=justify)
    for name, value, err, unit, flags in rows:
        table.add_row(name, _fmt(value, 8), _fmt(err, 3), unit, flags, style="yellow" if flags else None)
    console.print(table)
    stats = section["statistics"]
    errors = Table(title="Errors (predicted - reference)", title_justify="left")
    for col in ("", "RMSE", "MAE", "max |err|", "R²", "values", "unit"):
        errors.add_column(col, justify="left" if col in ("", "unit") else "right")
    for key, label in (("energy", "energies"), ("forces", "forces")):
        if key in stats and stats[key].get("n"):
            b = stats[key]
            errors.add_row(label, _fmt(b["rmse"], 4), _fmt(b["mae"], 4), _fmt(b["max_abs"], 4), _fmt(b["r2"], 6),
                           str(b["n"]), b["unit"])
    console.print(errors)
    for line in _fit_notes(section, stats, result.outcome):
        console.print(line, markup=False, highlight=False)


def _fit_notes(section: dict, stats: dict, outcome) -> list[str]:
    lines = [f"optimizer: {section['method']}/{section['algorithm']}, {outcome.message} nfev {outcome.nfev}, "
             f"cost {_fmt(stats['cost'], 4)} (half the weighted squared residuals, eV and Å); "
             f"{stats['n_residuals']} residuals, {stats['n_free']} free parameters"]
    if section.get("basinhopping"):
        bh = section["basinhopping"]
        costs = ", ".join(_fmt(c, 4) for c in bh["minima_costs"][:5])
        lines.append(f"basin-hopping: {bh['hops']} hops, seed {section['seed']}, {bh['distinct_minima']} distinct "
                     f"minima, costs {costs}")
    lines += [f"correlation {a} ~ {b}: {c:+.3f}" for a, b, c in section["strong_correlations"]]
    if section["absent_pairs"]:
        rule = "not fitted" if section["options"].get("mixing") == "none" else "given by the mixing rule alone"
        lines.append(f"type pairs absent from the data ({rule}): {', '.join(section['absent_pairs'])}")
    return lines + [f"note: {n}" for n in section["notes"]]


# ---------------------------------------------------------------- predict / residuals


PREDICTION_COLUMNS = ["name", "n_atoms", "energy_ref", "energy_pred", "residual"]


def residual_rows(dataset, energy_pred, energy_unit: str) -> list[list]:
    """Rows name, n_atoms, energy_ref, energy_pred, residual in ``energy_unit`` (empty ref: None)."""
    from fitcore.units import energy_factor
    e = energy_factor(energy_unit)
    rows = []
    for name, n, ref, pred in zip(dataset.names, dataset.atoms_per_frame, dataset.energies, energy_pred):
        known = not math.isnan(ref)
        rows.append([name, int(n), ref / e if known else None, pred / e, (pred - ref) / e if known else None])
    return rows


def residuals_csv(rows: list[list]) -> str:
    return csv_text(PREDICTION_COLUMNS, rows)


def predict_report(rows: list[list], statistics: dict | None, energy_unit: str, fmt: str) -> None:
    if fmt == "csv":
        emit(residuals_csv(rows))
    elif fmt == "json":
        emit(to_json({"unit": energy_unit, "frames": [dict(zip(PREDICTION_COLUMNS, r)) for r in rows],
                      "statistics": statistics}))
    else:
        from rich.table import Table
        console = _stdout_console()
        table = Table(title=f"Predicted energies ({energy_unit})", title_justify="left")
        for col in PREDICTION_COLUMNS:
            table.add_column(col, justify="left" if col == "name" else "right")
        for r in rows:
            table.add_row(r[0], str(r[1]), *(_fmt(v, 10) for v in r[2:]))
        console.print(table)
        if statistics:
            b = statistics
            console.print(f"RMSE {_fmt(b['rmse'], 4)}  MAE {_fmt(b['mae'], 4)}  max {_fmt(b['max_abs'], 4)} "
                          f"{energy_unit}   R² {_fmt(b['r2'], 6)}   ({b['n']} frames with a reference)")
