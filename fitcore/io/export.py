"""Exports of fitted parameters for MD codes: LAMMPS input block, OpenMM force field XML, CSV.

Every export states the cutoff treatment, because codes differ: LAMMPS ``lj/cut``
truncates unless ``pair_modify shift yes``; ASE's LennardJones shifts by default;
OpenMM truncates (its switching function is something else again).
"""
import warnings

import numpy as np

from ..elements import ATOMIC_MASS
from ..errors import InputError, LjfitWarning
from ..params import KINDS, LJParams
from ..units import energy_factor, length_factor

LAMMPS_UNITS = {"metal": ("eV", "angstrom"), "real": ("kcal/mol", "angstrom")}
LAMMPS_MIX = {"lorentz-berthelot": "arithmetic", "geometric": "geometric", "sixthpower": "sixthpower"}


def _shift_note(params: LJParams, code: str = "LAMMPS") -> str:
    if params.cutoff is None:
        return "no cutoff: plain sum over all pairs"
    if params.shift:
        how = "pair_modify shift yes" if code == "LAMMPS" else "OpenMM's NonbondedForce does not shift: add the shift"
        return f"energies shifted to zero at the cutoff ({how})"
    how = "pair_modify shift no" if code == "LAMMPS" else "as OpenMM's cutoff does"
    return f"energies truncated at the cutoff, not shifted ({how}; ASE's LennardJones shifts by default)"


def element_of(name: str) -> str | None:
    """The element symbol a type name stands for: itself, or an atomic number ("18" -> "Ar")."""
    if name in ATOMIC_MASS:
        return name
    symbols = list(ATOMIC_MASS)  # in order of atomic number
    return symbols[int(name) - 1] if name.isdigit() and 1 <= int(name) <= len(symbols) else None


def pair_parameters(params: LJParams) -> list[tuple[int, int, float, float]]:
    """(a, b, eps_ab, sigma_ab) in eV and Å for every type pair with defined parameters, a <= b."""
    eps, sigma = params.pair_table()
    n = params.layout.n_types
    return [(a, b, float(eps[a, b]), float(sigma[a, b])) for a in range(n) for b in range(a, n)
            if np.isfinite(eps[a, b])]


def lammps_block(params: LJParams, units: str = "metal", source: str = "", cutoff: float | None = None) -> str:
    """Commands to paste into a LAMMPS input; type k is the k-th type of the params file."""
    if units not in LAMMPS_UNITS:
        raise InputError(f"unknown LAMMPS units {units!r}; expected one of {', '.join(LAMMPS_UNITS)}")
    rc = params.cutoff if params.cutoff is not None else cutoff
    if rc is None:
        raise InputError(f"{source}: the parameters have no cutoff (cutoff: null) and LAMMPS lj/cut needs one; "
                         f"give --cutoff")
    e = energy_factor(LAMMPS_UNITS[units][0])
    layout = params.layout
    note = _shift_note(params) if params.cutoff is not None else \
        f"{rc:g} Å given with --cutoff; the fit used no cutoff (plain sum over all pairs)"
    lines = [f"# Lennard-Jones parameters exported by ljfit from {source or 'a params file'}",
             f"# units {units} (energy {LAMMPS_UNITS[units][0]}, distance Angstrom)",
             f"# cutoff: {note}",
             "# LAMMPS type numbers (use them in your data file):"]
    lines += [f"# type {k + 1} = {name}" for k, name in enumerate(layout.type_names)]
    if layout.offset != "none":
        lines.append("# note: the fit's energy offsets have no LAMMPS equivalent and are not exported")
    explicit = not layout.per_type or bool(layout.pairs)
    modify = ["pair_modify"] + ([] if not layout.per_type else ["mix", LAMMPS_MIX[layout.mixing]])
    modify += ["shift", "yes" if params.shift else "no"]
    lines += [f"pair_style lj/cut {rc:.10g}", " ".join(modify)]
    pairs = pair_parameters(params)
    for a, b, eps, sigma in pairs:
        if explicit or a == b:
            lines.append(f"pair_coeff {a + 1} {b + 1} {eps / e:.10g} {sigma:.10g}")
    return "\n".join(lines) + "\n"


def openmm_xml(params: LJParams, source: str = "") -> str:
    """An OpenMM ForceField XML fragment (nm, kJ/mol).

    Lorentz-Berthelot without overrides maps onto NonbondedForce; anything else onto
    LennardJonesForce with an NBFixPair for every unlike pair that the rule does not give.
    """
    to_kj = energy_factor("eV") / energy_factor("kJ/mol")
    to_nm = length_factor("angstrom") / length_factor("nm")
    layout = params.layout
    eps_table, sigma_table = params.pair_table()
    lines = ["<ForceField>",
             f"  <!-- exported by ljfit from {source or 'a params file'}; mixing {layout.mixing}; "
             f"cutoff {'none' if params.cutoff is None else f'{params.cutoff * to_nm:.6g} nm'}: "
             f"{_shift_note(params, 'OpenMM')}. Set nonbondedCutoff in createSystem. -->",
             "  <AtomTypes>"]
    for name in layout.type_names:
        symbol = element_of(name)
        if symbol is None:
            warnings.warn(LjfitWarning(f"type {name!r} is not an element symbol or number: its OpenMM mass is "
                                       f"written as 0 (a fixed particle); set it in the XML"), stacklevel=2)
        element = f' element="{symbol}"' if symbol else ""
        lines.append(f'    <Type name="{name}" class="{name}"{element} mass="{ATOMIC_MASS.get(symbol, 0.0)}"/>')
    lines.append("  </AtomTypes>")
    lb_only = layout.mixing == "lorentz-berthelot" and not layout.pairs
    tag = "NonbondedForce" if lb_only else "LennardJonesForce"
    head = f'  <{tag} coulomb14scale="1" lj14scale="1">' if lb_only else f'  <{tag} lj14scale="1">'
    lines.append(head)
    for k, name in enumerate(layout.type_names):
        eps, sigma = eps_table[k, k], sigma_table[k, k]
        eps, sigma = (0.0, 1.0) if not np.isfinite(eps) else (eps * to_kj, sigma * to_nm)
        charge = ' charge="0"' if lb_only else ""
        lines.append(f'    <Atom type="{name}"{charge} sigma="{sigma:.10g}" epsilon="{eps:.10g}"/>')
    if not lb_only:
        for a, b, eps, sigma in pair_parameters(params):
            if a != b:
                lines.append(f'    <NBFixPair type1="{layout.type_names[a]}" type2="{layout.type_names[b]}" '
                             f'sigma="{sigma * to_nm:.10g}" epsilon="{eps * to_kj:.10g}"/>')
    lines += [f"  </{tag}>", "</ForceField>"]
    return "\n".join(lines) + "\n"


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
