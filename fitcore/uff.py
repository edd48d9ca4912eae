"""UFF Lennard-Jones parameters of every element (Rappé et al., J. Am. Chem. Soc. 114, 10024 (1992)).

The paper's Table 1 gives, per element, x_i: the van der Waals bond length, which is
r_min of the i-i pair (the distance of the energy minimum, not sigma), in Å, and D_i:
the well depth, in kcal/mol. Its 12-6 form E(r) = D_i [(x_i/r)^12 - 2 (x_i/r)^6] is the
Lennard-Jones potential 4 eps [(sigma/r)^12 - (sigma/r)^6] with

    sigma = x_i / 2^(1/6),   epsilon = D_i      (kcal/mol -> eV: x 0.0433641...)

Unlike pairs use x_ij = sqrt(x_i x_j), D_ij = sqrt(D_i D_j) (the paper's eqs 21-22):
geometric mixing. The table itself is data, in ``data/uff.csv``, with its source.
"""
import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import InputError
from .params import LJParams, Layout
from .units import energy_factor

TABLE = Path(__file__).parent / "data" / "uff.csv"
MIXING = "geometric"
R_MIN_PER_SIGMA = 2.0 ** (1.0 / 6.0)


@lru_cache(maxsize=1)
def uff_table() -> dict[str, tuple[float, float]]:
    """element -> (x_i Å, D_i kcal/mol), as printed in the paper."""
    with open(TABLE, encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {r["element"]: (float(r["x_angstrom"]), float(r["D_kcal_per_mol"])) for r in rows}


def uff_lj(element: str) -> tuple[float, float]:
    """(epsilon eV, sigma Å) of ``element``; InputError if UFF has no such element."""
    table = uff_table()
    if element not in table:
        raise InputError(f"UFF has no element {element!r}: its types are the chemical elements H to Lr "
                         f"(give the type's parameters another way, e.g. --init or an --init-file)")
    x, d = table[element]
    return d * energy_factor("kcal/mol"), x / R_MIN_PER_SIGMA


def uff_params(types: tuple[str, ...] | list[str], cutoff: float | None = None, shift: bool = False) -> LJParams:
    """ljfit parameters of ``types`` (chemical elements) from UFF, with geometric mixing (eV, Å)."""
    missing = [t for t in types if t not in uff_table()]
    if missing:
        uff_lj(missing[0])
    values = np.array([v for t in types for v in uff_lj(t)])
    return LJParams(Layout(tuple(types), MIXING), values, cutoff, shift)


def all_elements(types) -> bool:
    """Whether every type is an element UFF knows (the condition for UFF starting points and priors)."""
    table = uff_table()
    return len(types) > 0 and all(t in table for t in types)


def uff_start(layout: Layout, theta: np.ndarray, origin: tuple[str, ...]) -> np.ndarray | None:
    """``theta`` with every epsilon and sigma that came from the data (origin "data") replaced by its UFF
    value (pairs: UFF's geometric mixing); None when the types are not all elements or nothing changes."""
    if not all_elements(layout.type_names):
        return None
    table = uff_params(layout.type_names)
    eps, sigma = table.pair_table()
    out = np.array(theta, float)
    if layout.per_type:
        ie, is_ = layout.eps_sigma_index()
        out[ie], out[is_] = table.values[0::2], table.values[1::2]
    ie, is_ = layout.pair_index()
    for k, (a, b) in enumerate(layout.pairs):
        out[ie[k]], out[is_[k]] = eps[a, b], sigma[a, b]
    from_data = np.array([o == "data" for o in origin]) & (np.arange(len(out)) < layout.n_lj)
    out = np.where(from_data, out, theta)
    return out if np.any(out != theta) else None
