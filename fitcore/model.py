"""The pair model in torch: parameters -> (C12, C6) per pair type -> energies and forces.

The parameter map (mixing, overrides, the form's coefficients) is ``params.pair_coefficients``,
the pair terms are the cutoff scheme's (potential.py); this module binds them to data.

Two engines evaluate the same physics:

- ``MomentEngine`` uses the pair moments (see moments.py): energies are
  ``A @ C12 - B @ C6`` and forces a contraction of per-atom moments, so a model
  evaluation costs O(frames x pair types) whatever the number of pairs;
- ``DirectEngine`` is the reference path: energies summed over pairs from their
  distances with ``index_add``, forces by autograd with respect to positions.

Both take coefficient tensors with an optional trailing batch dimension
([n_pair_types] or [n_pair_types, k]) and are linear in them, which is what
makes the Jacobian cheap (fit.py). Tensors take device and dtype from the engine.
"""
from dataclasses import replace

import numpy as np
import torch

from .dataset import Dataset
from .moments import CutoffScheme, Moments, pair_type_table, tail_moments
from .neighbors import iter_pairs
from .params import Layout
from .params import pair_coefficients as coefficients  # noqa: F401  (the engines' inputs, by their usual name)
from .params import pair_tables as mixed_tables  # noqa: F401


def check_tensor(name: str, tensor: torch.Tensor, like: torch.Tensor) -> None:
    if tensor.device != like.device or tensor.dtype != like.dtype:
        raise ValueError(f"{name} is {tensor.dtype} on {tensor.device} but the model is {like.dtype} on "
                         f"{like.device}; move it with .to(device=..., dtype=...)")


def offset_design(layout: Layout, dataset: Dataset) -> np.ndarray:
    """[n_frames, n_offsets]: energy = LJ + design @ offsets."""
    if layout.offset == "constant":
        return np.ones((dataset.n_frames, 1))
    if layout.offset == "per-species":
        counts = dataset.species_counts
        cols = [dataset.species_names.index(s) if s in dataset.species_names else -1 for s in layout.offset_species]
        return np.stack([counts[:, c] if c >= 0 else np.zeros(dataset.n_frames) for c in cols], axis=1)
    return np.zeros((dataset.n_frames, 0))


class MomentEngine:
    """Energies and forces from pair moments."""

    def __init__(self, moments: Moments, device="cpu", dtype=torch.float64):
        as_t = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        self.device, self.dtype = torch.device(device), dtype
        self.n_types = len(moments.type_names)
        self.energy12, self.energy6 = as_t(moments.energy12), as_t(moments.energy6)
        self.has_forces = moments.has_forces
        if moments.has_forces:
            self.force12, self.force6 = as_t(moments.force12), as_t(moments.force6)
            table = torch.as_tensor(pair_type_table(self.n_types), device=device)
            self.atom_pair_type = table[torch.as_tensor(moments.atom_types, device=device)]  # [n_atoms, n_types]

    def energies(self, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        """[n_frames(, k)] eV."""
        check_tensor("C12", c12, self.energy12)
        return self.energy12 @ c12 - self.energy6 @ c6

    def forces(self, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        """[n_atoms, 3(, k)] eV/Å."""
        if not self.has_forces:
            raise ValueError("these moments were computed without forces")
        c12_atom, c6_atom = c12[self.atom_pair_type], c6[self.atom_pair_type]  # [n_atoms, n_types(, k)]
        return (torch.einsum("adt,at...->ad...", self.force12, c12_atom)
                - torch.einsum("adt,at...->ad...", self.force6, c6_atom))


class DirectEngine:
    """Energies from pair distances, forces by autograd: the reference path.

    Pairs come from the neighbour search with a 0.5 Å skin beyond the cutoff; the
    cutoff itself is applied here, with the double-where pattern so that masked
    pairs give zero (not NaN) gradients.
    """

    SKIN = 0.5

    def __init__(self, dataset: Dataset, scheme: CutoffScheme, scope: str = "all", device="cpu",
                 dtype=torch.float64, type_names: tuple[str, ...] | None = None):
        search = None if scheme.radius is None else scheme.radius + self.SKIN
        chunks = list(iter_pairs(dataset, search, scope))
        cat = lambda key: np.concatenate([getattr(c, key) for c in chunks])  # noqa: E731
        as_t = lambda a, dt=dtype: torch.as_tensor(a, dtype=dt, device=device)  # noqa: E731
        names = type_names or dataset.type_names
        lookup = np.array([names.index(t) for t in dataset.type_names], np.int64)
        types = lookup[dataset.type_index]
        self.scheme, self.n_frames, self.n_atoms = scheme, dataset.n_frames, dataset.n_atoms
        self.device, self.dtype = torch.device(device), dtype
        self.positions = as_t(dataset.positions)
        self.cells = as_t(dataset.cells)
        self.frame, self.first, self.second = (as_t(cat(k), torch.int64) for k in ("frame", "first", "second"))
        self.shift = as_t(cat("shift"))
        self.pair_type = as_t(pair_type_table(len(names))[types[cat("first")], types[cat("second")]], torch.int64)
        self.tail = None  # [n_frames, n_pair_types] x 2: the tail correction's multipliers of C12 and -C6
        if scheme.tail:
            renamed = replace(dataset, type_index=types, type_names=names)  # columns of ``names``' pair types
            self.tail = tuple(as_t(t) for t in tail_moments(renamed, scheme, scope))

    def _pair_energies(self, positions: torch.Tensor, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        image = torch.einsum("pk,pkd->pd", self.shift, self.cells[self.frame])
        vector = positions[self.second] + image - positions[self.first]
        r2 = (vector * vector).sum(-1)
        radius = self.scheme.radius
        inside = r2 < radius ** 2 if radius is not None else torch.ones_like(r2, dtype=torch.bool)
        e12, e6 = self.scheme.energy_terms(torch.sqrt(torch.where(inside, r2, torch.ones_like(r2))))
        batch = c12.shape[1:]
        e12, e6 = e12.reshape(e12.shape + (1,) * len(batch)), e6.reshape(e6.shape + (1,) * len(batch))
        u = c12[self.pair_type] * e12 - c6[self.pair_type] * e6
        return torch.where(inside.reshape(inside.shape + (1,) * len(batch)), u, torch.zeros_like(u))

    def energies(self, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        check_tensor("C12", c12, self.positions)
        u = self._pair_energies(self.positions, c12, c6)
        energies = torch.zeros((self.n_frames,) + u.shape[1:], dtype=u.dtype, device=u.device)
        energies = energies.index_add(0, self.frame, u)
        if self.tail is not None:
            energies = energies + self.tail[0] @ c12 - self.tail[1] @ c6
        return energies

    def forces(self, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        """-dE/dx by autograd; a batch of k coefficient columns costs k backward passes."""
        if c12.dim() == 2:
            return torch.stack([self.forces(c12[:, k], c6[:, k]) for k in range(c12.shape[1])], dim=-1)
        with torch.enable_grad():
            positions = self.positions.detach().requires_grad_(True)
            energy = self._pair_energies(positions, c12.detach(), c6.detach()).sum()
            (grad,) = torch.autograd.grad(energy, positions)
        return -grad
