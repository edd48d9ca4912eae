"""Worker processes of the map step: as many as the CPUs this process may use, dying with their
parent however it dies, and stopped at once when a run stops early.

- How many: the CPUs of this process's affinity mask, capped by a cgroup CPU quota (containers,
  systemd) and by SLURM_CPUS_PER_TASK, not ``os.cpu_count()`` (every core of a shared node).
- Dying with the parent: on Linux each worker asks the kernel for SIGKILL when its parent exits
  (``prctl(PR_SET_PDEATHSIG)``), and checks that the parent did not die before it asked; elsewhere
  (other POSIX systems, or a worker that is not a direct child) a thread in each worker checks twice
  a second that the parent lives. A parent stopped by SIGKILL or the OOM killer leaves no worker.
- Signals: from a terminal, Ctrl-C reaches every process of the group; workers ignore SIGINT and
  take SIGTERM's default action (a fork would inherit the parent's handlers), so the parent alone
  decides and stops them.
- Stopping: when a run ends before every task is done (an error, Ctrl-C, SIGTERM), the workers are
  killed rather than waited for; they write nothing, so nothing is lost.

Workers start by multiprocessing's start method, the application's choice (the ljfit command picks
fork: cli/runtime.py), or by the context the caller passes (refits.py forks its workers, which then
keep the rows they were forked with: ``setup``).
"""
import ctypes
import math
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_CHECK_SECONDS = 0.5


def usable_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may use: its affinity, capped by a cgroup quota and by SLURM_CPUS_PER_TASK."""
    counts = [len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)]
    quota = cgroup_quota(cgroup)
    if quota is not None:
        counts.append(max(1, math.ceil(quota)))
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if slurm.isdigit() and int(slurm) > 0:
        counts.append(int(slurm))
    return min(counts)


def cgroup_quota(root: Path) -> float | None:
    """CPUs' worth of time per period granted by the cgroup (v2 ``cpu.max``, v1 ``cpu.cfs_*``); None: no limit."""
    for read in (_quota_v2, _quota_v1):
        try:
            return read(root)
        except (OSError, ValueError):  # no such files (the other version, or no cgroup filesystem)
            continue
    return None


def _quota_v2(root: Path) -> float | None:
    quota, period = (root / "cpu.max").read_text().split()[:2]
    return None if quota == "max" else int(quota) / int(period)


def _quota_v1(root: Path) -> float | None:
    quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
    period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    return quota / period if quota > 0 and period > 0 else None


def worker_count(threads: int | None = None) -> int:
    """Workers for a run capped at ``threads`` (None: every usable CPU)."""
    available = usable_cpus()
    return max(1, min(available, threads or available))


def start_pool(workers: int, context=None, setup=None, setup_args: tuple = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that die with this one (``context``: a multiprocessing context); each
    then calls ``setup(*setup_args)`` (with fork, the arguments are the parent's memory: nothing is sent)."""
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(), setup, setup_args))


def stop_pool(executor: ProcessPoolExecutor, futures: list[Future]) -> None:
    """Shut the pool down: at once, killing the workers, unless every task is done."""
    if not all(f.done() for f in futures):
        if hasattr(executor, "kill_workers"):  # Python 3.14
            executor.kill_workers()
        else:  # no public way before; the pool then finds its workers gone and winds down
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
    executor.shutdown(wait=True, cancel_futures=True)


def _start_worker(parent: int, setup=None, setup_args: tuple = ()) -> None:
    """Initializer of each worker (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    killed_with_parent = os.getppid() == parent and _ask_kill_on_parent_exit() and os.getppid() == parent
    if not killed_with_parent and os.name == "posix":
        threading.Thread(target=_exit_without, args=(parent,), daemon=True, name="ljfit-parent-check").start()
    if setup is not None:
        setup(*setup_args)


def _ask_kill_on_parent_exit() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _exit_without(parent: int) -> None:
    while _alive(parent):
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True
