"""Reading and reducing on a Dask cluster: the map step of the design's map-reduce on many machines.

The tasks are those of the local pipeline (``fitcore.pipeline.featurize_pieces``): each reads its
pieces of the input files on a worker, from a filesystem the workers share, and reduces them to
pair moments. Large files are cut into byte ranges by size (a task on the cluster looks at each
one's first 64 kB), and the workers find the frames of their ranges, so the client reads no input
(but for the rest of a file with an error, to report the error a whole-file read reports first).
Only the reduced pieces travel back (moments and per-frame values; no coordinates when the job asks
for none), and the caller fits in its own process. The
scheduler re-runs the tasks of a worker that is lost (up to ``distributed.scheduler.allowed-
failures`` times per task).

Where the cluster is:
- an address (``tcp://host:port``, or any protocol Dask knows) of a running scheduler;
- a scheduler file, as ``dask-mpi`` and ``dask-jobqueue`` deployments write;
- ``local:N``: a ``LocalCluster`` of N single-threaded worker processes on this machine
  (loopback only), started here and closed when the result is gathered.

``distributed`` is an optional dependency: ``pip install 'ljfit[dask]'``.
"""
import re
from dataclasses import dataclass

from .dataset import Dataset
from .errors import InputError
from .moments import Moments
from .pipeline import (TASKS_PER_WORKER, Featurization, Task, TaskResult, featurize_pieces, gather, plan, settle,
                       shares, to_split)

INSTALL = "pip install 'ljfit[dask]' (the dask and distributed packages)"
LOCAL = re.compile(r"local:(\d+)")
CONNECT_TIMEOUT = 30.0  # s, to reach a scheduler and for its first worker


@dataclass(frozen=True, kw_only=True)
class Scheduler:
    """Where the tasks run: exactly one of ``address`` (or ``local:N``) and ``file``."""
    address: str | None = None
    file: str | None = None

    def __post_init__(self):
        if (self.address is None) == (self.file is None):
            raise ValueError("give exactly one of address and file")

    @property
    def local_workers(self) -> int | None:
        """N of ``local:N``; None for a running scheduler."""
        match = LOCAL.fullmatch(self.address or "")
        return int(match[1]) if match else None

    def __str__(self) -> str:
        return self.address if self.address is not None else f"the scheduler in {self.file}"


def check_address(address: str) -> str:
    """``local:N`` with N >= 1, or a ``protocol://...`` address; the message says what is expected."""
    match = LOCAL.fullmatch(address)
    if (match and int(match[1]) < 1) or (not match and "://" not in address):
        raise ValueError(f"{address!r} is neither an address (tcp://host:port) nor local:N with N >= 1 workers")
    return address


def require_distributed():
    """The ``distributed`` module, or an InputError that says what to install."""
    try:
        import distributed
    except ImportError:
        raise InputError(f"--scheduler needs Dask: {INSTALL}") from None
    return distributed


def _connect(scheduler: Scheduler):
    """(client, local cluster or None)."""
    distributed = require_distributed()
    cluster = None
    try:
        if scheduler.local_workers is not None:
            cluster = distributed.LocalCluster(n_workers=scheduler.local_workers, threads_per_worker=1,
                                               processes=True, host="127.0.0.1", dashboard_address=None)
            return distributed.Client(cluster, timeout=CONNECT_TIMEOUT), cluster
        if scheduler.file is not None:
            return distributed.Client(scheduler_file=scheduler.file, timeout=CONNECT_TIMEOUT), None
        return distributed.Client(scheduler.address, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError) as err:
        if cluster is not None:
            cluster.close()
        raise InputError(f"cannot reach {scheduler}: {err}") from None


class ClusterFeaturization:
    """Reading and reduction under way on a Dask cluster; ``result()`` waits for it and gathers.

    The same contract as ``pipeline.PendingFeaturization``: ``paths`` are files (globs expanded), the
    result is in input order, and an error is that of the first bad piece. ``worker_setup``: a function
    run once in every worker process before the tasks (the caller's process tuning, e.g. the CLI's heap
    margin, which the local pipeline's workers inherit by fork)."""

    def __init__(self, paths: list[str], job: Featurization, scheduler: Scheduler, progress=None,
                 worker_setup=None):
        if "-" in paths:
            raise InputError("--scheduler: input from stdin cannot be read by the cluster's workers")
        self.job, self.progress = job, progress
        self.client, self.cluster = _connect(scheduler)
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            if worker_setup is not None:
                self.client.run(worker_setup)
            n_tasks = TASKS_PER_WORKER * max(1, sum(self.client.nthreads().values()))
            self.futures = self._submit(paths, n_tasks)
        except BaseException:
            self.close()
            raise

    def _submit(self, paths: list[str], n_tasks: int) -> list:
        from .io.pieces import split_mode
        split = to_split(paths, n_tasks)
        found = self.client.map(split_mode, split, pure=False)  # the heads are read on the workers
        modes = dict(zip(split, self.client.gather(found)))
        self.tasks = plan(paths, n_tasks, modes, n_shares=shares(self.job, n_tasks // TASKS_PER_WORKER))
        return [self.client.submit(featurize_pieces, task.pieces, self.job, task.share, pure=False)
                for task in self.tasks]

    def result(self) -> tuple[Dataset, Moments | None]:
        try:  # in order: the first bad piece raises first
            results = settle(list(self.futures), self.tasks, self._rerun, self.job.data.read, self.progress)
        finally:
            self.close()
        return gather(results, self.tasks, self.job)

    def _rerun(self, task: Task) -> TaskResult:
        self.futures.append(self.client.submit(featurize_pieces, task.pieces, self.job, task.share, pure=False))
        return self.futures[-1].result()

    def close(self) -> None:
        futures, self.futures = getattr(self, "futures", []), []
        if futures:
            self.client.cancel(futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

