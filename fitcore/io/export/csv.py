"""CSV export: one row per type (and per pair with its own parameters), values and standard errors."""
import numpy as np

from ...params import KINDS, LJParams
from ...units import energy_factor, length_factor


def csv_rows(params: LJParams, energy_unit: str, length_unit: str) -> tuple[list[str], list[list]]:
    """One row per type (and per pair with its own parameters): values and stderr in the given units."""
    layout = params.layout
    e, length = energy_factor(energy_unit), length_factor(length_unit)
    stderr = params.stderr if params.stderr is not None else np.full(len(params.values), np.nan)
    index = {n: k for k, n in enumerate(layout.names)}
    heads = list(layout.type_names) if layout.per_type else []
    heads += [layout.pair_name(a, b) for a, b in layout.pairs]
    rows = []
    for head in heads:
        row = [head]
        for kind, factor in zip(KINDS, (e, length)):
            k = index[f"{head}.{kind}"]
            err = stderr[k] / factor
            row += [params.values[k] / factor, None if np.isnan(err) else err]
        rows.append(row + [energy_unit, length_unit])
    header = ["name", "epsilon", "epsilon_stderr", "sigma", "sigma_stderr", "energy_unit", "length_unit"]
    return header, rows
