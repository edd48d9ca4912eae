"""What a run computes: the model (cutoff, pairs, engine), what is fitted (parameters, data, weights)
and how the optimizer runs.

Both are keyword-only records made once at the boundary (the CLI's RunConfig, or a script)
with every value already in eV and Å; nothing downstream converts units.
"""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module for its choice lists: it stays free of numpy and torch
    from .moments import CutoffScheme
    from .params import LJParams
    from .coulomb import CoulombOptions
    from .potential import Form

# the names of potential.MIXING_RULES and their aliases, here without numpy for the CLI's choices
# (tests/test_spec.py holds the two equal)
MIXING_CHOICES = ("lorentz-berthelot", "arithmetic", "geometric", "sixthpower", "none")
SCOPES = ("all", "inter-fragment")  # which pairs count
ENGINES = ("moments", "direct")  # pair-moment model, or the pairwise reference path
DTYPES = ("float64", "float32")
OFFSETS = ("none", "constant", "per-species")
METHODS = ("lsq", "basinhopping")
ALGORITHMS = ("trf", "dogbox", "lm")  # least_squares methods
LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")


@dataclass(frozen=True, kw_only=True)
class ModelOptions:
    cutoff: float | None = None  # Å; None: all pairs (non-periodic frames only)
    shift: bool = False  # energies shifted to zero at the cutoff
    scope: str = "all"  # one of SCOPES
    engine: str = "moments"  # one of ENGINES
    device: str = "cpu"
    dtype: str = "float64"  # one of DTYPES
    form: "Form | None" = None  # the pair form (potential.py); None: lj
    tail: bool = False  # the analytic tail correction (periodic frames)
    coulomb: "CoulombOptions | None" = None  # fixed-charge Coulomb term; None: the defaults (auto)

    @property
    def coulomb_options(self) -> "CoulombOptions":
        from .coulomb import CoulombOptions
        return self.coulomb or CoulombOptions()

    @property
    def pair_form(self) -> "Form":
        from .potential import LJ
        return self.form or LJ

    @property
    def scheme(self) -> "CutoffScheme":
        from .moments import CutoffScheme
        return CutoffScheme(self.cutoff, self.shift, self.tail, self.pair_form.exponents)


@dataclass(frozen=True, kw_only=True)
class FitSpec:
    """What is fitted: mixing, offsets, starting values, fixed parameters, bounds, weighting."""
    mixing: str | None = None  # one of MIXING_CHOICES; None: the form's default (sixthpower for lj96, else LB)
    offset: str = "none"  # one of OFFSETS
    init: dict = field(default_factory=dict)  # name -> value (eV, Å)
    init_params: "LJParams | None" = None  # starting values from a params file
    fixed: tuple[str, ...] = ()
    bounds: dict = field(default_factory=dict)  # name -> (lower, upper) (eV, Å)
    forces: bool = False
    force_weight: float = 1.0
    per_atom: bool = False
    prior: str | None = None  # "uff" or a params file: Gaussian priors on epsilon and sigma (prior.py)
    prior_width: float = 0.2  # relative: standard deviation of log epsilon and log sigma
    prior_weight: float = 1.0  # times the data's noise scale (prior.py)


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """How the optimizer runs (fit.py)."""
    method: str = "lsq"  # one of METHODS
    algorithm: str = "trf"  # least_squares method, one of ALGORITHMS
    loss: str = "linear"  # one of LOSSES
    f_scale: float = 1.0
    ftol: float = 1e-12
    xtol: float = 1e-12
    gtol: float = 1e-12
    max_nfev: int | None = None
    niter: int = 100  # basin-hopping hops
    step_size: float = 1.0  # basin-hopping step in z space
    temperature: float = 1.0  # relative to the first local minimum's cost
    seed: int | None = None  # None: drawn at random, and recorded in the result
    multistart: bool = True  # also start from UFF values when the types are elements (fit.py, fitting.py)
