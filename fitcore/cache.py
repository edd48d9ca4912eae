"""Moment cache: the dataset and moments of a reduction, stored under a key made of the inputs'
contents (sha256), their names, every option that shapes the reduction, and the ljfit version.

An entry is a folder ``<key>/`` of ``.npy`` arrays and a ``header.json`` (names, info and the
like), written to a temporary folder and renamed into place. Arrays are memory-mapped on
loading, so a fit from cache reads only what it touches (energies, counts, moments), not the
positions of millions of atoms. An unreadable entry counts as a miss.

Hashing large inputs takes time too, so ``digests.json`` remembers the sha256 of each file
by (path, size, modification time), as git's index does; a changed file gets a new stamp.
"""
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .io.files import atomic_write
from .moments import Moments

FORMAT = "ljfit-cache/2"
_DATASET_TUPLES = ("type_names", "species_names", "names", "sources", "info")
_KNOWN_DIGESTS: dict[str, str] = {}  # stamp -> sha256, from digest indexes of cache folders


def _stamp(path: str) -> str:
    stat = os.stat(path)
    return f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"


def file_digest(path: str) -> str:
    """sha256 of a file's bytes; known digests (same path, size and mtime) are not recomputed."""
    stamp = _stamp(path)
    if stamp not in _KNOWN_DIGESTS:
        _KNOWN_DIGESTS[stamp] = _digest(stamp)
    return _KNOWN_DIGESTS[stamp]


@lru_cache(maxsize=1024)
def _digest(stamp: str) -> str:
    digest = hashlib.sha256()
    with open(stamp.rsplit("|", 2)[0], "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def remember_digests(folder: str, paths: list[str]) -> None:
    """Use and update ``folder``'s digest index for ``paths``."""
    index_path = Path(folder) / "digests.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    _KNOWN_DIGESTS.update(index)
    stamps = {_stamp(p) for p in paths}
    for path in paths:
        file_digest(path)
    if not stamps <= set(index):
        os.makedirs(folder, exist_ok=True)
        index.update({s: _KNOWN_DIGESTS[s] for s in stamps})
        atomic_write(str(index_path), json.dumps(index, indent=0))


def cache_key(paths: list[str], options: object, version: str) -> str:
    """Key of a reduction of ``paths`` under ``options`` (a dataclass whose repr holds every setting)."""
    digest = hashlib.sha256(f"{FORMAT} {version} {options!r}".encode())
    for path in paths:
        digest.update(f"{Path(path).name}:{file_digest(path)};".encode())
    return digest.hexdigest()[:32]


def load_entry(folder: str, key: str) -> tuple[Dataset, Moments] | None:
    entry = Path(folder) / key
    try:
        header = json.loads((entry / "header.json").read_text())
        if header.get("format") != FORMAT:
            return None
        arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                  for name in header["arrays"]}
        return _dataset(header, arrays), _moments(header, arrays)
    except (OSError, ValueError, KeyError):
        return None  # missing, damaged or foreign: recompute and overwrite


def store_entry(folder: str, key: str, dataset: Dataset, moments: Moments) -> None:
    arrays, header = {}, {"format": FORMAT, "moments_types": list(moments.type_names)}
    for f in fields(Dataset):
        value = getattr(dataset, f.name)
        if f.name in _DATASET_TUPLES:
            header[f.name] = list(value)
        elif f.name == "extra":
            header["extra"] = sorted(value)
            arrays.update({f"extra.{k}": v for k, v in value.items()})
        elif value is not None:
            arrays[f"d.{f.name}"] = value
    arrays.update({f"m.{f.name}": getattr(moments, f.name) for f in fields(Moments)
                   if f.name != "type_names" and getattr(moments, f.name) is not None})
    header["arrays"] = sorted(arrays)
    os.makedirs(folder, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=folder))
    try:
        for name, value in arrays.items():
            np.save(tmp / f"{name}.npy", np.asarray(value), allow_pickle=False)
        (tmp / "header.json").write_text(json.dumps(header))
        target = Path(folder) / key
        if target.exists():  # a damaged entry: replaced
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _dataset(header: dict, arrays: dict) -> Dataset:
    values = {}
    for f in fields(Dataset):
        if f.name in _DATASET_TUPLES:
            values[f.name] = tuple(header[f.name])
        elif f.name == "extra":
            values["extra"] = {k: arrays[f"extra.{k}"] for k in header["extra"]}
        else:
            values[f.name] = arrays.get(f"d.{f.name}")
    return Dataset(**values)


def _moments(header: dict, arrays: dict) -> Moments:
    values = {f.name: arrays.get(f"m.{f.name}") for f in fields(Moments) if f.name != "type_names"}
    return Moments(type_names=tuple(header["moments_types"]), **values)
