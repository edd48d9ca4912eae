"""The predict job: a params file's parameters applied to a dataset (energies, and forces if asked).

The predicted energy of a frame is the sum of its parts: what the parameters give (LJ pair terms,
tail and offsets), the fixed-charge Coulomb term and the baseline (the last two fixed, computed once).
"""
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .engine import make_engine, torch_dtype
from .errors import InputError
from .moments import Moments, fixed_terms, pair_types
from .params import LJParams
from .spec import ModelOptions


@dataclass(frozen=True, kw_only=True, eq=False)
class Prediction:
    energies: np.ndarray  # [n_frames] eV, the total: lj + coulomb + baseline
    lj: np.ndarray  # [n_frames] eV, what the parameters give: LJ pair terms, tail and offsets
    coulomb: np.ndarray | None  # [n_frames] eV, the fixed-charge Coulomb term; None without charges
    baseline: np.ndarray | None  # [n_frames] eV, the baseline added back; None without one
    forces: np.ndarray | None  # [n_atoms, 3] eV/Å, total (LJ + Coulomb); None unless asked for


def predict_dataset(dataset: Dataset, moments: Moments | None, params: LJParams, model: ModelOptions,
                    with_forces: bool, source: str = "the parameters") -> tuple[np.ndarray, np.ndarray | None]:
    """Energies [n_frames] eV and forces [n_atoms, 3] eV/Å (or None) from ``params`` (read from ``source``)."""
    prediction = predict_parts(dataset, moments, params, model, with_forces, source)
    return prediction.energies, prediction.forces


def predict_parts(dataset: Dataset, moments: Moments | None, params: LJParams, model: ModelOptions,
                  with_forces: bool, source: str = "the parameters") -> Prediction:
    """The prediction of ``params`` (read from ``source``), total and parts."""
    import torch

    from .model import coefficients, offset_design
    layout = params.layout
    if (model.pair_form, model.tail) != (params.form, params.tail):
        raise InputError(f"{source}: the parameters are for potential {params.form.label} (tail {params.tail}) but "
                         f"the model options say {model.pair_form.label} (tail {model.tail})")
    missing = [t for t in dataset.type_names if t not in layout.type_names]
    if missing:
        raise InputError(f"{source}: no parameters for type(s) {', '.join(missing)} found in the data "
                         f"(it covers {', '.join(layout.type_names)})")
    _check_defined_pairs(params, moments, dataset, source)
    engine = make_engine(dataset, moments, model, layout.type_names)
    theta = torch.as_tensor(params.values, dtype=torch_dtype(model.dtype), device=model.device)
    with torch.no_grad():
        c12, c6 = coefficients(layout, theta)
        design = torch.as_tensor(offset_design(layout, dataset), dtype=theta.dtype, device=theta.device)
        lj = (engine.energies(c12, c6) + design @ theta[layout.n_lj:]).cpu().numpy()
        forces = engine.forces(c12, c6).cpu().numpy() if with_forces else None
    fixed_energies, fixed_forces = fixed_terms(dataset, moments)  # what the fit adds, added the same way
    energies = lj if fixed_energies is None else lj + fixed_energies
    if forces is not None and fixed_forces is not None:
        forces = forces + fixed_forces
    coulomb = None if moments is None or moments.coulomb is None else np.asarray(moments.coulomb, float)
    return Prediction(energies=energies, lj=lj, coulomb=coulomb, baseline=dataset.baseline, forces=forces)


def _check_defined_pairs(params: LJParams, moments: Moments | None, dataset: Dataset, source: str) -> None:
    """With mixing none, every pair type that occurs needs its own parameters."""
    if params.layout.per_type or moments is None:
        return
    layout, names = params.layout, dataset.type_names
    defined = {layout.pair_name(p, q) for p, q in layout.pairs}
    for x, y, count in zip(*pair_types(len(names)), moments.pair_count):
        name = layout.pair_name(layout.type_names.index(names[x]), layout.type_names.index(names[y]))
        if count > 0 and name not in defined:
            raise InputError(f"{source}: mixing none, but there are no parameters for pair {name}, "
                             f"which occurs in the data")
