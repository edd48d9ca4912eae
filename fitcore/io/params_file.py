"""``ljfit-params/1`` parameter files (JSON).

    {"format": "ljfit-params/1", "potential": "lj", "mixing": "lorentz-berthelot",
     "cutoff": 8.5, "shift": true, "tail": false, "units": {"energy": "eV", "length": "angstrom"},
     "species": {"Ar": {"epsilon": 0.0104, "sigma": 3.40}, ...},
     "pairs": {"Ar-Kr": {"epsilon": ..., "sigma": ...}},       (optional)
     "offset": 0.0 | {"Ar": ..., ...}}                          (optional)

``potential`` is "lj", "lj96" or "mie" with ``"exponents": [N, M]`` (potential.py); ``mixing``
defaults to the form's own (sixthpower for lj96). ``tail`` (default false) is LAMMPS'
``pair_modify tail yes``. Values are in the file's units. ``cutoff: null`` means no cutoff. With mixing
"none", species entries are empty objects ({}) and every pair is in "pairs". A fit
adds ``*_stderr`` fields and a "fit" section.
"""
import json

import numpy as np

from ..errors import InputError
from ..params import KINDS, LJParams, Layout, canonical_mixing, check_values, unit_factors
from ..potential import CutoffScheme, form_named

FORMAT = "ljfit-params/1"
TOP_KEYS = {"format", "potential", "exponents", "mixing", "cutoff", "shift", "tail", "units", "species", "pairs",
            "offset", "offset_stderr", "fit", "charges", "coulomb", "baseline"}
ENTRY_KEYS = {"epsilon", "sigma", "epsilon_stderr", "sigma_stderr"}


def read_params(path: str) -> tuple[LJParams, dict]:
    """Parameters in eV and Å, and the file's units {"energy": ..., "length": ...}."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a JSON params file ({err})") from None
    return params_from_dict(data, path)


def params_from_dict(data, path: str) -> tuple[LJParams, dict]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not a {FORMAT} file (its \"format\" key must be {FORMAT!r})")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        form = form_named(str(data.get("potential", "lj")), data.get("exponents"))
        mixing = canonical_mixing(str(data.get("mixing", form.default_mixing)))
    except InputError as err:
        raise InputError(f"{path}: {err}") from None
    units = _units(data.get("units", {}), path)
    species = data.get("species")
    if not isinstance(species, dict) or not species:
        raise InputError(f"{path}: \"species\" must be a non-empty object of type -> {{epsilon, sigma}}")
    type_names = tuple(species)
    pairs_data = data.get("pairs", {}) or {}
    pairs, pair_values = _pairs(pairs_data, type_names, path)
    offset_kind, offset_species, offsets = _offsets(data.get("offset"), path)
    layout = Layout(type_names, mixing, tuple(pairs), offset_kind, offset_species, form)
    values = [] if mixing == "none" else [_entry(species[t], k, f"species {t}", path) for t in type_names for k in KINDS]
    if mixing == "none":
        for t in type_names:
            _check_entry_keys(species[t], f"species {t}", path)
    values += pair_values + offsets
    stderr = _stderr(data, layout, type_names, pairs_data)
    values = np.array(values, float)
    check_values(layout, values, path)
    factors = unit_factors(layout, units["energy"], units["length"])
    cutoff = data.get("cutoff")
    if cutoff is not None and (not isinstance(cutoff, (int, float)) or cutoff <= 0):
        raise InputError(f"{path}: cutoff {cutoff!r} must be a positive number or null")
    shift, tail = data.get("shift", False), data.get("tail", False)
    for key, value in (("shift", shift), ("tail", tail)):
        if not isinstance(value, bool):
            raise InputError(f"{path}: {key} must be true or false")
    if tail:
        try:
            CutoffScheme(cutoff, shift, tail, form.exponents).tail_terms()  # a cutoff, no shift, finite tail
        except InputError as err:
            raise InputError(f"{path}: tail true: {err}") from None
    from ..units import length_factor
    params = LJParams(layout, values * factors, None if cutoff is None else cutoff * length_factor(units["length"]),
                      shift, None if stderr is None else stderr * factors, tail=tail,
                      charges=_charges(data.get("charges", {}), path), coulomb=_coulomb(data.get("coulomb", {}), path),
                      baseline=_baseline(data.get("baseline"), path))
    return params, units


def _charges(charges, path: str) -> dict:
    """The optional ``charges`` object: type -> charge in e."""
    if not isinstance(charges, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                and np.isfinite(v) for v in charges.values()):
        raise InputError(f"{path}: \"charges\" must be an object of type -> charge (a number, in e)")
    return {str(k): float(v) for k, v in charges.items()}


def _baseline(baseline, path: str) -> str | None:
    """The optional ``baseline``: where the fit's per-frame baseline came from (text), or null."""
    if baseline is not None and not isinstance(baseline, str):
        raise InputError(f"{path}: \"baseline\" must be a text saying where the fit's baseline came from, or null")
    return baseline


def _coulomb(coulomb, path: str) -> dict:
    """The optional ``coulomb`` object: {"method": auto|none|direct|ewald, "accuracy": relative, ...}."""
    if coulomb == {}:
        return {}
    from ..coulomb import METHODS
    accuracy = coulomb.get("accuracy", 1e-8) if isinstance(coulomb, dict) else None
    if not isinstance(coulomb, dict) or coulomb.get("method", "auto") not in METHODS \
            or not isinstance(accuracy, (int, float)) or not 0 < accuracy < 1:
        raise InputError(f"{path}: \"coulomb\" must be an object with a method ({', '.join(METHODS)}) and a "
                         f"relative accuracy between 0 and 1")
    return dict(coulomb)


def _units(units, path: str) -> dict:
    from ..units import ENERGY_UNITS, LENGTH_UNITS
    if not isinstance(units, dict) or set(units) - {"energy", "length"}:
        raise InputError(f"{path}: \"units\" must be {{\"energy\": ..., \"length\": ...}}")
    energy, length = units.get("energy", "eV"), units.get("length", "angstrom")
    if energy not in ENERGY_UNITS or length not in LENGTH_UNITS:
        raise InputError(f"{path}: unknown units {energy!r}/{length!r} (energy: {', '.join(ENERGY_UNITS)}; "
                         f"length: {', '.join(LENGTH_UNITS)})")
    return {"energy": energy, "length": length}


def _check_entry_keys(entry, where_: str, path: str) -> None:
    if not isinstance(entry, dict):
        raise InputError(f"{path}: {where_} must be an object with epsilon and sigma")
    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise InputError(f"{path}: {where_} has unknown key(s) {', '.join(sorted(unknown))}")


def _entry(entry, kind: str, where_: str, path: str) -> float:
    _check_entry_keys(entry, where_, path)
    value = entry.get(kind)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InputError(f"{path}: {where_} needs a numeric {kind}")
    if value <= 0:
        raise InputError(f"{path}: {where_} has {kind} {value}, which must be positive")
    return float(value)


def _pairs(pairs_data, type_names, path: str):
    if not isinstance(pairs_data, dict):
        raise InputError(f"{path}: \"pairs\" must be an object of \"A-B\" -> {{epsilon, sigma}}")
    pairs, values = [], []
    for name, entry in pairs_data.items():
        a, sep, b = name.partition("-")
        if not sep or a not in type_names or b not in type_names:
            raise InputError(f"{path}: pair {name!r} must be A-B with A and B among the species")
        ia, ib = sorted((type_names.index(a), type_names.index(b)))
        if (ia, ib) in pairs:
            raise InputError(f"{path}: pair {name!r} is given twice")
        pairs.append((ia, ib))
        values.append([_entry(entry, k, f"pair {name}", path) for k in KINDS])
    order = sorted(range(len(pairs)), key=lambda k: pairs[k])
    return [pairs[k] for k in order], [v for k in order for v in values[k]]


def _offsets(offset, path: str):
    if offset is None:
        return "none", (), []
    if isinstance(offset, (int, float)) and not isinstance(offset, bool):
        return "constant", (), [float(offset)]
    if isinstance(offset, dict) and all(isinstance(v, (int, float)) for v in offset.values()):
        return "per-species", tuple(offset), [float(v) for v in offset.values()]
    raise InputError(f"{path}: offset must be a number or an object species -> number")


def _stderr(data, layout: Layout, type_names, pairs_data) -> np.ndarray | None:
    names = layout.names
    out = np.full(len(names), np.nan)

    def read(entry, key):
        value = entry.get(key, np.nan)
        return np.inf if value is None else value  # null: undetermined

    for k, name in enumerate(names):
        head, _, kind = name.rpartition(".")
        if head in type_names and kind in KINDS:
            out[k] = read(data["species"][head], f"{kind}_stderr")
        elif kind in KINDS:
            a, _, b = head.partition("-")
            out[k] = read(pairs_data.get(head) or pairs_data.get(f"{b}-{a}") or {}, f"{kind}_stderr")
    offset_stderr = data.get("offset_stderr")
    if isinstance(offset_stderr, (int, float)):
        out[layout.n_lj:] = offset_stderr
    elif isinstance(offset_stderr, dict):
        out[layout.n_lj:] = [offset_stderr.get(s, np.nan) for s in layout.offset_species]
    return None if np.all(np.isnan(out)) else out


def params_to_dict(params: LJParams, energy_unit: str = "eV", length_unit: str = "angstrom") -> dict:
    """The ljfit-params/1 object for ``params``, with values in the given units."""
    from ..units import length_factor
    layout = params.layout
    factors = unit_factors(layout, energy_unit, length_unit)
    values = params.values / factors
    stderr = params.stderr / factors if params.stderr is not None else None
    index = {name: k for k, name in enumerate(layout.names)}

    def entry(prefix: str) -> dict:
        out = {}
        for kind in KINDS:
            k = index[f"{prefix}.{kind}"]
            out[kind] = float(values[k])
            if stderr is not None and not np.isnan(stderr[k]):  # inf (undetermined) is written as null
                out[f"{kind}_stderr"] = float(stderr[k]) if np.isfinite(stderr[k]) else None
        return out

    data = {"format": FORMAT, "potential": params.form.name}
    if params.form.name == "mie":
        data["exponents"] = [_number(e) for e in params.form.exponents]
    data.update({
        "mixing": layout.mixing,
        "cutoff": None if params.cutoff is None else params.cutoff / length_factor(length_unit),
        "shift": bool(params.shift), "tail": bool(params.tail), "units": {"energy": energy_unit, "length": length_unit},
        "species": {t: (entry(t) if layout.per_type else {}) for t in layout.type_names},
    })
    if layout.pairs:
        data["pairs"] = {layout.pair_name(a, b): entry(layout.pair_name(a, b)) for a, b in layout.pairs}
    offsets = values[layout.n_lj:]
    if layout.offset == "constant":
        data["offset"] = float(offsets[0])
    elif layout.offset == "per-species":
        data["offset"] = {s: float(v) for s, v in zip(layout.offset_species, offsets)}
    if layout.offset != "none" and stderr is not None:
        off_err = [float(v) if np.isfinite(v) else None for v in stderr[layout.n_lj:]]
        data["offset_stderr"] = off_err[0] if layout.offset == "constant" else dict(zip(layout.offset_species, off_err))
    if params.charges:
        data["charges"] = dict(params.charges)
    if params.coulomb:
        data["coulomb"] = dict(params.coulomb)
    if params.baseline is not None:
        data["baseline"] = params.baseline
    return data


def document_json(data: dict) -> str:
    """A params document as JSON text; non-finite numbers (an undetermined stderr, a singular
    Jacobian's condition number) are written as null, since JSON has no inf or NaN."""
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, (float, np.floating)):
            return float(x) if np.isfinite(x) else None
        if isinstance(x, np.integer):
            return int(x)
        return x
    return json.dumps(clean(data), indent=1) + "\n"


def _number(value: float) -> int | float:
    """An exponent as JSON writes it best: 12, not 12.0."""
    return int(value) if float(value).is_integer() else float(value)


def params_json(params: LJParams, energy_unit: str = "eV", length_unit: str = "angstrom") -> str:
    return document_json(params_to_dict(params, energy_unit, length_unit))
