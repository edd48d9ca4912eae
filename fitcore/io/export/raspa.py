"""RASPA export: ``force_field_mixing_rules.def``, ``force_field.def`` and ``pseudo_atoms.def`` (K, Å).

RASPA reads its force field files line by line at fixed places (every ``#`` line is a
skipped line, so the layout below is exact). Its mixing rules are Lorentz-Berthelot and
Jorgensen (geometric in both); sixthpower and ``none`` are written as Lorentz-Berthelot
with every unlike pair in ``force_field.def``, which overrides the rule pair by pair.

Type names: RASPA compares names without regard to case, a name that ends in ``_`` is a
prefix pattern (``O_`` stands for O1, O2, Ow, ...), ``UNIT`` is its own type, and older
RASPA versions matched every name as a prefix, later lines overriding earlier ones. So
names that RASPA would confuse are refused, lines are written shortest name first, and
when one name is a prefix of another (S and Si) every pair is written in ``force_field.def``:
whichever way a RASPA matches, no type ends up with another's parameters.
"""
import warnings

import numpy as np

from ...elements import ATOMIC_MASS
from ...errors import InputError, LjfitWarning
from ...params import LJParams
from ...units import energy_factor
from .common import element_of, pair_parameters, require_lj, type_charges, type_values

RASPA_MIXING = {"lorentz-berthelot": "Lorentz-Berthelot", "geometric": "Jorgensen"}  # every other: LB + all pairs
TO_KELVIN = 1.0 / energy_factor("K")


def check_names(type_names, source: str) -> None:
    """Refuse type names that RASPA would read as a pattern, as its own UNIT type, or as each other."""
    seen: dict[str, str] = {}
    for name in type_names:
        if name.endswith("_"):
            raise InputError(f"{source}: type {name!r} ends with '_', which RASPA reads as a prefix pattern "
                             f"(it would match every type starting with {name[:-1]!r}); rename the type")
        if name.lower() == "unit":
            raise InputError(f"{source}: type {name!r} is RASPA's own UNIT type; rename the type")
        if name.lower() in seen:
            raise InputError(f"{source}: types {seen[name.lower()]!r} and {name!r} differ only in case, "
                             f"which RASPA ignores; rename one of them")
        seen[name.lower()] = name


def _shortest_first(names) -> list[int]:
    return sorted(range(len(names)), key=lambda k: (len(names[k]), names[k]))


def _any_prefix(names) -> bool:
    lower = [n.lower() for n in names]
    return any(a != b and b.startswith(a) for a in lower for b in lower)


def _lj(eps: float, sigma: float) -> str:
    return f"lennard-jones  {eps * TO_KELVIN:.10g}  {sigma:.10g}"


def mixing_rules_def(params: LJParams, source: str, cutoff: float | None) -> str:
    """``force_field_mixing_rules.def``: the cutoff treatment, the per-type parameters, the rule."""
    layout = params.layout
    rc = params.cutoff if params.cutoff is not None else cutoff
    if rc is None:
        raise InputError(f"{source}: the parameters have no cutoff (cutoff: null) and RASPA needs CutOffVDW; "
                         f"give --cutoff")
    base = type_values(params)
    width = max(len(n) for n in layout.type_names) + 2
    lines = [f"# general rule for shifted vs truncated (ljfit export of {source or 'a params file'}; "
             f"put CutOffVDW {rc:.10g} in simulation.input)",
             "shifted" if params.shift else "truncated",
             "# general rule tailcorrections",
             "yes" if params.tail else "no",
             "# number of defined interactions",
             str(layout.n_types),
             "# type  interaction  epsilon [K]  sigma [A]  (shortest names first)"]
    for k in _shortest_first(layout.type_names):
        eps, sigma = base[k]
        entry = _lj(eps, sigma) if np.isfinite(eps) else "none"
        lines.append(f"{layout.type_names[k]:<{width}}{entry}")
    lines += ["# general mixing rule for Lennard-Jones", RASPA_MIXING.get(layout.mixing, "Lorentz-Berthelot")]
    return "\n".join(lines) + "\n"


def force_field_def(params: LJParams) -> str:
    """``force_field.def``: the pairs that the rule in the mixing file does not give, or every pair (like ones
    too) when the rule is not RASPA's or a name is a prefix of another; shortest names first, so that a
    RASPA matching by prefix meets each pair's own line last."""
    layout = params.layout
    names = layout.type_names
    every = layout.mixing not in RASPA_MIXING or _any_prefix(names)
    rows = [(a, b, eps, sigma) for a, b, eps, sigma in pair_parameters(params)
            if every or (a, b) in layout.pairs]
    rows.sort(key=lambda row: (len(names[row[0]]) + len(names[row[1]]), names[row[0]], names[row[1]]))
    width = max(len(n) for n in names) + 2
    lines = ["# rules to overwrite", "0", "# number of defined interactions", str(len(rows)),
             "# type  type2  interaction  epsilon [K]  sigma [A]"]
    lines += [f"{names[a]:<{width}}{names[b]:<{width}}{_lj(eps, sigma)}" for a, b, eps, sigma in rows]
    lines += ["# mixing rules to overwrite", "0"]
    return "\n".join(lines) + "\n"


def pseudo_atoms_def(params: LJParams, charges: dict[str, float] | None = None) -> str:
    """``pseudo_atoms.def``: name, element, mass (g/mol) and charge (e) of every type."""
    names = params.layout.type_names
    charges = charges or {}
    width = max(len(n) for n in names) + 2
    lines = ["# number of pseudo atoms", str(len(names)),
             "#type  print  as  chem  oxidation  mass  charge  polarization  B-factor  radii  connectivity  "
             "anisotropic  anisotropic-type  tinker-type"]
    for k in _shortest_first(names):
        name = names[k]
        symbol = element_of(name)
        if symbol is None:
            warnings.warn(LjfitWarning(f"type {name!r} is not an element symbol or number: its RASPA mass is "
                                       f"written as 0; set it in pseudo_atoms.def"), stacklevel=3)
        element = symbol or name
        mass = ATOMIC_MASS.get(symbol, 0.0)
        lines.append(f"{name:<{width}}yes  {element:<3} {element:<3} 0  {mass:<9.6g} {charges.get(name, 0.0):<12.8g} "
                     f"0.0  1.0  1.0  0  0  absolute  0")
    return "\n".join(lines) + "\n"


def raspa_files(params: LJParams, source: str = "", cutoff: float | None = None) -> dict[str, str]:
    """{file name: text} of the three RASPA force field files; charges (e) from the params file's."""
    require_lj(params, "RASPA", source)
    check_names(params.layout.type_names, source)
    if params.layout.offset != "none":
        warnings.warn(LjfitWarning("the fit's energy offsets have no RASPA equivalent and are not exported"),
                      stacklevel=2)
    return {"force_field_mixing_rules.def": mixing_rules_def(params, source, cutoff),
            "force_field.def": force_field_def(params),
            "pseudo_atoms.def": pseudo_atoms_def(params, type_charges(params))}
