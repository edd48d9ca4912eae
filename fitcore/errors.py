"""Errors a user can cause and fix. ``str(err)`` is the one-line message the CLI prints."""


class LjfitError(Exception):
    """Base class: a problem with the user's input or request, not a bug."""


class InputError(LjfitError):
    """Input data that cannot be used: a parse error, a bad value, a missing energy."""


class FitError(LjfitError):
    """A fit that cannot be set up or run, e.g. more free parameters than data."""


def where(path: str, line: int | None = None) -> str:
    """``path:line`` (or just the path) for the start of a message."""
    return f"{path}:{line}" if line is not None else str(path)


class LjfitWarning(UserWarning):
    """Something the user should know about that does not stop the run (the CLI prints it on stderr)."""
