"""LAMMPS export: the ``pair_style`` / ``pair_modify`` / ``pair_coeff`` block of an input script.

Each form has its pair style (potential.py): lj/cut, lj/class2, mie/cut (whose pair_coeff
lines carry the exponents). lj/class2 mixes unlike pairs by the sixthpower rule whatever
``pair_modify mix`` says (LAMMPS' pair_lj_class2.cpp; checked in tests), so with another rule
every pair is written out.
"""
from ...errors import InputError
from ...params import LJParams
from ...potential import MIXING
from ...units import energy_factor
from .common import pair_parameters, shift_note

LAMMPS_UNITS = {"metal": ("eV", "angstrom"), "real": ("kcal/mol", "angstrom")}
LAMMPS_MIX = {name: rule.lammps for name, rule in MIXING.items()}


def lammps_block(params: LJParams, units: str = "metal", source: str = "", cutoff: float | None = None) -> str:
    """Commands to paste into a LAMMPS input; type k is the k-th type of the params file."""
    if units not in LAMMPS_UNITS:
        raise InputError(f"unknown LAMMPS units {units!r}; expected one of {', '.join(LAMMPS_UNITS)}")
    rc = params.cutoff if params.cutoff is not None else cutoff
    if rc is None:
        raise InputError(f"{source}: the parameters have no cutoff (cutoff: null) and LAMMPS "
                         f"{params.form.lammps_style} needs one; give --cutoff")
    e = energy_factor(LAMMPS_UNITS[units][0])
    layout = params.layout
    note = shift_note(params) if params.cutoff is not None else \
        f"{rc:g} Å given with --cutoff; the fit used no cutoff (plain sum over all pairs)"
    form = params.form
    lines = [f"# {form.title} parameters exported by ljfit from {source or 'a params file'}",
             f"# units {units} (energy {LAMMPS_UNITS[units][0]}, distance Angstrom)",
             f"# cutoff: {note}",
             "# LAMMPS type numbers (use them in your data file):"]
    lines += [f"# type {k + 1} = {name}" for k, name in enumerate(layout.type_names)]
    if layout.offset != "none":
        lines.append("# note: the fit's energy offsets have no LAMMPS equivalent and are not exported")
    if params.tail:
        lines.append("# tail correction of the energy beyond the cutoff (pair_modify tail yes), for bulk systems")
    class2_mixing = form.lammps_style == "lj/class2" and layout.per_type and layout.mixing != "sixthpower"
    if class2_mixing:
        lines.append(f"# lj/class2 always mixes by sixthpower: every {layout.mixing} pair is written out")
    explicit = not layout.per_type or bool(layout.pairs) or class2_mixing
    modify = ["pair_modify"] + ([] if not layout.per_type else ["mix", LAMMPS_MIX[layout.mixing]])
    modify += ["shift", "yes" if params.shift else "no"] + (["tail", "yes"] if params.tail else [])
    coulomb = coulomb_lines(params)
    style = form.lammps_style + (("/coul/long" if params.coulomb.get("ewald") else "/coul/cut") if coulomb else "")
    lines += [f"pair_style {style} {rc:.10g}", " ".join(modify)]
    for a, b, eps, sigma in pair_parameters(params):
        if explicit or a == b:
            # shortest digits that read back as the same double: mixed values of 10 digits already
            # move 9-6 energies by 1e-9
            lines.append(f"pair_coeff {a + 1} {b + 1} {float(eps / e)!r} {float(sigma)!r}{form.lammps_coeff_extra()}")
    return "\n".join(lines + coulomb) + "\n"


def coulomb_lines(params: LJParams) -> list[str]:
    """The Coulomb part of a params file fitted with charges: kspace_style ewald for periodic data, charges
    as ``set type N charge Q`` when they are per type (a note when they are per atom); [] without one."""
    record = params.coulomb
    if not record or record.get("method") == "none":
        return []
    if params.form.lammps_style != "lj/cut":
        raise InputError(f"the parameters were fitted with charges, and ljfit exports Coulomb terms for LAMMPS "
                         f"with lj/cut only (not {params.form.lammps_style})")
    lines = ["# Coulomb term of the fit (atom_style charge; LAMMPS' metal k_e 14.399645 against ljfit's "
             "CODATA 14.3996454784 eV A)"]
    if record.get("ewald"):
        lines.append(f"kspace_style ewald {float(record.get('accuracy', 1e-8))!r}")
        lines.append("# for slabs (boundary p p f) add: kspace_modify slab 3.0")
    if params.charges:
        lines.append("# charges per type (set after the atoms exist, or put them in your data file):")
        lines += [f"set type {k + 1} charge {params.charges[name]!r}"
                  for k, name in enumerate(params.layout.type_names) if name in params.charges]
    else:
        lines.append(f"# charges are per atom ({record.get('charges_from', 'a column')}): give them in your data "
                     f"file")
    return lines
