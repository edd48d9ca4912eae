"""The potential's algebra in one place: pair forms, mixing rules and cutoff schemes.

Every function here is pure and works on numpy arrays and torch tensors alike (``xp``
is the module, ``numpy`` or ``torch``), so the engines (torch), the initial guess and
the exports (numpy, no torch import) share one definition of each formula.

Forms. With its two exponents n > m fixed, a pair form is linear in two coefficients:

    u(r) = C_n r^-n - C_m r^-m,      C_n = k_n eps sigma^n,   C_m = k_m eps sigma^m

    lj       LAMMPS lj/cut     u = 4 eps [(s/r)^12 - (s/r)^6]          n, m = 12, 6   k_n = k_m = 4
    lj96     LAMMPS lj/class2  u = eps [2 (s/r)^9 - 3 (s/r)^6]         n, m = 9, 6    k_n = 2, k_m = 3
    mie:N,M  LAMMPS mie/cut    u = C eps [(s/r)^N - (s/r)^M]           k_n = k_m = C = N/(N-M) (N/M)^(M/(N-M))

(mie:12,6 is lj.) Each has its minimum, -eps, at r = sigma (n k_n / (m k_m))^(1/(n-m)). The
inverse map, used by the initial guess: sigma = (C_n k_m / (C_m k_n))^(1/(n-m)), eps = C_m / (k_m sigma^m).
The names C12, C6 elsewhere in ljfit stand for C_n, C_m of whichever form is used.

Pair terms. The energy of a pair within the cutoff rc is C_n e_n(r) - C_m e_m(r) and the force
on its second atom (C_n f_n(r) - C_m f_m(r)) d, with d the vector from the first atom:

    e_k(r) = r^-k - rc^-k    (shifted cutoff, LAMMPS pair_modify shift yes; plain cut: r^-k)
    f_k(r) = k r^-(k+2)      (-d/dr r^-k, divided by r; the shift does not change forces)

Tail correction (LAMMPS pair_modify tail yes, which LAMMPS does not allow with shift yes): in a
periodic cell of volume V, the pairs beyond rc are taken as uniformly spread, adding per pair
type (a, b) of N_a and N_b atoms

    E_tail = 2 pi N_a N_b / V [C_n rc^(3-n) / (n-3) - C_m rc^(3-m) / (m-3)]     (twice that for a != b)

(for lj: 2 pi N_a N_b / V (C12 / (9 rc^9) - C6 / (3 rc^3))), linear in C_n and C_m like the
pair terms, so it lives in the moments; it has no forces. It needs m > 3.

Mixing rules (LAMMPS ``pair_modify mix``), each given by a transform g of sigma that is
averaged, and a factor f on the geometric mean of epsilon:

    g(sigma_ij) = (g(sigma_i) + g(sigma_j)) / 2,     eps_ij = sqrt(eps_i eps_j) f(sigma_i, sigma_j)

    lorentz-berthelot (arithmetic)  g(s) = s        f = 1
    geometric                       g(s) = log s    f = 1
    sixthpower                      g(s) = s^6      f = 2 s_i^3 s_j^3 / (s_i^6 + s_j^6)

The same transforms make the rules linear for the initial guess (guess.py): g(sigma) and
log eps - log f are averages of per-type values.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import InputError


def namespace(array):
    """numpy or torch: the module whose functions apply to ``array``."""
    if isinstance(array, (np.ndarray, np.generic, float, int)):
        return np
    import torch  # already imported if ``array`` is a tensor
    return torch


def as_like(values: np.ndarray, like):
    """``values`` (numpy) as an array of the kind of ``like``: numpy, or a torch tensor on its device."""
    if namespace(like) is np:
        return np.asarray(values)
    import torch
    values = np.asarray(values)
    return torch.as_tensor(values, device=like.device, dtype=like.dtype if values.dtype.kind == "f" else None)


# ---------------------------------------------------------------------------------------------
# forms
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    """A pair form u = k_n eps (s/r)^n - k_m eps (s/r)^m; see the module docstring."""
    name: str  # lj, lj96, mie
    n: float  # repulsive exponent
    m: float  # attractive exponent
    k_n: float
    k_m: float
    lammps_style: str
    default_mixing: str = "lorentz-berthelot"

    @property
    def exponents(self) -> tuple[float, float]:
        return (self.n, self.m)

    @property
    def label(self) -> str:
        """As --potential takes it: lj, lj96, mie:N,M."""
        return f"mie:{number_text(self.n)},{number_text(self.m)}" if self.name == "mie" else self.name

    @property
    def title(self) -> str:
        """For people: Lennard-Jones, Lennard-Jones 9-6, Mie 14-6."""
        return {"lj": "Lennard-Jones", "lj96": "Lennard-Jones 9-6"}.get(self.name, f"Mie {self.n:g}-{self.m:g}")

    def coefficients(self, eps, sigma):
        """C_n, C_m from eps (energy) and sigma (length) of the same shape, numpy or torch."""
        return self.k_n * eps * sigma ** self.n, self.k_m * eps * sigma ** self.m

    def eps_sigma(self, c_n: np.ndarray, c_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """eps, sigma from C_n, C_m > 0 (numpy): the inverse of ``coefficients``."""
        sigma = (c_n * self.k_m / (c_m * self.k_n)) ** (1.0 / (self.n - self.m))
        return c_m / (self.k_m * sigma ** self.m), sigma

    def lammps_coeff_extra(self) -> str:
        """What pair_coeff takes after epsilon and sigma: the exponents for mie/cut."""
        return f" {number_text(self.n)} {number_text(self.m)}" if self.name == "mie" else ""


def number_text(value: float) -> str:
    """12 for 12.0, else the shortest text that reads back as the same double."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def mie_prefactor(n: float, m: float) -> float:
    """C = n/(n-m) (n/m)^(m/(n-m)): the minimum of C [(s/r)^n - (s/r)^m] is -1."""
    return n / (n - m) * (n / m) ** (m / (n - m))


LJ = Form("lj", 12.0, 6.0, 4.0, 4.0, "lj/cut")
LJ96 = Form("lj96", 9.0, 6.0, 2.0, 3.0, "lj/class2", default_mixing="sixthpower")
FORM_NAMES = ("lj", "lj96", "mie")


def mie(n: float, m: float) -> Form:
    if not (math.isfinite(n) and math.isfinite(m) and n > m > 0):
        raise InputError(f"mie exponents {n:g}, {m:g}: need N > M > 0 (mie:N,M, e.g. mie:14,6)")
    c = mie_prefactor(n, m)
    return Form("mie", float(n), float(m), c, c, "mie/cut")


def form_named(name: str, exponents=None) -> Form:
    """The form of a params file's ``potential`` (and ``exponents`` [N, M] for mie)."""
    if name in ("lj", "lj96"):
        if exponents is not None:
            raise InputError(f"potential {name!r} has fixed exponents; \"exponents\" is only for mie")
        return LJ if name == "lj" else LJ96
    if name == "mie":
        if not (isinstance(exponents, (list, tuple)) and len(exponents) == 2
                and all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in exponents)):
            raise InputError("potential \"mie\" needs \"exponents\": [N, M], two numbers")
        return mie(float(exponents[0]), float(exponents[1]))
    raise InputError(f"unknown potential {name!r}; expected one of {', '.join(FORM_NAMES)}")


def parse_form(text: str) -> Form:
    """lj, lj96 or mie:N,M (as --potential takes it)."""
    name, sep, rest = text.strip().lower().partition(":")
    if name != "mie":
        if sep:
            raise InputError(f"potential {text!r}: only mie takes exponents (mie:N,M)")
        return form_named(name)
    try:
        n, m = (float(x) for x in rest.split(","))
    except ValueError:
        raise InputError(f"potential {text!r}: expected mie:N,M with two numbers, e.g. mie:14,6") from None
    return mie(n, m)


# ---------------------------------------------------------------------------------------------
# mixing rules
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MixingRule:
    """One of LAMMPS' mixing rules; see the module docstring. Functions take (arrays..., xp)."""
    name: str
    to_linear: Callable  # g(sigma, xp)
    from_linear: Callable  # g^-1(u, xp)
    epsilon_factor: Callable  # f(sigma_i, sigma_j, xp)
    lammps: str  # pair_modify mix keyword
    openmm: str | None  # the OpenMM force that applies the rule itself, if one does
    gromacs: int | None  # [ defaults ] comb-rule that applies it to sigma and epsilon, if one does
    raspa: str | None  # force_field_mixing_rules.def name, if RASPA has the rule

    def mix(self, eps_i, eps_j, sigma_i, sigma_j, xp=np):
        """eps_ij, sigma_ij (broadcast shapes) from per-type values."""
        sigma = self.from_linear(0.5 * (self.to_linear(sigma_i, xp) + self.to_linear(sigma_j, xp)), xp)
        return xp.sqrt(eps_i * eps_j) * self.epsilon_factor(sigma_i, sigma_j, xp), sigma


def _unit_factor(sigma_i, sigma_j, xp):
    return 1.0


def _sixthpower_factor(sigma_i, sigma_j, xp):
    s3i, s3j = sigma_i ** 3, sigma_j ** 3
    return 2.0 * s3i * s3j / (s3i * s3i + s3j * s3j)


MIXING = {
    "lorentz-berthelot": MixingRule("lorentz-berthelot", lambda s, xp: s, lambda u, xp: u, _unit_factor,
                                    "arithmetic", "NonbondedForce", 2, "Lorentz-Berthelot"),
    "geometric": MixingRule("geometric", lambda s, xp: xp.log(s), lambda u, xp: xp.exp(u), _unit_factor,
                            "geometric", None, 3, "Jorgensen"),
    "sixthpower": MixingRule("sixthpower", lambda s, xp: s ** 6, lambda u, xp: u ** (1.0 / 6.0), _sixthpower_factor,
                             "sixthpower", None, None, None),
}
MIXING_RULES = tuple(MIXING) + ("none",)  # none: every pair type has its own parameters
MIXING_ALIASES = {"arithmetic": "lorentz-berthelot", "lb": "lorentz-berthelot"}


def canonical_mixing(name: str) -> str:
    rule = MIXING_ALIASES.get(name.lower(), name.lower())
    if rule not in MIXING_RULES:
        raise InputError(f"unknown mixing rule {name!r}; expected one of {', '.join(MIXING_RULES)} (or arithmetic)")
    return rule


# ---------------------------------------------------------------------------------------------
# pair terms and cutoff schemes
# ---------------------------------------------------------------------------------------------

def _integer_power(base, k: int):
    """base^k for an integer k >= 1 by repeated squaring (a few multiplications, no pow)."""
    result = None
    while k:
        if k & 1:
            result = base if result is None else result * base
        k >>= 1
        if k:
            base = base * base
    return result


def inverse_powers(r, n: float, m: float):
    """r^-n, r^-m (arrays of r's shape and kind); integer exponents by multiplication."""
    if float(n).is_integer() and float(m).is_integer():
        n, m = int(n), int(m)
        if n % 2 == 0 and m % 2 == 0:
            base, n, m = 1.0 / (r * r), n // 2, m // 2
        else:
            base = 1.0 / r
        inv_m = _integer_power(base, m)
        return inv_m * (inv_m if n == 2 * m else _integer_power(base, n - m)), inv_m
    return r ** -n, r ** -m


@dataclass(frozen=True)
class CutoffScheme:
    """How the pair terms of a form (its exponents) are cut: radius, shift, tail correction."""
    radius: float | None  # Å; None: no cutoff (non-periodic frames only)
    shift: bool = False  # shift energies so that u(rc) = 0
    tail: bool = False  # add the analytic tail correction (periodic frames)
    exponents: tuple[float, float] = (12.0, 6.0)  # n, m of the form

    def energy_terms(self, r):
        """e_n(r), e_m(r): per-pair multipliers of C_n and -C_m in the energy, r in Å."""
        return pair_energy_terms(r, self.exponents, self.radius if self.shift else None)

    def force_terms(self, r):
        """f_n(r), f_m(r): the force on the second atom is (C_n f_n - C_m f_m) d."""
        return pair_force_terms(r, self.exponents)

    def tail_terms(self) -> tuple[float, float]:
        """t_n, t_m: E_tail = N_a N_b / V (C_n t_n - C_m t_m) per ordered pair of types."""
        if self.shift:
            raise InputError(TAIL_AND_SHIFT)
        return tail_terms(self.radius, self.exponents)


TAIL_AND_SHIFT = ("the tail correction cannot be combined with shifted energies (as in LAMMPS, which refuses "
                  "pair_modify shift yes with tail yes: the tail is the integral of the unshifted potential)")


def pair_energy_terms(r, exponents: tuple[float, float], shift_at: float | None = None):
    """e_n, e_m: r^-k, minus rc^-k when energies are shifted to zero at ``shift_at`` = rc."""
    n, m = exponents
    e_n, e_m = inverse_powers(r, n, m)
    if shift_at is not None:
        e_n, e_m = e_n - shift_at ** -n, e_m - shift_at ** -m
    return e_n, e_m


def pair_force_terms(r, exponents: tuple[float, float]):
    """f_n, f_m = k r^-(k+2) for k = n, m."""
    n, m = exponents
    e_n, e_m = inverse_powers(r, n, m)
    inv2 = 1.0 / (r * r)
    return n * e_n * inv2, m * e_m * inv2


def tail_terms(radius: float | None, exponents: tuple[float, float]) -> tuple[float, float]:
    """2 pi rc^(3-k) / (k-3) for k = n, m: the integral of 2 pi r^2 r^-k beyond rc."""
    n, m = exponents
    if radius is None:
        raise InputError("the tail correction needs a cutoff (--cutoff)")
    if m <= 3:
        raise InputError(f"the tail correction needs exponents above 3 (the integral beyond the cutoff diverges); "
                         f"got {m:g}")
    return 2 * math.pi * radius ** (3 - n) / (n - 3), 2 * math.pi * radius ** (3 - m) / (m - 3)
