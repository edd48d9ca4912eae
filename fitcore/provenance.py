"""Where a result came from: ljfit version, command line, options and the exact input files."""
import os
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class InputFile:
    path: str
    size: int | None = None  # bytes; None for stdin
    sha256: str | None = None


@dataclass(frozen=True, kw_only=True)
class Provenance:
    version: str
    command: str  # as typed, shell-quoted
    options: dict = field(default_factory=dict)  # every option as given, in the run's units
    inputs: tuple[InputFile, ...] = ()

    def as_dict(self) -> dict:
        return {"ljfit_version": self.version, "command": self.command, "options": self.options,
                "inputs": [{"path": f.path} if f.size is None else {"path": f.path, "bytes": f.size,
                                                                     "sha256": f.sha256} for f in self.inputs]}


def input_files(paths: list[str]) -> tuple[InputFile, ...]:
    """Size and sha256 of each input ("-", stdin, is recorded by name only)."""
    from .cache import file_digest
    return tuple(InputFile(path=p) if p == "-" else InputFile(path=p, size=os.path.getsize(p), sha256=file_digest(p))
                 for p in paths)
