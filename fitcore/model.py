"""The LJ model in torch: parameters -> (C12, C6) per pair type -> energies and forces.

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
import numpy as np
import torch

from .dataset import Dataset
from .moments import CutoffScheme, Moments, pair_type_table, pair_types
from .neighbors import iter_pairs
from .params import Layout


def check_tensor(name: str, tensor: torch.Tensor, like: torch.Tensor) -> None:
    if tensor.device != like.device or tensor.dtype != like.dtype:
        raise ValueError(f"{name} is {tensor.dtype} on {tensor.device} but the model is {like.dtype} on "
                         f"{like.device}; move it with .to(device=..., dtype=...)")


def mixed_tables(layout: Layout, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """eps_ij, sigma_ij [n_types, n_types] from theta (layout order): mixing rule, then overrides.

    With mixing "none", pairs without parameters are NaN.
    """
    n = layout.n_types
    if layout.per_type:
        ie, is_ = layout.eps_sigma_index()
        eps, sigma = theta[torch.as_tensor(ie)], theta[torch.as_tensor(is_)]
        eps_ij = torch.sqrt(eps[:, None] * eps[None, :])
        if layout.mixing == "lorentz-berthelot":
            sigma_ij = 0.5 * (sigma[:, None] + sigma[None, :])
        elif layout.mixing == "geometric":
            sigma_ij = torch.sqrt(sigma[:, None] * sigma[None, :])
        elif layout.mixing == "sixthpower":
            s3, s6 = sigma ** 3, sigma ** 6
            sum6 = s6[:, None] + s6[None, :]
            eps_ij = 2.0 * eps_ij * s3[:, None] * s3[None, :] / sum6
            sigma_ij = (0.5 * sum6) ** (1.0 / 6.0)
        else:
            raise ValueError(f"unknown mixing rule {layout.mixing!r}")
    else:
        eps_ij = torch.full((n, n), float("nan"), dtype=theta.dtype, device=theta.device)
        sigma_ij = eps_ij.clone()
    if layout.pairs:
        ip, sp = layout.pair_index()
        a = torch.as_tensor([p[0] for p in layout.pairs])
        b = torch.as_tensor([p[1] for p in layout.pairs])
        off = a != b  # mirror unlike pairs only: writing a diagonal entry twice would double its gradient
        rows, cols = torch.cat([a, b[off]]), torch.cat([b, a[off]])
        eps_p, sigma_p = theta[torch.as_tensor(ip)], theta[torch.as_tensor(sp)]
        eps_ij = eps_ij.index_put((rows, cols), torch.cat([eps_p, eps_p[off]]))
        sigma_ij = sigma_ij.index_put((rows, cols), torch.cat([sigma_p, sigma_p[off]]))
    return eps_ij, sigma_ij


def coefficients(layout: Layout, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """C12, C6 [n_pair_types] from theta; pair types without parameters (mixing none) get 0."""
    eps_ij, sigma_ij = mixed_tables(layout, theta)
    a, b = pair_types(layout.n_types)
    eps, sigma = eps_ij[a, b], sigma_ij[a, b]
    defined = ~torch.isnan(eps)
    eps = torch.where(defined, eps, torch.zeros_like(eps))  # double where: no NaN reaches a gradient
    sigma = torch.where(defined, sigma, torch.ones_like(sigma))
    s6 = sigma ** 6
    return 4.0 * eps * s6 * s6, 4.0 * eps * s6


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

    def _pair_energies(self, positions: torch.Tensor, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        image = torch.einsum("pk,pkd->pd", self.shift, self.cells[self.frame])
        vector = positions[self.second] + image - positions[self.first]
        r2 = (vector * vector).sum(-1)
        radius = self.scheme.radius
        inside = r2 < radius ** 2 if radius is not None else torch.ones_like(r2, dtype=torch.bool)
        safe_r2 = torch.where(inside, r2, torch.ones_like(r2))
        inv6 = safe_r2 ** -3
        e12, e6 = inv6 * inv6, inv6
        if self.scheme.shift and radius is not None:
            e12, e6 = e12 - radius ** -12.0, e6 - radius ** -6.0
        batch = c12.shape[1:]
        e12, e6 = e12.reshape(e12.shape + (1,) * len(batch)), e6.reshape(e6.shape + (1,) * len(batch))
        u = c12[self.pair_type] * e12 - c6[self.pair_type] * e6
        return torch.where(inside.reshape(inside.shape + (1,) * len(batch)), u, torch.zeros_like(u))

    def energies(self, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        check_tensor("C12", c12, self.positions)
        u = self._pair_energies(self.positions, c12, c6)
        return torch.zeros((self.n_frames,) + u.shape[1:], dtype=u.dtype, device=u.device).index_add(0, self.frame, u)

    def forces(self, c12: torch.Tensor, c6: torch.Tensor) -> torch.Tensor:
        """-dE/dx by autograd; a batch of k coefficient columns costs k backward passes."""
        if c12.dim() == 2:
            return torch.stack([self.forces(c12[:, k], c6[:, k]) for k in range(c12.shape[1])], dim=-1)
        with torch.enable_grad():
            positions = self.positions.detach().requires_grad_(True)
            energy = self._pair_energies(positions, c12.detach(), c6.detach()).sum()
            (grad,) = torch.autograd.grad(energy, positions)
        return -grad
