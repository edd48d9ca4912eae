"""What every export needs: the type pairs with parameters, element symbols, the cutoff note."""
import numpy as np

from ...elements import ATOMIC_MASS
from ...errors import InputError
from ...params import LJParams
from ...units import energy_factor, length_factor

TO_KJ = energy_factor("eV") / energy_factor("kJ/mol")  # GROMACS and OpenMM units: kJ/mol, nm
TO_NM = length_factor("angstrom") / length_factor("nm")


def shift_note(params: LJParams, code: str = "LAMMPS") -> str:
    """One line on the cutoff treatment of ``params``, with the setting that gives it in ``code``."""
    if params.cutoff is None:
        return "no cutoff: plain sum over all pairs"
    if params.shift:
        how = "pair_modify shift yes" if code == "LAMMPS" else "by the CustomNonbondedForce below"
        return f"energies shifted to zero at the cutoff ({how})"
    how = "pair_modify shift no" if code == "LAMMPS" else "as OpenMM's cutoff does"
    return f"energies truncated at the cutoff, not shifted ({how}; ASE's LennardJones shifts by default)"


def element_of(name: str) -> str | None:
    """The element symbol a type name stands for: itself, an atomic number ("18" -> "Ar"), or a site
    type of --site-types, a symbol and a position ("C1" -> "C", "Cl12" -> "Cl")."""
    symbols = list(ATOMIC_MASS)  # in order of atomic number
    if name.isdigit():
        return symbols[int(name) - 1] if 1 <= int(name) <= len(symbols) else None
    symbol = name.rstrip("0123456789")
    return symbol if symbol in ATOMIC_MASS else None


def pair_parameters(params: LJParams) -> list[tuple[int, int, float, float]]:
    """(a, b, eps_ab, sigma_ab) in eV and Å for every type pair with defined parameters, a <= b."""
    eps, sigma = params.pair_table()
    n = params.layout.n_types
    return [(a, b, float(eps[a, b]), float(sigma[a, b])) for a in range(n) for b in range(a, n)
            if np.isfinite(eps[a, b])]


def type_values(params: LJParams) -> np.ndarray:
    """[n_types, 2] (eps eV, sigma Å) that a mixing rule mixes: the per-type values, never a self-pair
    override (codes that mix from per-type values need that one as a pair entry); NaN with mixing none."""
    layout = params.layout
    if not layout.per_type:
        return np.full((layout.n_types, 2), np.nan)
    ie, is_ = layout.eps_sigma_index()
    return np.stack([params.values[ie], params.values[is_]], axis=1)


def require_lj(params: LJParams, code: str, source: str = "") -> None:
    """An InputError unless ``params`` are of the 12-6 form, the only one ``code``'s export writes."""
    if params.form.name != "lj":
        raise InputError(f"{source or 'the parameters'}: potential {params.form.label}: the {code} export writes "
                         f"12-6 Lennard-Jones only (export to lammps, which has lj/class2 and mie/cut, or csv)")


def type_charges(params: LJParams) -> dict[str, float]:
    """type -> charge (e) from the params file's ``charges`` section; empty without one."""
    return dict(params.charges)
