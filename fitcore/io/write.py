"""Writing structures as extended XYZ, ASE style, with predicted energies and forces (eV, Å)."""
import io

import numpy as np

from ..dataset import Dataset
from .comment import format_pair


def extxyz_text(dataset: Dataset, energies: np.ndarray, forces: np.ndarray | None) -> str:
    """All frames with ``energy=`` the prediction (the reference kept as ``energy_ref=``) and a forces column."""
    out = io.StringIO()
    species = np.array(dataset.species_names, dtype=object)[dataset.species_index]
    has_types = dataset.type_names != dataset.species_names or not np.array_equal(dataset.type_index,
                                                                                   dataset.species_index)
    types = np.array(dataset.type_names, dtype=object)[dataset.type_index] if has_types else None
    properties = "species:S:1:pos:R:3" + (":type:S:1" if has_types else "") \
        + (":fragment:I:1" if dataset.fragments is not None else "") + (":forces:R:3" if forces is not None else "")
    for k in range(dataset.n_frames):
        lo, hi = int(dataset.frame_offsets[k]), int(dataset.frame_offsets[k + 1])
        out.write(f"{hi - lo}\n{_comment(dataset, k, energies[k], properties)}\n")
        columns = [species[lo:hi]] + [dataset.positions[lo:hi, d] for d in range(3)]
        template = "%-3s %18.12f %18.12f %18.12f"
        if has_types:
            columns.append(types[lo:hi])
            template += " %s"
        if dataset.fragments is not None:
            columns.append(dataset.fragments[lo:hi])
            template += " %d"
        if forces is not None:
            columns += [forces[lo:hi, d] for d in range(3)]
            template += " %22.14e %22.14e %22.14e"
        out.write("\n".join(template % row for row in zip(*columns)))
        out.write("\n")
    return out.getvalue()


def _comment(dataset: Dataset, k: int, energy: float, properties: str) -> str:
    parts = []
    if dataset.pbc[k].any() or np.any(dataset.cells[k]):
        parts.append('Lattice="' + " ".join(f"{v:.12f}" for v in dataset.cells[k].ravel()) + '"')
    parts.append(f"Properties={properties}")
    parts.append(format_pair("name", dataset.names[k]))
    parts.append(f"energy={energy:.12f}")
    if not np.isnan(dataset.energies[k]):
        parts.append(f"energy_ref={dataset.energies[k]:.12f}")
    if dataset.weights[k] != 1.0:
        parts.append(f"weight={dataset.weights[k]:.12g}")
    skip = {"energy", "energy_ref", "name", "lattice", "properties", "pbc", "weight"}
    parts += [format_pair(key, value) for key, value in dataset.info[k].items() if key.lower() not in skip]
    parts.append('pbc="' + " ".join("T" if p else "F" for p in dataset.pbc[k]) + '"')
    return " ".join(parts)
