"""A Dataset from the frames of a file: their headers and parsed atom lines, units applied, labels indexed."""
from pathlib import Path

import numpy as np

from ..dataset import Dataset
from ..errors import InputError, where
from ..units import energy_factor, length_factor
from .header import Frame, ReadOptions
from .rows import parse_rows


def assemble(buf: bytes, source: str, frames: list[Frame], options: ReadOptions, first_frame: int = 0,
             single: bool | None = None) -> Dataset:
    """The Dataset of ``frames`` (of ``buf``: all of file ``source``, or some of its frames from index
    ``first_frame`` on, ``single`` saying whether they are the file's only frame), in eV and Å."""
    groups = _groups(frames)
    parts = [parse_rows(buf, source, group) for group in groups]
    to_angstrom = length_factor(options.length_unit)
    to_ev = energy_factor(options.energy_unit)
    n_atoms = np.array([f.n_atoms for f in frames])
    offsets = np.concatenate([[0], np.cumsum(n_atoms)]).astype(np.int64)
    lines = np.array([f.first_atom_line for f in frames], np.int64)

    positions = np.concatenate([p["pos"] for p in parts]) * to_angstrom
    _check_finite(positions, "coordinates", source, offsets, lines)
    species, species_names = _labels(_column(parts, "species"))
    types, type_names = species, species_names
    if options.type_key:
        types, type_names = _labels(_column(parts, options.type_key))

    forces = None
    if any("forces" in p for p in parts):
        forces = np.concatenate([p["forces"] if "forces" in p else np.full((len(p["pos"]), 3), np.nan)
                                 for p in parts]) * (to_ev / to_angstrom)
        has = np.concatenate([np.full(len(p["pos"]), "forces" in p) for p in parts])
        _check_finite(np.where(has[:, None], forces, 0.0), "forces", source, offsets, lines)

    fragment_key = options.fragment_key or "fragment"
    fragments = _fragments(groups, parts, fragment_key, source)
    skip = {"species", "pos", "forces", fragment_key, options.type_key}
    extra = _extra_columns(groups, parts, skip)

    single = len(frames) == 1 if single is None else single
    names = tuple(f.header.name if f.header.name is not None else default_name(source, first_frame + k, single)
                  for k, f in enumerate(frames))
    return Dataset(
        positions=positions,
        type_index=types,
        type_names=type_names,
        species_index=species,
        species_names=species_names,
        frame_offsets=offsets,
        cells=np.stack([f.header.cell for f in frames]) * to_angstrom,
        pbc=np.array([f.header.pbc for f in frames], bool),
        energies=np.array([f.header.energy for f in frames]) * to_ev,
        weights=np.array([f.header.weight for f in frames]),
        forces=forces,
        fragments=fragments,
        names=names,
        sources=(source,) * len(frames),
        first_atom_line=lines,
        info=tuple(f.header.info for f in frames),
        extra=extra,
    )


def default_name(source: str, index: int, single: bool) -> str:
    """The name of a frame without a ``name=`` key: the file's stem, with ``:index`` unless it is the only one."""
    stem = "stdin" if source == "<stdin>" else Path(source).stem
    return stem if single else f"{stem}:{index}"


def _groups(frames: list[Frame]) -> list[list[Frame]]:
    """Runs of consecutive frames with the same column layout."""
    groups: list[list[Frame]] = []
    for frame in frames:
        last = groups[-1][0].header if groups else None
        if last is not None and (last.columns, last.plain) == (frame.header.columns, frame.header.plain):
            groups[-1].append(frame)
        else:
            groups.append([frame])
    return groups


def _extra_columns(groups: list[list[Frame]], parts: list[dict[str, np.ndarray]], skip: set) -> dict:
    """The other per-atom columns (charges, say), by name. One that every group has alike is kept as read; a
    numeric one that only some groups have, or that is integer in some and real in others, is kept as
    float with NaN for the atoms of the groups without it, so that a check that needs it can name the first
    frame without it (never a silent loss); a text or logical column that only some groups have, or one whose
    number of sub-columns differs between groups, is left out."""
    specs: dict[str, set] = {}
    for group in groups:
        for name, kind, count in group[0].header.columns:
            specs.setdefault(name, set()).add((kind, count))
    out = {}
    for name, kinds in specs.items():
        if name in skip or len({count for _, count in kinds}) != 1:
            continue
        if len(kinds) == 1 and all(name in p for p in parts):
            values = _column(parts, name)
            out[name] = values.astype(str) if values.dtype.kind == "S" else values
        elif {kind for kind, _ in kinds} <= {"R", "I"}:
            tail = next(p[name].shape[1:] for p in parts if name in p)
            out[name] = np.concatenate([p[name].astype(float) if name in p else np.full((len(p["pos"]),) + tail, np.nan)
                                        for p in parts])
    return out


def _column(parts: list[dict[str, np.ndarray]], name: str) -> np.ndarray:
    """Column ``name`` of all parts; string columns parsed as bytes in some parts and as str in others become str."""
    values = [p[name] for p in parts]
    if len({v.dtype.kind for v in values}) > 1:
        values = [v.astype(str) for v in values]
    return np.concatenate(values)


def _fragments(groups: list[list[Frame]], parts: list[dict[str, np.ndarray]], key: str,
               source: str) -> np.ndarray | None:
    """The fragment column of every frame; None if no frame has one, an error if only some do."""
    has = [key in p for p in parts]
    if not any(has):
        return None
    if not all(has):
        frame = groups[has.index(False)][0]
        raise InputError(f"{where(source, frame.line + 1)}: this frame has no {key!r} column but other frames "
                         f"of the file do")
    return np.concatenate([p[key] for p in parts]).astype(np.int64)


def _labels(raw: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Index into sorted distinct labels. A few distinct labels among many atoms (the usual case) are
    found by repeated vectorized comparison, far faster than sorting every string."""
    if raw.dtype.kind == "S" and raw.dtype.itemsize % 8 == 0 and len(raw) > 1000:
        words = np.ascontiguousarray(raw).view(np.uint64).reshape(len(raw), -1)
        index = np.full(len(raw), -1, np.int32)
        found: list[bytes] = []
        while len(found) < 64:
            left = np.flatnonzero(index < 0)
            if len(left) == 0:
                order = np.argsort(found)
                return np.argsort(order).astype(np.int32)[index], tuple(found[k].decode() for k in order)
            first = words[left[0]]
            same = words[:, 0] == first[0]
            for column in range(1, words.shape[1]):  # a column at a time: reductions along axis 1 are slow
                same &= words[:, column] == first[column]
            index[same] = len(found)
            found.append(raw[left[0]])
    names, index = np.unique(raw, return_inverse=True)
    return index.astype(np.int32), tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _check_finite(values: np.ndarray, what: str, source: str, offsets, lines) -> None:
    if np.isfinite(values).all():  # the usual case, cheaply; locate the culprit only when there is one
        return
    bad = np.flatnonzero(~np.all(np.isfinite(values), axis=1))
    atom = int(bad[0])
    frame = int(np.searchsorted(offsets, atom, side="right") - 1)
    line = int(lines[frame]) + atom - int(offsets[frame])
    raise InputError(f"{where(source, line)}: {what} are not finite (NaN or inf)")
