"""OpenMM export: a ForceField XML fragment (nm, kJ/mol)."""
import warnings

import numpy as np

from ...elements import ATOMIC_MASS
from ...errors import LjfitWarning
from ...params import LJParams
from ...units import energy_factor, length_factor
from .common import element_of, pair_parameters, require_lj, shift_note


def openmm_xml(params: LJParams, source: str = "") -> str:
    """An OpenMM ForceField XML fragment (nm, kJ/mol).

    Lorentz-Berthelot without overrides maps onto NonbondedForce; anything else onto
    LennardJonesForce with an NBFixPair for every unlike pair that the rule does not give.
    A shifted cutoff adds a CustomNonbondedForce; the tail correction is OpenMM's dispersion
    correction, which is the same for one type but for a mixture averages over N(N+1)/2 pairs with
    n(n+1)/2 like pairs per type (ljfit and LAMMPS: n^2/2), a difference of order 1/N.
    """
    require_lj(params, "OpenMM", source)
    to_kj = energy_factor("eV") / energy_factor("kJ/mol")
    to_nm = length_factor("angstrom") / length_factor("nm")
    layout = params.layout
    eps_table, sigma_table = params.pair_table()
    lines = ["<ForceField>",
             f"  <!-- exported by ljfit from {source or 'a params file'}; mixing {layout.mixing}; "
             f"cutoff {'none' if params.cutoff is None else f'{params.cutoff * to_nm:.6g} nm'}: "
             f"{shift_note(params, 'OpenMM')}. Set nonbondedCutoff in createSystem to the cutoff. -->",
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
    tail = f'useDispersionCorrection="{bool(params.tail)}"'  # explicit: NonbondedForce's default is True
    head = f'  <{tag} coulomb14scale="1" lj14scale="1" {tail}>' if lb_only else f'  <{tag} lj14scale="1" {tail}>'
    lines.append(head)
    for k, name in enumerate(layout.type_names):
        eps, sigma = eps_table[k, k], sigma_table[k, k]
        eps, sigma = (0.0, 1.0) if not np.isfinite(eps) else (eps * to_kj, sigma * to_nm)
        charge = f' charge="{params.charges.get(name, 0.0)!r}"' if lb_only else ""
        lines.append(f'    <Atom type="{name}"{charge} sigma="{sigma:.10g}" epsilon="{eps:.10g}"/>')
    if not lb_only:
        for a, b, eps, sigma in pair_parameters(params):
            if a != b:
                lines.append(f'    <NBFixPair type1="{layout.type_names[a]}" type2="{layout.type_names[b]}" '
                             f'sigma="{sigma * to_nm:.10g}" epsilon="{eps * to_kj:.10g}"/>')
    lines.append(f"  </{tag}>")
    if not lb_only and params.charges:  # the charges in a NonbondedForce of their own, without LJ
        lines.append('  <NonbondedForce coulomb14scale="1" lj14scale="1">')
        lines += [f'    <Atom type="{name}" charge="{params.charges.get(name, 0.0)!r}" sigma="1" epsilon="0"/>'
                  for name in layout.type_names]
        lines.append("  </NonbondedForce>")
    if params.coulomb.get("method", "none") != "none" and not params.charges:
        lines.append("  <!-- the fit used per-atom charges: set them on the particles of the NonbondedForce -->")
    if params.coulomb.get("ewald"):
        lines.append(f"  <!-- the fit used Ewald sums: createSystem(nonbondedMethod=Ewald, "
                     f"ewaldErrorTolerance={params.coulomb.get('accuracy', 1e-8)!r}) -->")
    if params.shift and params.cutoff is not None:
        lines += _shift_force(params, eps_table * to_kj, sigma_table * to_nm, params.cutoff * to_nm)
    lines.append("</ForceField>")
    return "\n".join(lines) + "\n"


def _shift_force(params: LJParams, eps: np.ndarray, sigma: np.ndarray, rc: float) -> list[str]:
    """A CustomNonbondedForce that adds -u_ij(rc) to every pair inside the cutoff: the shift.

    eps [n, n] kJ/mol, sigma [n, n] nm (NaN: no parameters, no shift), rc nm. OpenMM counts the
    pairs with r < rc, as the LJ forces do; the table is indexed by the per-type parameter t.
    """
    n = params.layout.n_types
    with np.errstate(invalid="ignore"):
        u_rc = np.nan_to_num(4 * eps * ((sigma / rc) ** 12 - (sigma / rc) ** 6))
    lines = ['  <CustomNonbondedForce energy="-shift(t1, t2)" bondCutoff="3">',
             "    <!-- the shift of every pair to zero energy at the cutoff (kJ/mol) -->",
             '    <PerParticleParameter name="t"/>',
             f'    <Function name="shift" type="Discrete2D" xsize="{n}" ysize="{n}">',
             "      " + " ".join(f"{v:.17g}" for v in u_rc.T.ravel()),  # x (t1) runs fastest
             "    </Function>"]
    lines += [f'    <Atom type="{name}" t="{k}"/>' for k, name in enumerate(params.layout.type_names)]
    return lines + ["  </CustomNonbondedForce>"]
