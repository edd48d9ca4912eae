"""Writing files so that an interrupted run never leaves a half-written one.

A regular file (or a new one) is written to a temp file beside it and renamed into place.
A symbolic link is followed: its target is replaced that way and the link stays. Anything
else that exists (a FIFO, a device such as /dev/null) is written through, as a shell
redirection would: renaming over it would replace the node instead of feeding it.

Temp files are created with mode 0666 and the umask applied by the kernel (as ``open``
does); a replaced file keeps its permission bits. Nothing here reads or changes the umask.
"""
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError, LjfitError


def atomic_write(path: str, text: str | bytes) -> None:
    """Write ``text`` to ``path``, never half written (see the module docstring).

    An OS error (disk full, no permission) becomes a one-line LjfitError naming ``path``.
    """
    data = text.encode() if isinstance(text, str) else text
    target = Path(os.path.realpath(path))
    try:
        status = target.stat()
    except FileNotFoundError:
        status = None
    except OSError as err:
        raise LjfitError(f"{path}: cannot write: {err.strerror or err}") from err
    try:
        if status is not None and not stat.S_ISREG(status.st_mode):
            _write_through(target, data)
            return
        if not target.parent.is_dir():
            raise InputError(f"{path}: folder {target.parent} does not exist")
        tmp = write_temp(target.parent, target.name, [data], fsync=True,
                         mode=None if status is None else stat.S_IMODE(status.st_mode))
        try:
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as err:
        raise LjfitError(f"{path}: cannot write: {err.strerror or err}") from err


def write_temp(folder: Path, name: str, blocks: Iterable[bytes | memoryview], fsync: bool = False,
               mode: int | None = None) -> Path:
    """``blocks`` written to a new temp file in ``folder`` whose name starts with ``.name.``; its path.

    The name is unique across processes and hosts sharing the folder (a random part, created
    with O_EXCL). ``mode``: permission bits to give it (default: 0666 less the umask). The
    temp file is removed again if anything fails (an error, Ctrl-C).
    """
    tmp = folder / f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.chmod(tmp, mode)
            for block in blocks:
                handle.write(block)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _write_through(target: Path, data: bytes) -> None:
    """Write into an existing FIFO, device or other non-regular file as it is."""
    with open(target, "wb") as handle:
        handle.write(data)
