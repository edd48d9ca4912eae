"""Moment cache: the dataset and moments of a reduction, stored under a key made of the inputs'
contents (sha256), their names, every option that shapes the reduction, and the ljfit version.

A cache entry is one ``<key>.npz`` (arrays, plus a JSON header for names, info and the like),
written atomically; an unreadable entry counts as a miss.
"""
import hashlib
import io
import json
import os
from dataclasses import fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .io.files import atomic_write
from .moments import Moments

FORMAT = "ljfit-cache/1"
_DATASET_TUPLES = ("type_names", "species_names", "names", "sources", "info")


def file_digest(path: str) -> str:
    """sha256 of a file's bytes, computed once per (path, size, mtime) in this process."""
    stat = os.stat(path)
    return _digest(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=1024)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(paths: list[str], options: object, version: str) -> str:
    """Key of a reduction of ``paths`` under ``options`` (a dataclass whose repr holds every setting)."""
    digest = hashlib.sha256(f"{FORMAT} {version} {options!r}".encode())
    for path in paths:
        digest.update(f"{Path(path).name}:{file_digest(path)};".encode())
    return digest.hexdigest()[:32]


def load_entry(folder: str, key: str) -> tuple[Dataset, Moments] | None:
    path = Path(folder) / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {k: data[k] for k in data.files if k != "header"}
        return _dataset(header, arrays), _moments(header, arrays)
    except (OSError, ValueError, KeyError):
        return None  # a damaged or foreign entry: recompute and overwrite


def store_entry(folder: str, key: str, dataset: Dataset, moments: Moments) -> None:
    os.makedirs(folder, exist_ok=True)
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
    for f in fields(Moments):
        value = getattr(moments, f.name)
        if f.name != "type_names" and value is not None:
            arrays[f"m.{f.name}"] = value
    buffer = io.BytesIO()
    np.savez(buffer, header=np.array(json.dumps(header)), **arrays)
    atomic_write(str(Path(folder) / f"{key}.npz"), buffer.getvalue())


def _dataset(header: dict, arrays: dict) -> Dataset:
    values = {}
    for f in fields(Dataset):
        if f.name in _DATASET_TUPLES:
            values[f.name] = tuple(header[f.name]) if f.name != "info" else tuple(dict(i) for i in header["info"])
        elif f.name == "extra":
            values["extra"] = {k: arrays[f"extra.{k}"] for k in header["extra"]}
        else:
            values[f.name] = arrays.get(f"d.{f.name}")
    return Dataset(**values)


def _moments(header: dict, arrays: dict) -> Moments:
    values = {f.name: arrays.get(f"m.{f.name}") for f in fields(Moments) if f.name != "type_names"}
    return Moments(type_names=tuple(header["moments_types"]), **values)
