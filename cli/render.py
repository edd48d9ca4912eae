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


def inspect_report(dataset, moments, config, fmt: str) -> None:
    from fitcore.summary import dataset_summary
    summary = dataset_summary(dataset, moments, config.model.cutoff, config.units.energy, config.units.length)
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


def _stats_line(label: str, b, unit: str) -> str:
    return (f"{label}: RMSE {_fmt(b.rmse, 4)} {unit}, MAE {_fmt(b.mae, 4)}, max {_fmt(b.max_abs, 4)}, "
            f"R² {_fmt(b.r2, 6)} ({b.n} values)")


def fit_summary_lines(report) -> list[str]:
    """The statistics and notes of a fit as lines for stderr (when stdout carries CSV or JSON)."""
    lines = [_stats_line("energies", report.energy, report.energy_unit)] if report.energy.n else []
    if report.forces is not None and report.forces.n:
        lines.append(_stats_line("forces", report.forces, report.units.force))
    return lines + list(report.lines)


def print_fit(report, fmt: str) -> None:
    """The fit report on stdout: JSON, CSV (one row per parameter) or rich tables."""
    if fmt == "json":
        emit(to_json(report.json_document()))
    elif fmt == "csv":
        emit(fit_csv(report.parameters))
    else:
        _fit_tables(report)


def fit_csv(parameters) -> str:
    """One row per parameter: parameter,value,stderr,unit,flags, then ci95_lo,ci95_hi with --bootstrap
    (empty for fixed parameters)."""
    header, rows = ["parameter", "value", "stderr", "unit", "flags"], []
    with_ci = any(r.ci95 is not None for r in parameters)
    for r in parameters:
        rows.append([r.name, r.value, r.stderr, r.unit, "; ".join(r.flags)]
                    + ([*(r.ci95 or (None, None))] if with_ci else []))
    return csv_text(header + (["ci95_lo", "ci95_hi"] if with_ci else []), rows)


def _fit_tables(report) -> None:
    from rich.table import Table
    console = _stdout_console()
    table = Table(title="Fitted parameters", title_justify="left")
    for col, justify in (("parameter", "left"), ("value", "right"), ("± stderr", "right"), ("unit", "left"),
                         ("flags", "left")):
        table.add_column(col, justify=justify)
    for r in report.parameters:
        table.add_row(r.name, _fmt(r.value, 8), _fmt(r.stderr, 3), r.unit, "; ".join(r.flags),
                      style="yellow" if r.flags else None)
    console.print(table)
    errors = Table(title="Errors (predicted - reference)", title_justify="left")
    for col in ("", "RMSE", "MAE", "max |err|", "R²", "values", "unit"):
        errors.add_column(col, justify="left" if col in ("", "unit") else "right")
    for label, b, unit in (("energies", report.energy, report.energy_unit),
                           ("forces", report.forces, report.units.force)):
        if b is not None and b.n:
            errors.add_row(label, _fmt(b.rmse, 4), _fmt(b.mae, 4), _fmt(b.max_abs, 4), _fmt(b.r2, 6), str(b.n), unit)
    console.print(errors)
    for line in report.lines:
        console.print(line, markup=False, highlight=False)


# ---------------------------------------------------------------- predict / residuals


def residuals_csv(report) -> str:
    """A PredictionReport's rows as CSV."""
    return csv_text(list(report.columns), report.rows)


def print_prediction(report, fmt: str) -> None:
    unit, b = report.units.energy, report.energy
    if fmt == "csv":
        emit(residuals_csv(report))
    elif fmt == "json":
        from fitcore.report import stats_dict
        emit(to_json({"unit": unit, "frames": [dict(zip(report.columns, r)) for r in report.rows],
                      "statistics": stats_dict(b, unit) if b is not None else None}))
    else:
        from rich.table import Table
        console = _stdout_console()
        table = Table(title=f"Predicted energies ({unit})", title_justify="left")
        for col in report.columns:  # fold, not an ellipsis, where the terminal is too narrow for every digit
            table.add_column(col, justify="left" if col == "name" else "right", overflow="fold")
        for r in report.rows:
            table.add_row(r[0], str(r[1]), *(_fmt(v, 10) for v in r[2:]))
        console.print(table)
        if b is not None:
            console.print(f"RMSE {_fmt(b.rmse, 4)}  MAE {_fmt(b.mae, 4)}  max {_fmt(b.max_abs, 4)} "
                          f"{unit}   R² {_fmt(b.r2, 6)}   ({b.n} frames with a reference)")
