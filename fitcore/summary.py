"""Summaries of a dataset (for ``inspect``) as plain data: dicts of numbers and strings."""
import numpy as np

from .dataset import Dataset
from .moments import Moments, pair_type_names
from .units import energy_factor, length_factor


def dataset_summary(dataset: Dataset, moments: Moments, cutoff: float | None,
                    energy_unit: str = "eV", length_unit: str = "angstrom") -> dict:
    """Counts, cells, energies and per-type-pair contacts, in the given units."""
    e, length = energy_factor(energy_unit), length_factor(length_unit)
    type_counts = dataset.type_counts
    pbc_kinds: dict[str, int] = {}
    for row in dataset.pbc:
        key = " ".join("T" if p else "F" for p in row)
        pbc_kinds[key] = pbc_kinds.get(key, 0) + 1
    known = ~np.isnan(dataset.energies)
    energies = dataset.energies[known] / e
    per_atom = energies / dataset.atoms_per_frame[known]
    names = pair_type_names(dataset.type_names)
    return {
        "files": sorted(set(dataset.sources)),
        "frames": dataset.n_frames,
        "atoms": dataset.n_atoms,
        "atoms_per_frame": {"min": int(dataset.atoms_per_frame.min()), "max": int(dataset.atoms_per_frame.max())},
        "types": {t: {"atoms": int(type_counts[:, k].sum()), "frames": int((type_counts[:, k] > 0).sum())}
                  for k, t in enumerate(dataset.type_names)},
        "species": list(dataset.species_names),
        "pbc": pbc_kinds,
        "energy": {
            "unit": energy_unit, "frames_with_energy": int(known.sum()),
            "min": float(energies.min()) if len(energies) else None,
            "max": float(energies.max()) if len(energies) else None,
            "min_per_atom": float(per_atom.min()) if len(per_atom) else None,
            "max_per_atom": float(per_atom.max()) if len(per_atom) else None,
        },
        "frames_with_forces": int(dataset.has_forces.sum()),
        "fragments": dataset.fragments is not None,
        "cutoff": None if cutoff is None else cutoff / length,
        "length_unit": length_unit,
        "pairs": [{"pair": n, "count": int(c), "min_distance": float(d / length) if np.isfinite(d) else None}
                  for n, c, d in zip(names, moments.pair_count, moments.min_distance)],
    }
