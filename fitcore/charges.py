"""Per-atom charges (e) from a column of the inputs or per type, checked.

Sources, one per atom:
- a per-atom column: ``--charge-key KEY``, else the first of CHARGE_COLUMNS the files have
  (``initial_charges`` is what ASE writes);
- per type: ``--charge Na=0.8`` (repeatable) or the ``charges`` object of a params file.

A column and per-type charges for the same atoms must agree (a params file written by a fit
records the charges it used); atoms without a charge when others have one are an error that
names the file and frame. A periodic frame with a net charge gets a warning: Ewald sums then
add a uniform neutralising background, as LAMMPS does.
"""
import warnings

import numpy as np

from .dataset import Dataset
from .errors import InputError, LjfitWarning

CHARGE_COLUMNS = ("initial_charges", "charges", "charge", "q")
NET_CHARGE_TOLERANCE = 1e-6  # e: below this a frame counts as neutral


def charge_column(dataset: Dataset, key: str | None) -> str | None:
    """The name of the per-atom charge column ljfit uses (None: no such column)."""
    if key is not None:
        if key not in dataset.extra:
            raise InputError(f"--charge-key {key}: {dataset.sources[0] if dataset.sources else 'the input'} "
                             f"has no per-atom column {key!r} (columns: {', '.join(sorted(dataset.extra)) or 'none'})")
        return key
    return next((name for name in CHARGE_COLUMNS if name in dataset.extra), None)


def atom_charges(dataset: Dataset, key: str | None, per_type: dict[str, float],
                 per_type_source: str = "--charge") -> np.ndarray | None:
    """[n_atoms] charges in e, or None when the data and options give none."""
    column = charge_column(dataset, key)
    by_type = _by_type(dataset, per_type)
    if column is None and by_type is None:
        return None
    if column is not None:
        values = np.asarray(dataset.extra[column], float)
        if values.ndim != 1:
            raise InputError(f"{dataset.sources[0]}: charge column {column!r} must have one value per atom (R:1)")
        _check_present(dataset, values, f"charges (column {column!r})")
        if by_type is not None:
            _check_agree(dataset, values, by_type, column, per_type_source)
        return values
    _check_present(dataset, by_type, f"charge ({per_type_source} gives {', '.join(sorted(per_type))})")
    return by_type


def _by_type(dataset: Dataset, per_type: dict[str, float]) -> np.ndarray | None:
    if not per_type:
        return None
    table = np.array([per_type.get(name, np.nan) for name in dataset.type_names], float)
    return table[dataset.type_index] if len(table) else np.zeros(dataset.n_atoms)


def _check_present(dataset: Dataset, values: np.ndarray, what: str) -> None:
    """An InputError naming the first atom without a charge, or its frame when the whole frame has none."""
    bad = np.flatnonzero(~np.isfinite(values))
    if not len(bad):
        return
    atom = int(bad[0])
    frame = int(np.searchsorted(dataset.frame_offsets, atom, side="right") - 1)
    lo, hi = int(dataset.frame_offsets[frame]), int(dataset.frame_offsets[frame + 1])
    if atom == lo and not np.isfinite(values[lo:hi]).any():
        raise InputError(f"{dataset.frame_location(frame)}: frame {dataset.names[frame]} has no {what} but other frames do; every atom "
                         f"needs a charge when some have one")
    raise InputError(f"{dataset.atom_location(atom)} has no {what}; every atom needs one when some have charges")


def _check_agree(dataset: Dataset, column: np.ndarray, by_type: np.ndarray, name: str, source: str) -> None:
    differ = np.flatnonzero(np.abs(column - by_type) > 1e-9)
    if len(differ):
        atom = int(differ[0])
        raise InputError(f"{dataset.atom_location(atom)}: charge {column[atom]:g} in column {name!r} but "
                         f"{by_type[atom]:g} from {source}; give charges one way")


def warn_net_charge(parts: list[tuple[Dataset, np.ndarray]]) -> None:
    """Warn about periodic frames that are not neutral, over (dataset, charges [n_atoms]) pieces."""
    count, example = 0, None
    for dataset, charges in parts:
        frame = np.repeat(np.arange(dataset.n_frames), dataset.atoms_per_frame)
        net = np.bincount(frame, weights=charges, minlength=dataset.n_frames)
        charged = np.flatnonzero((np.abs(net) > NET_CHARGE_TOLERANCE) & dataset.pbc.any(axis=1))
        count += len(charged)
        if example is None and len(charged):
            k = int(charged[0])
            example = f"frame {dataset.names[k]} in {dataset.sources[k]}: {net[k]:+.6g} e"
    if count:
        warnings.warn(LjfitWarning(
            f"{count} periodic frame(s) have a net charge ({example}): the Ewald sum adds a uniform "
            f"neutralising background, as LAMMPS does"), stacklevel=2)
