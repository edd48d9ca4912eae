"""The ljfit process: everything the command line sets about its own process, in one place.

The library (fitcore) changes nothing of the process it runs in; the CLI owns its process
and tunes it here. ``command_process`` wraps every command body (``cli.output.guarded``),
``finish`` ends the console script. Each tuning is kept because bench/ shows it pays
(bench/bench_runtime.py switches them off one at a time; figures in bench/README.md):

- signals: SIGTERM (a batch scheduler's time limit, ``kill PID``) raises ``Terminated``, as
  Ctrl-C raises KeyboardInterrupt, so both stop the run at once wherever it is, remove
  half-written files and stop the workers (exit 143 and 130). Not a measure: a contract.
- threads: ``--threads N``, else the CPUs this process may use (``fitcore.workers.usable_cpus``:
  affinity, cgroup quota, SLURM), caps torch's threads and those of OpenMP/BLAS libraries loaded
  later (their variables; the user's own settings win when no ``--threads`` is given).
- heap margin (``keep_heap_margin``): glibc's malloc keeps freed memory for the next array.
- workers start by fork (no imports in each worker) while torch is not loaded yet, with vesin
  imported first with torch hidden from it (vesin imports torch, 1-2 s, only to accept torch
  tensors, which ljfit never passes it), so that no worker imports torch; else by spawn.
- ``finish``: the console script ends with ``os._exit`` once its output is flushed, skipping
  the interpreter's teardown of torch; files are written atomically and closed by then.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from contextlib import contextmanager

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MEASURES = frozenset({"heap_margin", "fork_workers", "skip_teardown"})  # bench_runtime.py removes them in turn


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as Ctrl-C does (a KeyboardInterrupt, so every clean-up for one runs)."""


def _raise_terminated(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the clean-up it starts is not cut short by a second one
    raise Terminated


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_held():
    """Ctrl-C and SIGTERM held back until the block ends, then acted on as usual, around code that must not
    be interrupted half-way: importing torch, whose C++ start-up turns a KeyboardInterrupt raised inside
    it into std::terminate (an abort, exit -6, seen with Ctrl-C 0.8 s into a fit). The handlers are
    swapped rather than the signals blocked: a signal may be delivered to any thread (the worker pool's
    own threads among them), but Python runs handlers in the main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)  # raises KeyboardInterrupt, or Terminated
            elif handler != signal.SIG_IGN:
                os.kill(os.getpid(), caught[0])


@contextmanager
def command_process(threads: int | None):
    """The process set up for one command, and restored after it (the CLI also runs inside other
    processes: tests, notebooks). Signal handlers only where they can be set: the main thread."""
    saved_environ = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    saved_method = multiprocessing.get_start_method(allow_none=True)
    main_thread = threading.current_thread() is threading.main_thread()
    saved_handler = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None
    try:
        use_threads(threads)
        if "heap_margin" in MEASURES:
            keep_heap_margin()
        multiprocessing.set_start_method(_start_method(), force=True)
        yield
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, saved_handler)
        multiprocessing.set_start_method(saved_method, force=True)
        for name, value in saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def use_threads(threads: int | None) -> None:
    """Without --threads, numpy's OpenBLAS gets one thread per process: ljfit's parallelism is its
    worker processes, one per CPU, and OpenBLAS threads on top of them made the Ewald sums' matrix
    products (fitcore/ewald.py) 6x slower on a busy 2-core machine (a 6000-frame fit with charges:
    322 s against 55 s, measured)."""
    from fitcore.workers import usable_cpus
    count = str(threads or usable_cpus())
    for name in THREAD_VARIABLES:
        if threads is not None:
            os.environ[name] = count
        else:
            os.environ.setdefault(name, "1" if name == "OPENBLAS_NUM_THREADS" else count)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def _start_method() -> str:
    """fork while torch is not loaded (its threads would not survive a fork), with vesin imported first
    so that no worker imports torch; else spawn (each worker imports what it needs)."""
    if "fork_workers" in MEASURES and "torch" not in sys.modules and "fork" in multiprocessing.get_all_start_methods():
        _import_vesin_without_torch()
        return "fork"
    return "spawn"


def _import_vesin_without_torch() -> None:
    if "vesin" in sys.modules:
        return
    sys.modules["torch"] = None  # makes vesin's `import torch` fail fast
    try:
        import vesin  # noqa: F401
    finally:
        del sys.modules["torch"]


_MALLOC_SETTINGS = (  # glibc's <malloc.h> parameter numbers, and values
    (-1, 64 << 20),  # M_TRIM_THRESHOLD: free memory kept at the top of the heap
    (-2, 16 << 20),  # M_TOP_PAD: how much more the heap grows than asked for
    (-3, 32 << 20),  # M_MMAP_THRESHOLD: larger arrays get their own mapping (32 MB is glibc's maximum)
)


def keep_heap_margin() -> bool:
    """Set glibc's malloc to keep freed memory (for this process and the workers it forks); whether it took.

    numpy allocates a fresh array for every operation. glibc's malloc serves large ones with their
    own mmap, or returns the top of the heap to the OS once enough is free, so the next array of the
    same size is fresh memory again, and each of its pages costs a page fault when first written.
    That made word arithmetic on 10^5-element arrays twice as slow (the fixed-width reader: 12 ms
    against 6 ms for 10^5 atoms). Arrays under 32 MB therefore come from the heap, which keeps up to
    64 MB free at its top (and grows 16 MB at a time). The thresholds are set explicitly because
    setting any of them stops glibc from adapting the others. The cost is resident memory: freed
    memory up to the trim threshold stays with the process. Nothing happens where malloc is not glibc's.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc: no mallopt (macOS), no CDLL(None) (Windows)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in _MALLOC_SETTINGS)


def finish(code: int) -> None:
    """End the console script with ``code`` once stdout and stderr are flushed."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader of stdout (head, less) has had enough: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.stderr.flush()
    if "skip_teardown" in MEASURES:
        os._exit(code)
    sys.exit(code)
