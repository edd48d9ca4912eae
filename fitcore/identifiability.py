"""What the data determine: the rank of the Jacobian at the solution, and the combinations they leave open.

With J the Jacobian of the weighted residuals with respect to the free parameters x,
scaled to relative changes (J_k |x_k|, i.e. with respect to log |x_k|, so that eV and Å
columns compare), the SVD J = U S V^T splits parameter space: rows of V^T with
S_i > RCOND S_max are directions the data determine, the others (the null space) are
combinations of relative changes that leave every residual unchanged. Those are the
``directions`` reported, by parameter name, with their coefficients.

The usual case: per-type parameters (with a mixing rule) when only some pair types occur
in the data, e.g. adsorbate-surface pairs only. The data then determine the epsilon and
sigma of those pair types (2 per pair type) and nothing more. ``to_fix`` is a smallest set
of parameters whose fixing leaves the rest determined, chosen greedily from the types
that take part in the most pair types of the data (e.g. the surface's).

A prior (prior.py) adds rows to J; the rank then counts the prior's information too,
and ``data_rank`` is the data's alone.
"""
from dataclasses import dataclass

import numpy as np

RCOND = 1e-10  # as result.RCOND: relative singular value below which a direction is undetermined
REPORT = 0.05  # coefficients below this (of a unit direction) are left out of the report


@dataclass(frozen=True, kw_only=True)
class Identifiability:
    rank: int  # directions determined (by the data, and the prior if any)
    free: int  # free parameters
    data_rank: int  # directions the data alone determine
    directions: tuple[dict, ...]  # undetermined combinations: {parameter name: coefficient of d log |x|}
    pairs_in_data: tuple[str, ...]  # pair types with pairs in the data
    to_fix: tuple[str, ...]  # a smallest set of parameters whose fixing makes the rest determined
    only_pairs: bool  # the data determine exactly the parameters of the pair types they contain

    @property
    def complete(self) -> bool:
        return self.rank == self.free

    def sentence(self) -> str:
        """In words, with what to do."""
        if self.complete:
            extra = f" ({self.rank - self.data_rank} of them by the prior)" if self.data_rank < self.rank else ""
            return f"the data determine all {self.free} free directions{extra}"
        what = (f": the {_and(self.pairs_in_data)} pair parameters" if self.only_pairs
                else f"; undetermined: {'; '.join(_direction_text(d) for d in self.directions)}")
        fix = f"Fix {_and(self.to_fix)} (--fix, with --init values), " if self.to_fix else ""
        return (f"the data determine {self.rank} of {self.free} directions{what}. {fix}fit pairs "
                f"(--mixing none), or add --prior uff")


def _and(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _direction_text(direction: dict) -> str:
    return " ".join(f"{c:+.2f} {name}" for name, c in direction.items())


def rank_of(jac: np.ndarray) -> tuple[int, np.ndarray]:
    """Rank and V^T [n, n] of ``jac`` [m, n] (its rows may be compressed: only J^T J matters)."""
    n = jac.shape[1]
    if not np.all(np.isfinite(jac)):
        return 0, np.eye(n)
    square = np.linalg.qr(jac, mode="r") if jac.shape[0] > n else np.vstack([jac, np.zeros((n - jac.shape[0], n))])
    _, s, vt = np.linalg.svd(square)
    return (int(np.sum(s > RCOND * s[0])) if s[0] > 0 else 0), vt


def identifiability(jac_data: np.ndarray, x: np.ndarray, names: list[str], layout, pair_count: np.ndarray,
                    jac_prior: np.ndarray | None = None) -> Identifiability:
    """From the data Jacobian [m, n] (and the prior's rows [p, n]) at the free parameters x [n] named ``names``."""
    scale = np.where(np.abs(x) > 0, np.abs(x), 1.0)
    data = jac_data * scale
    full = data if jac_prior is None else np.vstack([data, jac_prior * scale])
    rank, vt = rank_of(full)
    data_rank, data_vt = rank_of(data)
    null = data_vt[data_rank:]  # what the data leave open (the prior may fill it)
    directions = tuple({names[k]: float(v[k]) for k in np.argsort(-np.abs(v)) if abs(v[k]) >= REPORT}
                       for v in _tidy(null))
    pairs = _pairs_in_data(layout, pair_count)
    free_lj = [n for n in names if n.endswith((".epsilon", ".sigma"))]
    only_pairs = layout.per_type and data_rank == 2 * len(pairs) and data_rank < len(names) and \
        len(free_lj) == len(names)
    to_fix = _to_fix(data, data_rank, names, layout, pair_count) if data_rank < len(names) else ()
    return Identifiability(rank=rank, free=len(names), data_rank=data_rank, directions=directions,
                           pairs_in_data=tuple(pairs), to_fix=to_fix, only_pairs=bool(only_pairs))


def _tidy(null: np.ndarray) -> np.ndarray:
    """A basis of the null space with the largest entries first made plain: signs fixed, near-zeros dropped."""
    out = []
    for v in null:
        v = np.where(np.abs(v) < 1e-12, 0.0, v)
        k = int(np.argmax(np.abs(v)))
        out.append(v * np.sign(v[k]))
    return np.array(out)


def _pairs_in_data(layout, pair_count: np.ndarray) -> list[str]:
    from .moments import pair_types
    a, b = pair_types(layout.n_types)
    return [layout.pair_name(x, y) for x, y, c in zip(a, b, pair_count) if c > 0]


def _to_fix(data: np.ndarray, data_rank: int, names: list[str], layout, pair_count: np.ndarray) -> tuple[str, ...]:
    """Greedy: drop columns, most-shared types first, while the rank of the rest stays ``data_rank``."""
    from .moments import pair_types
    a, b = pair_types(layout.n_types)
    share = {t: int(np.sum(((a == k) | (b == k)) & (pair_count > 0))) for k, t in enumerate(layout.type_names)}

    def order(k):
        head = names[k].rpartition(".")[0]
        return (-share.get(head, 0), names[k].endswith(".sigma"), k)
    keep, fixed = list(range(len(names))), []
    for k in sorted(range(len(names)), key=order):
        if len(keep) == data_rank:
            break
        trial = [j for j in keep if j != k]
        if rank_of(data[:, trial])[0] == data_rank:
            keep, fixed = trial, fixed + [names[k]]
    return tuple(fixed)
