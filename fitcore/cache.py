"""Moment cache: the dataset and moments of a reduction, stored under a key made of the inputs'
contents (sha256), their names, every option that shapes the reduction, and the ljfit version.

An entry is one file ``<key>.ljc``: a 64-byte preamble (format, header length and CRC-32), a
JSON header (names, info, and each array's dtype, shape, offset and CRC-32) and the arrays'
bytes at 64-byte aligned offsets. Loading memory-maps the file, so a fit from cache reads
the moments it touches, not the positions of millions of atoms again (checking the CRCs
reads every byte once, at 2-3 GB/s).

Many processes may share a folder at once (a job array on a shared, NFS-like filesystem):
- an entry is written to a temp file of unique name and hard-linked into place, which fails
  if the name exists: another process stored the same entry first, and that is success. An
  entry is never replaced or changed in place, so a reader (whose arrays are mapped for the
  whole run) never sees its file change or vanish under it; where hard links are not
  supported, ``os.replace`` stands in;
- an entry that cannot be read, or whose bytes do not match the CRCs recorded when it was
  written (a zero-byte or truncated file, a flipped bit), is removed with a warning and counts
  as a miss: the caller computes the moments again and stores them;
- a folder that cannot be written (read-only, full): a warning, and nothing is stored;
- files are created with mode 0666 less the umask, so a group can share a cache.

Hashing large inputs takes time too, so ``digests.json`` remembers the sha256 of each file
under a stamp of its path, size, mtime, ctime and inode, as git's index does. The ctime moves
whenever the content or the mtime is set (``cp -p``, rsync and tar restore the mtime, not the
ctime), and a recorded digest is trusted only if the file's mtime and ctime are at least
``RACY_SECONDS`` older than the moment it was hashed: a file changed within the same clock tick
as its hashing (coarse timestamps, NFS) could otherwise keep its stamp with new content.
"""
import errno
import hashlib
import json
import mmap
import os
import time
import warnings
import zlib
from dataclasses import fields
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import LjfitWarning
from .io.files import write_temp
from .moments import Moments

FORMAT = "ljfit-cache/3"
SUFFIX = ".ljc"
RACY_SECONDS = 3  # a digest recorded this close to the file's last change is hashed again
STALE_TEMP_SECONDS = 86400  # temp files older than this were left by a killed writer
_PREAMBLE = 64
_ALIGN = 64
_DATASET_TUPLES = ("type_names", "species_names", "names", "sources", "info")
_HASHED: dict[str, tuple[str, int]] = {}  # stamp -> (sha256, ns when hashing began), this process's own
_RECORDED: dict[str, tuple[str, int]] = {}  # the same, read from cache folders' digest indexes


class _Damaged(Exception):
    """A cache entry that cannot be used; the message says why."""


# ------------------------------------------------------------------ input digests


def _stamp(path: str) -> tuple[str, os.stat_result]:
    status = os.stat(path)
    stamp = f"{os.path.abspath(path)}|{status.st_size}|{status.st_mtime_ns}|{status.st_ctime_ns}|{status.st_ino}"
    return stamp, status


def file_digest(path: str) -> str:
    """sha256 of a file's bytes; a digest recorded under its current stamp is used when not racy."""
    stamp, status = _stamp(path)
    if stamp not in _HASHED:
        recorded = _RECORDED.get(stamp)
        last_change = max(status.st_mtime_ns, status.st_ctime_ns)
        if recorded is not None and last_change < recorded[1] - RACY_SECONDS * 10**9:
            _HASHED[stamp] = recorded
        else:
            began = time.time_ns()
            _HASHED[stamp] = (_sha256(path), began)
    return _HASHED[stamp][0]


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def remember_digests(folder: str, paths: list[str]) -> None:
    """Use ``folder``'s digest index for ``paths``, and record their digests there."""
    index_path = Path(folder) / "digests.json"
    _RECORDED.update(_read_index(index_path))
    stamps = {_stamp(p)[0]: p for p in paths if p != "-"}
    for path in stamps.values():
        file_digest(path)
    index = _read_index(index_path)  # again: another process may have added to it meanwhile
    if all(index.get(s) == _HASHED[s] for s in stamps):
        return
    changed = {os.path.abspath(p) for p in stamps.values()}
    index = {s: v for s, v in index.items() if s.split("|", 1)[0] not in changed}  # their old stamps go
    index.update({s: _HASHED[s] for s in stamps})
    text = json.dumps({s: list(v) for s, v in index.items()}, indent=0).encode()
    try:
        os.makedirs(folder, exist_ok=True)
        os.replace(write_temp(Path(folder), "digests.json", [text]), index_path)
    except OSError as err:
        _warn_unwritable(folder, err)


def _read_index(path: Path) -> dict[str, tuple[str, int]]:
    """A digest index; an unreadable one, or entries of another shape, are ignored (hashed again)."""
    try:
        index = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(index, dict):
        return {}
    return {s: (v[0], v[1]) for s, v in index.items()
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], int)}


def cache_key(paths: list[str], options: object, version: str) -> str:
    """Key of a reduction of ``paths`` under ``options`` (a dataclass whose repr holds every setting)."""
    digest = hashlib.sha256(f"{FORMAT} {version} {options!r}".encode())
    for path in paths:
        digest.update(f"{Path(path).name}:{file_digest(path)};".encode())
    return digest.hexdigest()[:32]


# ------------------------------------------------------------------ entries


def load_entry(folder: str, key: str) -> tuple[Dataset, Moments] | None:
    """The entry ``key`` of ``folder``, or None: absent, or damaged (then removed, with a warning)."""
    path = Path(folder) / f"{key}{SUFFIX}"
    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:  # ValueError: mmap refuses an empty file
        return _drop(path, str(getattr(err, "strerror", None) or err))
    try:
        header, arrays = _unpack(mapped)
        return _dataset(header, arrays), _moments(header, arrays)
    except _Damaged as err:
        return _drop(path, str(err))
    except (ValueError, KeyError, TypeError) as err:  # a header that parses but does not describe an entry
        return _drop(path, f"bad header: {type(err).__name__}: {err}")


def store_entry(folder: str, key: str, dataset: Dataset, moments: Moments) -> bool:
    """Store an entry (see the module docstring); False, with a warning, where the folder cannot be written."""
    header, arrays = _pack(dataset, moments)
    target = Path(folder) / f"{key}{SUFFIX}"
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = write_temp(Path(folder), target.name, _blocks(header, arrays))
        try:
            _publish(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as err:
        _warn_unwritable(folder, err)
        return False
    _remove_stale_temps(Path(folder))
    return True


def _remove_stale_temps(folder: Path) -> None:
    """Temp files left by writers that were killed (SIGKILL, a node lost) more than a day ago."""
    for path in folder.glob(".*.tmp"):
        try:
            if time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS:
                path.unlink(missing_ok=True)
        except OSError:  # gone meanwhile, or not ours to remove: it is only clutter
            continue


def _publish(tmp: Path, target: Path) -> None:
    """Give the finished temp file its entry name, unless another process did so first."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return  # stored by another process meanwhile: the same content, and readers may have it mapped
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS):
            raise
        os.replace(tmp, target)  # no hard links on this filesystem


def _drop(path: Path, reason: str) -> None:
    try:
        path.unlink(missing_ok=True)
        done = "removed; the moments are computed again"
    except OSError as err:
        done = f"the moments are computed again (it could not be removed: {err.strerror})"
    warnings.warn(LjfitWarning(f"cache entry {path} is damaged ({reason}): {done}"), stacklevel=3)
    return None


def _warn_unwritable(folder: str, err: OSError) -> None:
    warnings.warn(LjfitWarning(f"cache folder {folder} cannot be written ({err.strerror or err}): "
                               f"the run goes on without storing"), stacklevel=3)


# ------------------------------------------------------------------ the entry file


def _pack(dataset: Dataset, moments: Moments) -> tuple[dict, dict[str, np.ndarray]]:
    """The header (without the arrays' places) and the arrays of an entry."""
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
    return header, {name: np.require(value, requirements="C") for name, value in arrays.items()}


def _blocks(header: dict, arrays: dict[str, np.ndarray]):
    """The bytes of an entry file, in order: preamble, header, padding, arrays (each 64-byte aligned)."""
    places, offset = {}, 0
    for name, value in arrays.items():
        places[name] = {"dtype": value.dtype.str, "shape": list(value.shape), "offset": offset,
                        "nbytes": value.nbytes, "crc32": zlib.crc32(_bytes(value))}
        offset += -(-value.nbytes // _ALIGN) * _ALIGN
    text = json.dumps({**header, "arrays": places}).encode()
    preamble = f"{FORMAT} {len(text)} {zlib.crc32(text)}\n".encode()
    yield preamble.ljust(_PREAMBLE, b" ")
    yield text
    yield b"\0" * (_data_start(len(text)) - _PREAMBLE - len(text))
    for value in arrays.values():
        if value.nbytes:
            yield _bytes(value)
            yield b"\0" * (-value.nbytes % _ALIGN)


def _bytes(value: np.ndarray) -> np.ndarray:
    """The bytes of a C-contiguous array, without a copy."""
    return value.reshape(-1).view(np.uint8)


def _data_start(header_bytes: int) -> int:
    return -(-(_PREAMBLE + header_bytes) // _ALIGN) * _ALIGN


def _unpack(mapped: mmap.mmap) -> tuple[dict, dict[str, np.ndarray]]:
    """Header and arrays (read-only views of ``mapped``) of an entry file, every CRC checked."""
    words = mapped[:_PREAMBLE].split()
    if len(words) != 3 or words[0] != FORMAT.encode():
        raise _Damaged("not a " + FORMAT + " file")
    length, crc = int(words[1]), int(words[2])
    text = mapped[_PREAMBLE:_PREAMBLE + length]
    if len(text) != length or zlib.crc32(text) != crc:
        raise _Damaged("header checksum mismatch")
    header = json.loads(text)
    start, view, arrays = _data_start(length), memoryview(mapped), {}
    for name, place in header["arrays"].items():
        begin, end = start + place["offset"], start + place["offset"] + place["nbytes"]
        if end > len(mapped) or zlib.crc32(view[begin:end]) != place["crc32"]:
            raise _Damaged(f"checksum mismatch in {name}" if end <= len(mapped) else "truncated")
        dtype = np.dtype(place["dtype"])
        arrays[name] = np.frombuffer(mapped, dtype, place["nbytes"] // dtype.itemsize, begin).reshape(place["shape"])
    return header, arrays


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
