"""Output discipline: data on stdout, people's messages on stderr, files written atomically.

Exit codes: 0 success, 1 bad input or a failed run, 2 usage error (click), 3 the fit
finished but did not converge, 130 interrupted (Ctrl-C, SIGINT), 143 terminated (SIGTERM).
"""
import csv
import functools
import io
import json
import math
import os
import sys
import warnings
from contextlib import contextmanager

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_CONVERGED, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 3, 130, 143
FORMATS = ("auto", "table", "csv", "json")


class Reporter:
    """Where messages go: a rich console on stderr, quiet or not, with optional progress bars."""

    def __init__(self, quiet: bool = False, debug: bool = False):
        from rich.console import Console
        self.quiet, self.debug = quiet, debug
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, markup=False)

    def warn(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"warning: {message}", style="yellow", markup=False)

    def error(self, message: str) -> None:
        self.err.print(f"error: {message}", style="bold red", markup=False)

    @contextmanager
    def progress(self, description: str, total: int | None):
        """A progress bar on stderr when it is a terminal (and not quiet); yields update(done)."""
        if self.quiet or not sys.stderr.isatty():
            yield lambda done, *rest: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda done, *rest: bar.update(task, completed=done)


def resolve_format(fmt: str) -> str:
    """``auto``: a table for a terminal, CSV for a pipe or file."""
    if fmt == "auto":
        return "table" if sys.stdout.isatty() else "csv"
    return fmt


def finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data) -> str:
    """JSON with NaN/inf written as null (JSON has no such numbers)."""
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if hasattr(x, "item") and not isinstance(x, (str, bytes)):
            x = x.item()
        return finite_or_none(x)
    return json.dumps(clean(data), indent=1)


def csv_text(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else (f"{v:.12g}" if isinstance(v, float) else v) for v in row])
    return buffer.getvalue()


def write_output(path: str, data: str | bytes, reporter: Reporter) -> None:
    """An output file, written atomically where it is a file (fitcore.io.files.atomic_write: a symlink's
    target, through a FIFO or device); ``-`` is stdout."""
    if path == "-":
        stream = sys.stdout.buffer if isinstance(data, bytes) else sys.stdout
        stream.write(data)
        stream.flush()
        return
    from fitcore.io.files import atomic_write
    atomic_write(path, data)
    reporter.info(f"wrote {path}")


def guarded(command):
    """Run a command body with ljfit's error, warning and interrupt conventions.

    LjfitError -> one line on stderr, exit 1 (--debug re-raises for the traceback);
    warnings from the library -> "warning: ..." on stderr; Ctrl-C -> exit 130, SIGTERM -> exit 143.
    The body runs in the process cli.runtime sets up (signals, threads, memory, workers).
    """
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        reporter = Reporter(kwargs.get("quiet", False), kwargs.get("debug", False))
        ctx.obj = reporter
        from fitcore.errors import LjfitError, LjfitWarning
        from .runtime import Terminated, command_process
        try:
            with command_process(kwargs.get("threads")), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    code = command(*args, **kwargs)
                finally:  # ljfit's own warnings always (each once); those of numpy, torch, ... only with --debug
                    shown = set()
                    for w in caught:
                        if str(w.message) in shown:
                            continue
                        shown.add(str(w.message))
                        if issubclass(w.category, LjfitWarning):
                            reporter.warn(str(w.message))
                        elif reporter.debug:
                            reporter.warn(f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})")
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (Terminated)
            terminated = isinstance(stop, Terminated)
            reporter.error("terminated" if terminated else "interrupted")
            sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader of stdout (head, less) has had enough: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except LjfitError as err:
            if reporter.debug:
                raise
            reporter.error(str(err))
            sys.exit(EXIT_FAILED)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as err:  # an unexpected failure: still one line unless --debug
            if reporter.debug:
                raise
            reporter.error(f"{type(err).__name__}: {err} (run with --debug for the traceback)")
            sys.exit(EXIT_FAILED)
        sys.exit(code or EXIT_OK)
    return wrapper
