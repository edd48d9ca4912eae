"""GROMACS export: the ``[ defaults ]``, ``[ atomtypes ]`` and ``[ nonbond_params ]`` of a topology (nm, kJ/mol).

GROMACS's combination rules (``comb-rule`` of ``[ defaults ]``):

    2   sigma and epsilon in atomtypes, Lorentz-Berthelot: our lorentz-berthelot
    3   sigma and epsilon in atomtypes, geometric in both: our geometric
    1   C6 = 4 eps sigma^6 and C12 = 4 eps sigma^12 in atomtypes, geometric mean of C6 and C12

Rule 1 mixes as our geometric rule does, so sixthpower and ``none`` are written with
rule 1 and every unlike pair in ``[ nonbond_params ]``; with rules 2 and 3 only the
pairs that override the rule are there. The cutoff is no topology setting: the header
says the .mdp lines that give the params file's treatment (``vdw-modifier``).
"""
import warnings

import numpy as np

from ...elements import ATOMIC_MASS
from ...errors import InputError, LjfitWarning
from ...params import LJParams
from .common import TO_KJ, TO_NM, element_of, pair_parameters, require_lj, type_charges, type_values

COMB_RULE = {"lorentz-berthelot": 2, "geometric": 3}  # every other mixing: rule 1 with C6/C12


def _mdp_note(params: LJParams, source: str, cutoff: float | None) -> list[str]:
    rc = params.cutoff if params.cutoff is not None else cutoff
    if rc is None:
        raise InputError(f"{source}: the parameters have no cutoff (cutoff: null) and GROMACS needs rvdw; give --cutoff")
    modifier = "Potential-shift" if params.shift else "None"
    how = "shifted to zero at the cutoff" if params.shift else "truncated at the cutoff, not shifted"
    if params.cutoff is None:
        how = f"{rc:g} Å given with --cutoff; the fit used no cutoff (plain sum over all pairs)"
    return [f"; cutoff: {how}; in the .mdp:",
            f";   cutoff-scheme = Verlet, vdwtype = Cut-off, vdw-modifier = {modifier}, rvdw = {rc * TO_NM:.10g},",
            ";   DispCorr = no (rvdw must stay below half the shortest box height)"]


def _vw(eps: float, sigma: float, rule: int) -> tuple[float, float]:
    """The two numbers GROMACS reads for (eps eV, sigma Å): (sigma nm, eps kJ/mol) or (C6, C12)."""
    eps, sigma = eps * TO_KJ, sigma * TO_NM
    return (sigma, eps) if rule != 1 else (4 * eps * sigma**6, 4 * eps * sigma**12)


def _atom(name: str) -> tuple[int, float]:
    """(atomic number, mass g/mol) of a type name; (0, 0.0) with a warning when it names no element."""
    symbol = element_of(name)
    if symbol is None:
        warnings.warn(LjfitWarning(f"type {name!r} is not an element symbol or number: its GROMACS mass is "
                                   f"written as 0; set it in [ atomtypes ] or [ atoms ]"), stacklevel=3)
        return 0, 0.0
    return list(ATOMIC_MASS).index(symbol) + 1, ATOMIC_MASS[symbol]


def gromacs_topology(params: LJParams, source: str = "", cutoff: float | None = None) -> str:
    """A topology fragment to #include before the molecule types; type names are the params file's."""
    require_lj(params, "GROMACS", source)
    layout = params.layout
    rule = COMB_RULE.get(layout.mixing, 1)
    columns = "sigma (nm)  epsilon (kJ/mol)" if rule != 1 else "C6 (kJ/mol nm^6)  C12 (kJ/mol nm^12)"
    lines = [f"; Lennard-Jones parameters exported by ljfit from {source or 'a params file'}",
             f"; mixing {layout.mixing}" + ("" if rule != 1 else f": comb-rule 1, unlike pairs in [ nonbond_params ]"),
             *_mdp_note(params, source, cutoff)]
    if layout.offset != "none":
        lines.append("; note: the fit's energy offsets have no GROMACS equivalent and are not exported")
    if params.tail:
        lines.append("; note: the fit's tail correction (LAMMPS pair_modify tail yes) has no exact GROMACS "
                     "equivalent: DispCorr = Ener corrects the r^-6 part only, with an average C6")
    lines += ["", "[ defaults ]", "; nbfunc  comb-rule  gen-pairs  fudgeLJ  fudgeQQ",
              f"  1       {rule}          no         1.0      1.0",
              "", "[ atomtypes ]", f"; name  at.num  mass  charge  ptype  {columns}"]
    base, charges = type_values(params), type_charges(params)
    for name, (eps, sigma) in zip(layout.type_names, base):
        number, mass = _atom(name)
        v, w = _vw(eps, sigma, rule) if np.isfinite(eps) else (0.0, 0.0)
        lines.append(f"  {name}  {number}  {mass:.6g}  {charges.get(name, 0.0):.10g}  A  {v:.10g}  {w:.10g}")
    rows = [(a, b, eps, sigma) for a, b, eps, sigma in pair_parameters(params)
            if (a, b) in layout.pairs or (rule == 1 and a != b)]
    if rows:
        lines += ["", "[ nonbond_params ]", f"; i  j  func  {columns}"]
        names = layout.type_names
        lines += [f"  {names[a]}  {names[b]}  1  {v:.10g}  {w:.10g}"
                  for a, b, eps, sigma in rows for v, w in [_vw(eps, sigma, rule)]]
    return "\n".join(lines) + "\n"
