"""The least-squares problem: weighted residuals and their exact Jacobian.

Residuals, for free parameters x (the free entries of theta):

    energy rows  r_n = s_n (E_n(theta) - E_ref_n),   s_n = sqrt(w_n) [/ n_atoms_n with per_atom]
    force rows   r_ai = sqrt(force_weight w_n(a)) (F_ai(theta) - F_ref_ai)   (frames with forces)

The model is linear in the pair coefficients c = (C12, C6) and the offsets, and the
map theta -> c is small. So the Jacobian is exact by the chain rule:

    dr/dx = s * model(dc/dx)        (the engines accept a batch of coefficient columns)

with dc/dx from torch reverse-mode autograd through the parameter map (a few
backward passes over a graph of O(n_types^2) nodes, microseconds each). No finite
differences anywhere.

Given a compressed ``LinearSystem`` (linear.py: the linear loss only), the residuals
are R c - z instead, k of them whatever the data size, with the same sum of squares
up to a constant and the same J^T J; they and their Jacobian R dc/dx are then computed
in numpy by coefficient_map.py (closed form, no torch call per evaluation).

Terms that do not depend on the parameters (fixed-charge Coulomb, baselines) are known
per-frame energies E_fixed and forces F_fixed: the model is LJ + offsets + E_fixed, so the
linear part is fitted to E_ref - E_fixed (Targets.fitted_energies).
"""
from dataclasses import dataclass

import numpy as np
import torch

from .coefficient_map import CoefficientMap
from .model import coefficients
from .params import Layout


@dataclass(frozen=True, eq=False, kw_only=True)
class Targets:
    """Reference data of a fit, per frame and per atom."""
    energies: np.ndarray  # [n_frames] eV
    weights: np.ndarray  # [n_frames]
    n_atoms: np.ndarray  # [n_frames]
    offset_design: np.ndarray  # [n_frames, n_offsets]
    forces: np.ndarray | None = None  # [n_atoms, 3] eV/Å, NaN rows in frames without forces
    atom_frame: np.ndarray | None = None  # [n_atoms] frame of each atom (with forces)
    fixed_energies: np.ndarray | None = None  # [n_frames] eV: terms the parameters do not change (Coulomb, baseline)
    fixed_forces: np.ndarray | None = None  # [n_atoms, 3] eV/Å: their forces

    def fitted_energies(self) -> np.ndarray:
        """[n_frames] eV: what the LJ terms and offsets must explain, energies - fixed_energies."""
        return self.energies if self.fixed_energies is None else self.energies - self.fixed_energies

    def fitted_forces(self) -> np.ndarray | None:
        """[n_atoms, 3] eV/Å: forces - fixed_forces."""
        if self.forces is None or self.fixed_forces is None:
            return self.forces
        return self.forces - self.fixed_forces


@dataclass(frozen=True, kw_only=True)
class Weighting:
    per_atom: bool = False
    forces: bool = False
    force_weight: float = 1.0


class Problem:
    """Residuals and Jacobian as functions of the free parameters (numpy in, numpy out)."""

    def __init__(self, *, layout: Layout, engine, targets: Targets, weighting: Weighting,
                 theta0: np.ndarray, free: np.ndarray, system=None):
        self.layout, self.engine, self.targets, self.weighting = layout, engine, targets, weighting
        self.device, self.dtype = engine.device, engine.dtype
        as_t = lambda a: torch.as_tensor(a, dtype=self.dtype, device=self.device)  # noqa: E731
        self.theta0 = as_t(theta0)
        self.free = np.asarray(free, bool)
        self.free_index = torch.as_tensor(np.flatnonzero(self.free), device=self.device)
        scale = np.sqrt(targets.weights) / (targets.n_atoms if weighting.per_atom else 1.0)
        self.energy_ref, self.energy_scale = as_t(targets.energies), as_t(scale)
        self.energy_fixed = as_t(targets.fixed_energies if targets.fixed_energies is not None
                                 else np.zeros(len(targets.energies)))
        self.offset_design = as_t(targets.offset_design)
        self.n_lj = layout.n_lj
        self.system = system
        if system is not None:
            self.matrix, self.target = as_t(system.matrix), as_t(system.target)
            self.coefficient_map = CoefficientMap(layout)  # numpy: no torch overhead per evaluation
            self.theta0_np = np.asarray(theta0, float).copy()
        self._last = None
        self.use_forces = weighting.forces and weighting.force_weight > 0 and targets.forces is not None
        if self.use_forces:
            atoms = np.flatnonzero(np.isfinite(targets.forces[:, 0]))
            self.force_atoms = torch.as_tensor(atoms, device=self.device)
            self.force_ref = as_t(targets.forces[atoms])
            self.force_scale = as_t(np.sqrt(weighting.force_weight * targets.weights[targets.atom_frame[atoms]]))
            self.force_fixed = as_t(targets.fixed_forces) if targets.fixed_forces is not None else None

    @property
    def n_free(self) -> int:
        return int(self.free.sum())

    @property
    def n_residuals(self) -> int:
        """Data points (energies, force components), also when the residuals are compressed."""
        return len(self.energy_ref) + (3 * len(self.force_atoms) if self.use_forces else 0)

    @property
    def constant_cost(self) -> float:
        """Half the squared residual that compression leaves out (0 without compression)."""
        return 0.5 * self.system.rest if self.system is not None else 0.0

    def residual_sum_of_squares(self, x, exact: bool = False) -> float:
        """Sum of squared residuals; ``exact`` evaluates every residual even when compressed
        (the compressed sum carries the rounding of the compression, ~1e-16 of the data's norm)."""
        if exact and self.system is not None:
            return float(np.sum(self._full_residuals(x) ** 2))
        return float(np.sum(self.residuals(x) ** 2)) + 2 * self.constant_cost

    def theta(self, x) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(x), dtype=self.dtype, device=self.device)
        return self.theta0.index_put((self.free_index,), x)

    def predict(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Energies [n_frames] and (with forces) forces [n_atoms, 3] at full parameters theta."""
        c12, c6 = coefficients(self.layout, theta)
        energies = self.engine.energies(c12, c6) + self.offset_design @ theta[self.n_lj:] + self.energy_fixed
        forces = self.engine.forces(c12, c6) if self.use_forces else None
        if forces is not None and self.force_fixed is not None:
            forces = forces + self.force_fixed
        return energies, forces

    def residuals(self, x) -> np.ndarray:
        if self.system is not None:
            with np.errstate(all="ignore"):  # inf or NaN coefficients: reported by the fit's checks
                return self.system.matrix @ self._coefficients(x)[0] - self.system.target
        return self._full_residuals(x)

    def _coefficients(self, x) -> tuple[np.ndarray, np.ndarray]:
        """c and dc/dx (free columns) at x; the last one is kept (least_squares asks for both at one x)."""
        x = np.array(x, float)
        if self._last is None or not np.array_equal(self._last[0], x):
            theta = self.theta0_np.copy()
            theta[self.free] = x
            with np.errstate(all="ignore"):  # overflow gives inf residuals, which the fit's checks report
                c, dc = self.coefficient_map(theta)
            self._last = (x, c, dc[:, self.free])
        return self._last[1], self._last[2]

    def _full_residuals(self, x) -> np.ndarray:
        with torch.no_grad():
            energies, forces = self.predict(self.theta(x))
            parts = [self.energy_scale * (energies - self.energy_ref)]
            if self.use_forces:
                parts.append((self.force_scale[:, None] * (forces[self.force_atoms] - self.force_ref)).reshape(-1))
        return torch.cat(parts).cpu().numpy()

    def jacobian(self, x) -> np.ndarray:
        if self.system is not None:
            return self.system.matrix @ self._coefficients(x)[1]
        theta = self.theta(x)
        dc12, dc6 = self._coefficient_jacobian(theta)
        doffset = torch.eye(len(theta), dtype=self.dtype, device=self.device)[self.n_lj:][:, self.free_index]
        with torch.no_grad():
            energy = self.engine.energies(dc12, dc6) + self.offset_design @ doffset
            parts = [self.energy_scale[:, None] * energy]
            if self.use_forces:
                forces = self.engine.forces(dc12, dc6)[self.force_atoms]  # [n, 3, n_free]
                parts.append((self.force_scale[:, None, None] * forces).reshape(-1, self.n_free))
        return torch.cat(parts).cpu().numpy()

    def _coefficient_jacobian(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """dC12/dx, dC6/dx [n_pair_types, n_free] by reverse-mode autograd through the parameter map."""
        x = theta[self.free_index].detach()

        def pair_coefficients(x_free: torch.Tensor) -> torch.Tensor:
            return torch.cat(coefficients(self.layout, theta.detach().index_put((self.free_index,), x_free)))

        jac = torch.autograd.functional.jacobian(pair_coefficients, x)
        n_pt = jac.shape[0] // 2
        return jac[:n_pt], jac[n_pt:]
