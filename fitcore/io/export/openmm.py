"""OpenMM export: a ForceField XML fragment (nm, kJ/mol).

The Coulomb term of parameters fitted with charges goes where OpenMM computes what ljfit did:
Ewald sums and sums without a cutoff in a NonbondedForce (with the LJ terms under Lorentz-Berthelot,
on its own otherwise); a direct sum within a cutoff, which ljfit truncates plainly (LAMMPS'
coul/cut), in a CustomNonbondedForce, because NonbondedForce's cutoff methods add a reaction field.
Per-type charges are written on the atom types; per-atom charges cannot be, so they are written as 0
with a comment that says where to set them.
"""
import warnings

import numpy as np

from ...coulomb import COULOMB_CONSTANT
from ...elements import ATOMIC_MASS
from ...errors import LjfitWarning
from ...params import LJParams
from .common import TO_KJ, TO_NM, element_of, pair_parameters, require_lj, shift_note



def openmm_xml(params: LJParams, source: str = "") -> str:
    """An OpenMM ForceField XML fragment (nm, kJ/mol).

    Lorentz-Berthelot without overrides maps onto NonbondedForce; anything else onto
    LennardJonesForce with an NBFixPair for every unlike pair that the rule does not give.
    A shifted cutoff adds a CustomNonbondedForce; the tail correction is OpenMM's dispersion
    correction, which is the same for one type but for a mixture averages over N(N+1)/2 pairs with
    n(n+1)/2 like pairs per type (ljfit and LAMMPS: n^2/2), a difference of order 1/N.
    Numbers are written with the shortest digits that read back as the same double.
    """
    require_lj(params, "OpenMM", source)
    layout = params.layout
    eps_table, sigma_table = params.pair_table()
    lines = ["<ForceField>",
             f"  <!-- exported by ljfit from {source or 'a params file'}; mixing {layout.mixing}; "
             f"cutoff {'none' if params.cutoff is None else f'{params.cutoff * TO_NM:.6g} nm'}: "
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
    coulomb = _coulomb_kind(params)
    lb_only = layout.mixing == "lorentz-berthelot" and not layout.pairs
    tag = "NonbondedForce" if lb_only else "LennardJonesForce"
    tail = f'useDispersionCorrection="{bool(params.tail)}"'  # explicit: NonbondedForce's default is True
    head = f'  <{tag} coulomb14scale="1" lj14scale="1" {tail}>' if lb_only else f'  <{tag} lj14scale="1" {tail}>'
    lines.append(head)
    for k, name in enumerate(layout.type_names):
        eps, sigma = eps_table[k, k], sigma_table[k, k]
        eps, sigma = (0.0, 1.0) if not np.isfinite(eps) else (eps * TO_KJ, sigma * TO_NM)
        charge = f' charge="{_charge(params, name, coulomb == "nonbonded")}"' if lb_only else ""
        lines.append(f'    <Atom type="{name}"{charge} sigma="{_num(sigma)}" epsilon="{_num(eps)}"/>')
    if not lb_only:
        for a, b, eps, sigma in pair_parameters(params):
            if a != b:
                lines.append(f'    <NBFixPair type1="{layout.type_names[a]}" type2="{layout.type_names[b]}" '
                             f'sigma="{_num(sigma * TO_NM)}" epsilon="{_num(eps * TO_KJ)}"/>')
    lines.append(f"  </{tag}>")
    if not lb_only and coulomb == "nonbonded":  # the charges in a NonbondedForce of their own, without LJ
        lines.append('  <NonbondedForce coulomb14scale="1" lj14scale="1" useDispersionCorrection="False">')
        lines += [f'    <Atom type="{name}" charge="{_charge(params, name, True)}" sigma="1" epsilon="0"/>'
                  for name in layout.type_names]
        lines.append("  </NonbondedForce>")
    if coulomb != "none":
        lines += _coulomb_notes(params, coulomb)
    if coulomb == "cut":
        lines += _coulomb_cut_force(params)
    if params.shift and params.cutoff is not None:
        lines += _shift_force(params, eps_table * TO_KJ, sigma_table * TO_NM, params.cutoff * TO_NM)
    lines.append("</ForceField>")
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    """The shortest digits that read back as the same double."""
    return repr(float(value))


def _coulomb_kind(params: LJParams) -> str:
    """none; nonbonded (Ewald sums, or direct sums over all pairs: NonbondedForce); cut (direct sums within
    the cutoff: a CustomNonbondedForce, as NonbondedForce's cutoff methods add a reaction field)."""
    if not params.charges and params.coulomb.get("method", "none") == "none":
        return "none"
    if params.coulomb.get("ewald") or params.cutoff is None:
        return "nonbonded"
    return "cut"


def _charge(params: LJParams, name: str, here: bool) -> str:
    return _num(params.charges.get(name, 0.0)) if here else "0.0"


def _coulomb_notes(params: LJParams, kind: str) -> list[str]:
    record = params.coulomb
    lines = [f"  <!-- Coulomb term of the fit: k_e {_num(COULOMB_CONSTANT * TO_KJ * TO_NM)} kJ/mol nm (CODATA 2018; "
             f"OpenMM 8 uses the same, OpenMM 7 138.935456) -->"]
    if record.get("ewald"):
        lines.append(f"  <!-- periodic frames used Ewald sums (relative accuracy "
                     f"{_num(record.get('accuracy', 1e-8))}): createSystem(nonbondedMethod=Ewald, or PME for a "
                     f"triclinic box, ewaldErrorTolerance of that size) -->")
    elif kind == "cut":
        lines.append("  <!-- direct Coulomb sums truncated at the cutoff (LAMMPS coul/cut), in the "
                     "CustomNonbondedForce below: NonbondedForce's cutoff methods would add a reaction field -->")
    if not params.charges:
        where = "the q parameter of the Coulomb CustomNonbondedForce" if kind == "cut" else \
            "the charge of each particle of the NonbondedForce"
        lines.append(f"  <!-- the fit used per-atom charges ({record.get('charges_from', 'a column')}), which a "
                     f"ForceField cannot hold: they are written as 0; after createSystem set {where} "
                     f"(setParticleParameters) -->")
    return lines


def _coulomb_cut_force(params: LJParams) -> list[str]:
    """A CustomNonbondedForce k_e q1 q2 / r within the cutoff (kJ/mol, nm, e)."""
    k_e = COULOMB_CONSTANT * TO_KJ * TO_NM
    lines = [f'  <CustomNonbondedForce energy="{_num(k_e)}*q1*q2/r" bondCutoff="3">',
             '    <PerParticleParameter name="q"/>']
    lines += [f'    <Atom type="{name}" q="{_charge(params, name, True)}"/>' for name in params.layout.type_names]
    return lines + ["  </CustomNonbondedForce>"]
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
