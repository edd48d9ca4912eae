"""LAMMPS export: the ``pair_style`` / ``pair_modify`` / ``pair_coeff`` block of an input script."""
from ...errors import InputError
from ...params import LJParams
from ...units import energy_factor
from .common import pair_parameters, shift_note

LAMMPS_UNITS = {"metal": ("eV", "angstrom"), "real": ("kcal/mol", "angstrom")}
LAMMPS_MIX = {"lorentz-berthelot": "arithmetic", "geometric": "geometric", "sixthpower": "sixthpower"}


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
    note = shift_note(params) if params.cutoff is not None else \
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
