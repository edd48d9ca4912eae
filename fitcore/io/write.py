"""Writing structures as extended XYZ, ASE style, with predicted energies and forces (eV, Å).

Each frame's comment has ``energy=`` the prediction (the reference kept as ``energy_ref=``) and,
when the prediction has parts besides the parameters' (a Coulomb term, a baseline), ``energy_lj=``,
``energy_coulomb=`` and ``baseline=``; the charges of the Coulomb term are a per-atom column, so
that the file reads back (in ljfit and ASE) with the same charges.
"""
import io
from dataclasses import dataclass

import numpy as np

from ..dataset import Dataset
from .comment import format_pair


@dataclass(frozen=True, kw_only=True, eq=False)
class WrittenCharges:
    values: np.ndarray  # [n_atoms] e
    column: str = "initial_charges"  # the column's name: the one they were read from, else ASE's


def extxyz_text(dataset: Dataset, energies: np.ndarray, forces: np.ndarray | None,
                charges: WrittenCharges | None = None, parts: dict[str, np.ndarray] | None = None) -> str:
    """All frames with ``energy=`` the prediction (the reference kept as ``energy_ref=``), a forces column,
    the charges and the energy ``parts`` ({comment key: [n_frames] eV}, e.g. energy_coulomb, baseline)."""
    out = io.StringIO()
    species = np.array(dataset.species_names, dtype=object)[dataset.species_index]
    has_types = dataset.type_names != dataset.species_names or not np.array_equal(dataset.type_index,
                                                                                   dataset.species_index)
    types = np.array(dataset.type_names, dtype=object)[dataset.type_index] if has_types else None
    properties = "species:S:1:pos:R:3" + (":type:S:1" if has_types else "") \
        + (":fragment:I:1" if dataset.fragments is not None else "") \
        + (f":{charges.column}:R:1" if charges is not None else "") + (":forces:R:3" if forces is not None else "")
    parts = parts or {}
    for k in range(dataset.n_frames):
        lo, hi = int(dataset.frame_offsets[k]), int(dataset.frame_offsets[k + 1])
        frame_parts = {key: float(values[k]) for key, values in parts.items()}
        out.write(f"{hi - lo}\n{_comment(dataset, k, energies[k], properties, frame_parts)}\n")
        columns = [species[lo:hi]] + [dataset.positions[lo:hi, d] for d in range(3)]
        template = "%-3s %18.12f %18.12f %18.12f"
        if has_types:
            columns.append(types[lo:hi])
            template += " %s"
        if dataset.fragments is not None:
            columns.append(dataset.fragments[lo:hi])
            template += " %d"
        if charges is not None:
            columns.append([repr(float(q)) for q in charges.values[lo:hi]])  # the same double back
            template += " %s"
        if forces is not None:
            columns += [forces[lo:hi, d] for d in range(3)]
            template += " %22.14e %22.14e %22.14e"
        out.write("\n".join(template % row for row in zip(*columns)))
        out.write("\n")
    return out.getvalue()


def _comment(dataset: Dataset, k: int, energy: float, properties: str, parts: dict[str, float]) -> str:
    parts_text = [f"{key}={value:.12f}" for key, value in parts.items()]
    out = []
    if dataset.pbc[k].any() or np.any(dataset.cells[k]):
        out.append('Lattice="' + " ".join(f"{v:.12f}" for v in dataset.cells[k].ravel()) + '"')
    out.append(f"Properties={properties}")
    out.append(format_pair("name", dataset.names[k]))
    out.append(f"energy={energy:.12f}")
    out += parts_text
    if not np.isnan(dataset.energies[k]):
        out.append(f"energy_ref={dataset.energies[k]:.12f}")
    if dataset.weights[k] != 1.0:
        out.append(f"weight={dataset.weights[k]:.12g}")
    skip = {"energy", "energy_ref", "name", "lattice", "properties", "pbc", "weight"} | {p.lower() for p in parts}
    out += [format_pair(key, value) for key, value in dataset.info[k].items() if key.lower() not in skip]
    out.append('pbc="' + " ".join("T" if p else "F" for p in dataset.pbc[k]) + '"')
    return " ".join(out)
