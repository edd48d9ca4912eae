"""Named pair parameters: per-type epsilon/sigma, per-pair overrides, energy offsets.

A ``Layout`` fixes which parameters exist and their order in the flat vector theta:

    <type>.epsilon, <type>.sigma        for every type   (not with mixing "none")
    <A>-<B>.epsilon, <A>-<B>.sigma      for every pair with its own parameters
    offset | offset.<species>           with --offset constant | per-species

and the pair form and mixing rule (potential.py) that turn them into per-pair-type
coefficients. ``LJParams`` is a layout with values (eV, Å) and the cutoff treatment.
``pair_tables`` and ``pair_coefficients`` work on numpy arrays and torch tensors alike.
"""
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InputError
from .potential import LJ, MIXING, MIXING_RULES, Form, as_like, canonical_mixing, namespace

KINDS = ("epsilon", "sigma")
__all__ = ["KINDS", "MIXING_RULES", "Layout", "LJParams", "UnknownParameter", "canonical_mixing", "check_values",
           "pair_coefficients", "pair_tables", "pair_types", "unit_factor", "unit_factors"]


class UnknownParameter(InputError):
    """A parameter name that the fit's layout does not have; ``name`` says which."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Layout:
    type_names: tuple[str, ...]
    mixing: str = "lorentz-berthelot"
    pairs: tuple[tuple[int, int], ...] = ()  # (a, b), a <= b: type pairs with their own epsilon, sigma
    offset: str = "none"
    offset_species: tuple[str, ...] = ()  # with offset "per-species"
    form: Form = LJ  # the pair form the parameters are of

    @property
    def n_types(self) -> int:
        return len(self.type_names)

    @property
    def per_type(self) -> bool:
        return self.mixing != "none"

    def pair_name(self, a: int, b: int) -> str:
        a, b = min(a, b), max(a, b)
        return f"{self.type_names[a]}-{self.type_names[b]}"

    @property
    def names(self) -> list[str]:
        names = [f"{t}.{k}" for t in self.type_names for k in KINDS] if self.per_type else []
        names += [f"{self.pair_name(a, b)}.{k}" for a, b in self.pairs for k in KINDS]
        if self.offset == "constant":
            names.append("offset")
        elif self.offset == "per-species":
            names += [f"offset.{s}" for s in self.offset_species]
        return names

    @property
    def n_lj(self) -> int:
        """Parameters before the offsets (all epsilon and sigma)."""
        return (2 * self.n_types if self.per_type else 0) + 2 * len(self.pairs)

    def index(self, name: str) -> int:
        """Position of parameter ``name`` in theta; accepts B-A for A-B."""
        names = self.names
        canonical = self.canonical_name(name)
        if canonical not in names:
            hint = " (offsets are fitted with --offset constant or per-species)" \
                if name.startswith("offset") and self.offset == "none" else ""
            raise UnknownParameter(name, f"unknown parameter {name!r}{hint}; known: {', '.join(names)}")
        return names.index(canonical)

    def canonical_name(self, name: str) -> str:
        head, _, kind = name.rpartition(".")
        if "-" in head and kind in KINDS:
            a, _, b = head.partition("-")
            if a in self.type_names and b in self.type_names:
                return f"{self.pair_name(self.type_names.index(a), self.type_names.index(b))}.{kind}"
        return name

    def with_pair(self, a: int, b: int) -> "Layout":
        pair = (min(a, b), max(a, b))
        return self if pair in self.pairs else replace(self, pairs=tuple(sorted(self.pairs + (pair,))))

    def eps_sigma_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the per-type epsilon and sigma in theta ([n_types] each)."""
        base = 2 * np.arange(self.n_types)
        return base, base + 1

    def pair_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the per-pair epsilon and sigma in theta ([n_pairs] each)."""
        start = 2 * self.n_types if self.per_type else 0
        base = start + 2 * np.arange(len(self.pairs))
        return base, base + 1


@dataclass(frozen=True)
class LJParams:
    layout: Layout
    values: np.ndarray  # [n_params] eV, Å in layout order
    cutoff: float | None  # Å
    shift: bool = False
    stderr: np.ndarray | None = None  # [n_params], from a fit
    tail: bool = False  # the tail correction (LAMMPS pair_modify tail yes) is part of the model
    charges: dict = field(default_factory=dict)  # type -> charge (e), per-type charges of the Coulomb term
    coulomb: dict = field(default_factory=dict)  # the Coulomb options the parameters were fitted with (coulomb.py)
    baseline: str | None = None  # where the fit's baseline came from (e.g. "--baseline-key d3"); None: none

    @property
    def names(self) -> list[str]:
        return self.layout.names

    def value(self, name: str) -> float:
        return float(self.values[self.layout.index(name)])

    @property
    def form(self) -> Form:
        return self.layout.form

    def pair_table(self) -> tuple[np.ndarray, np.ndarray]:
        """eps_ij, sigma_ij [n_types, n_types] after mixing and overrides (NaN: undefined)."""
        return pair_tables(self.layout, np.asarray(self.values, float))


def pair_types(n_types: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with a <= b for every pair type, in the order of the coefficients and moment columns."""
    a, b = np.triu_indices(n_types)
    return a.astype(np.int64), b.astype(np.int64)


def pair_tables(layout: Layout, theta):
    """eps_ij, sigma_ij [n_types, n_types] from theta (layout order; numpy or torch): the mixing
    rule, then the pair overrides. With mixing "none", pairs without parameters are NaN."""
    xp, n = namespace(theta), layout.n_types
    override = np.full((n, n), -1)
    for k, (a, b) in enumerate(layout.pairs):
        override[a, b] = override[b, a] = k
    has = as_like(override >= 0, theta)
    slot = np.maximum(override, 0)
    if layout.per_type:
        ie, is_ = layout.eps_sigma_index()
        eps, sigma = theta[ie], theta[is_]
        eps_ij, sigma_ij = MIXING[layout.mixing].mix(eps[:, None], eps[None, :], sigma[:, None], sigma[None, :], xp)
    else:
        eps_ij = sigma_ij = as_like(np.full((n, n), np.nan), theta)
    if not layout.pairs:
        return eps_ij, sigma_ij
    ip, sp = layout.pair_index()
    # gathers from valid slots only, then a where: no NaN reaches a gradient, each override counted once
    return xp.where(has, theta[ip][slot], eps_ij), xp.where(has, theta[sp][slot], sigma_ij)


def pair_coefficients(layout: Layout, theta):
    """C_n, C_m [n_pair_types] of the layout's form from theta (numpy or torch); pair types
    without parameters (mixing none) get 0."""
    eps_ij, sigma_ij = pair_tables(layout, theta)
    a, b = pair_types(layout.n_types)
    defined = np.ones(len(a), bool)
    if not layout.per_type:
        defined[:] = False
        for p, q in layout.pairs:
            defined[(a == p) & (b == q)] = True
    xp, defined = namespace(theta), as_like(defined, theta)
    eps = xp.where(defined, eps_ij[a, b], 0.0)  # double where: no NaN reaches a gradient
    sigma = xp.where(defined, sigma_ij[a, b], 1.0)
    return layout.form.coefficients(eps, sigma)


def check_values(layout: Layout, values: np.ndarray, source: str) -> None:
    """Epsilon and sigma must be positive and finite; offsets finite."""
    names = layout.names
    for k, (name, value) in enumerate(zip(names, values)):
        if not np.isfinite(value):
            raise InputError(f"{source}: {name} = {value} is not finite")
        if k < layout.n_lj and value <= 0:
            raise InputError(f"{source}: {name} = {value} must be positive")


def unit_factor(name: str, energy_unit: str, length_unit: str) -> float:
    """The factor that takes parameter ``name`` from (energy_unit, length_unit) to eV or Å."""
    from .units import energy_factor, length_factor
    return length_factor(length_unit) if name.endswith(".sigma") else energy_factor(energy_unit)


def unit_factors(layout: Layout, energy_unit: str, length_unit: str) -> np.ndarray:
    """[n_params] factors that take values in (energy_unit, length_unit) to eV and Å."""
    return np.array([unit_factor(name, energy_unit, length_unit) for name in layout.names])
