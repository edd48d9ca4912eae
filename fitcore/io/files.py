"""Writing files so that an interrupted run never leaves a half-written one."""
import os
import stat
import tempfile
from pathlib import Path

from ..errors import InputError, LjfitError


def atomic_write(path: str, text: str | bytes) -> None:
    """Write ``path`` through a temp file in the same folder and a rename: never half written.

    An OS error (disk full, no permission) becomes a one-line LjfitError naming ``path``.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    mode = "wb" if isinstance(text, bytes) else "w"
    tmp = None
    try:
        permissions = _permissions(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, mode) as handle:
            os.chmod(tmp, permissions)  # mkstemp makes 0600; the result should look like any written file
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise LjfitError(f"{path}: cannot write: {err.strerror or err}") from err
        raise


def _permissions(target: Path) -> int:
    """An existing file's permission bits, else those of a new file under the current umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
