"""Physically plausible ranges of Lennard-Jones parameters, and the flag for values outside them.

The ranges (eV, Å) hold every UFF element (epsilon 0.00026-0.030 eV, sigma 2.1-4.4 Å)
with a wide margin, and the usual force fields' atom types too:

    epsilon  1e-5 eV (0.12 K) .. 0.1 eV (1160 K)
    sigma    1 Å .. 6 Å

A fitted value outside them, or at a lower bound of 0, is almost never physics: it is
the fit absorbing what LJ cannot describe (electrostatics, hydrogen bonds) or a
direction the data do not determine (too few distinct distances).
"""
import numpy as np

from .params import Layout

PLAUSIBLE = {"epsilon": (1e-5, 0.1), "sigma": (1.0, 6.0)}  # eV, Å
UNITS = {"epsilon": "eV", "sigma": "Å"}


def implausible(layout: Layout, theta: np.ndarray, free: np.ndarray) -> np.ndarray:
    """[n_params] bool: free epsilon or sigma outside its plausible range."""
    out = np.zeros(len(theta), bool)
    for k, name in enumerate(layout.names[:layout.n_lj]):
        low, high = PLAUSIBLE[name.rpartition(".")[2]]
        out[k] = bool(free[k]) and not low <= theta[k] <= high
    return out


def implausible_message(layout: Layout, theta: np.ndarray, flagged: np.ndarray) -> str:
    """The warning for the flagged parameters: which, where they should be, and the usual causes."""
    parts = []
    for k in np.flatnonzero(flagged):
        kind = layout.names[k].rpartition(".")[2]
        low, high = PLAUSIBLE[kind]
        parts.append(f"{layout.names[k]} = {theta[k]:.3g} {UNITS[kind]} (plausible {low:g}-{high:g} {UNITS[kind]})")
    return (f"implausible values: {', '.join(parts)}. Usual causes: electrostatics or hydrogen bonds absorbed by "
            f"the LJ terms (give the atoms' charges, or leave such frames out), or too few distinct distances to "
            f"separate epsilon from sigma (add data, fix parameters, or add --prior uff)")
