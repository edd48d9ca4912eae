"""Energies tables: CSV or TSV with a header ``name,energy[,baseline][,weight]``, joined on frame names.

The optional ``baseline`` column (or a frame key named by ``--baseline-key``) is a per-frame
energy from elsewhere (D3 dispersion, polarisation, a reference potential) that is added to the
model: the fit sees energy - baseline, and predictions include it.
"""
import csv
import warnings
from dataclasses import replace

import numpy as np

from ..dataset import Dataset
from ..errors import InputError, LjfitWarning, where
from ..units import energy_factor



def read_energy_table(path: str, energy_unit: str = "eV") -> dict[str, tuple[float, float, int]]:
    """name -> (energy in eV, weight, line) from a CSV/TSV file with a header row."""
    return read_energies_and_baselines(path, energy_unit)[0]


def read_energies_and_baselines(path: str, energy_unit: str = "eV") -> tuple[dict, dict | None]:
    """name -> (energy in eV, weight, line), and name -> baseline in eV (None without a baseline column)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheets start CSV with a BOM
            text = handle.read()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: looks like a binary file, not a CSV/TSV table") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"{path}: energies table is empty (expected a header name,energy[,weight])")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in next(rows)]
    for needed in ("name", "energy"):
        if needed not in header:
            raise InputError(f"{where(path, 1)}: header has no {needed!r} column (expected name,energy[,weight])")
    col = {h: header.index(h) for h in ("name", "energy", "weight", "baseline") if h in header}
    to_ev = energy_factor(energy_unit)
    table: dict[str, tuple[float, float, int]] = {}
    baselines: dict[str, float] | None = {} if "baseline" in col else None
    for line, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(header):  # more fields than the header: a decimal comma, say ("-0,042")
            raise InputError(f"{where(path, line)}: {len(row)} fields but the header has {len(header)} "
                             f"({','.join(header)}); decimal commas are not numbers here")
        name = row[col["name"]].strip()
        energy = _value(row[col["energy"]], where(path, line), "energy")
        weight = _value(row[col["weight"]], where(path, line), "weight") if "weight" in col else 1.0
        if weight <= 0:
            raise InputError(f"{where(path, line)}: weight {weight} must be positive")
        if name in table:
            raise InputError(f"{where(path, line)}: name {name!r} appears twice (first at line {table[name][2]})")
        table[name] = (energy * to_ev, weight, line)
        if baselines is not None:
            baselines[name] = _value(row[col["baseline"]], where(path, line), "baseline") * to_ev
    return table, baselines


def _value(text: str, at: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{at}: {what} {text.strip()!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(f"{at}: {what} {text.strip()} is not finite")
    return value


def join_energies(dataset: Dataset, table: dict[str, tuple[float, float, int]], path: str) -> Dataset:
    """Energies (and weights) from ``table`` for the frames it names; the table wins over the files."""
    energies, weights = dataset.energies.copy(), dataset.weights.copy()
    index = {name: k for k, name in enumerate(dataset.names)}
    for name, (energy, weight, _) in table.items():
        k = index.get(name)
        if k is not None:
            energies[k], weights[k] = energy, weight
    unmatched = [name for name in table if name not in index]
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
        warnings.warn(LjfitWarning(f"{path}: {len(unmatched)} row(s) match no frame: {shown}"), stacklevel=2)
    return replace(dataset, energies=energies, weights=weights)


def join_baselines(dataset: Dataset, baselines: dict[str, float], path: str) -> Dataset:
    """The baseline column of an energies table as the dataset's baseline; every frame needs one."""
    if dataset.baseline is not None:
        raise InputError(f"{path}: a baseline column and --baseline-key both give baselines; give one")
    values = np.array([baselines.get(name, np.nan) for name in dataset.names])
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        k = int(missing[0])
        raise InputError(f"{path}: the baseline column has no row for frame {dataset.names[k]} "
                         f"({dataset.sources[k]}); {len(missing)} frame(s) have no baseline")
    return replace(dataset, baseline=values)


def baseline_from_key(dataset: Dataset, key: str, energy_unit: str = "eV") -> Dataset:
    """The baseline of each frame from its ``key=`` value (in ``energy_unit``)."""
    values = np.empty(dataset.n_frames)
    for k, info in enumerate(dataset.info):
        value = info.get(key)
        try:
            values[k] = float(value)
        except (TypeError, ValueError):
            what = "has no" if value is None else f"has a non-numeric ({value!r})"
            raise InputError(f"{dataset.sources[k]}: frame {dataset.names[k]} {what} --baseline-key "
                             f"{key} value") from None
        if not np.isfinite(values[k]):
            raise InputError(f"{dataset.sources[k]}: frame {dataset.names[k]}: {key}={value} is not finite")
    return replace(dataset, baseline=values * energy_factor(energy_unit))
