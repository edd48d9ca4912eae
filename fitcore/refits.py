"""Many refits of one set of frame rows (cross-validation folds, bootstrap resamples): in this process,
or in worker processes forked from it.

A refit is a job with an index. Job j < n_folds refits the frames outside fold j; job n_folds + i
refits bootstrap resample i, whose frames are drawn by a generator of its own, seeded by (seed, i)
(``SeedSequence(seed, spawn_key=(i,))``). A job's result is a function of its index alone, not of the
process that runs it or of the order: a parallel run gives the numbers of a serial one, bit for bit.

Workers: the refits need only numpy and scipy on the per-frame rows (validation.FrameRows, a few
numbers per frame), so the workers are forked from this process after the rows exist (multiprocessing's
"fork" context, Linux only): nothing is imported again and nothing is sent but job ranges and the
fitted parameters. They are fitcore.workers' processes: they die with this one however it ends, and
are killed when the run stops early. Elsewhere (no fork; spawn would import torch and scipy again in
every worker, which costs more than the refits) the refits run here.

When workers pay (bench/bench_dimers.py, figures in bench/README.md): two forked workers took 96-100 ms
from the fork to their first result beyond the refit itself (about 50 ms a worker, POOL_START_SECONDS) on
this project's 2-core machine under load, and the parent only waits for them, so W workers save at most
(1 - 1/W) of the serial time of the jobs they run (their CPU time, summed, equals the serial run's). The
first jobs run here for PROBE_SECONDS; from their mean time the rest is estimated and handed to workers
only if (1 - 1/W) of its serial time exceeds W x POOL_START_SECONDS: with 2 workers, when more than
0.2 s of refits are left (about 40 refits of the 40 S22x5 dimers, 5 ms each).
"""
import multiprocessing
import sys
import time
from dataclasses import dataclass

import numpy as np

from .workers import start_pool, stop_pool

PROBE_SECONDS = 0.05  # serial refits timed before deciding
POOL_START_SECONDS = 0.05  # per forked worker, start to first result (measured: see the module docstring)
CHUNKS_PER_WORKER = 4  # job ranges per worker: balance against the per-task round trip


@dataclass(frozen=True, kw_only=True, eq=False)
class RefitPlan:
    n_frames: int
    fold: np.ndarray | None = None  # [n_frames] fold of each frame (cross-validation); None: none
    n_folds: int = 0
    n_bootstrap: int = 0
    seed: int = 0

    @property
    def n_jobs(self) -> int:
        return self.n_folds + self.n_bootstrap

    def counts(self, job: int) -> np.ndarray:
        """[n_frames] how many times each frame enters refit ``job`` (see the module docstring)."""
        if job < self.n_folds:
            return (self.fold != job).astype(float)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(job - self.n_folds,)))
        return np.bincount(rng.integers(0, self.n_frames, self.n_frames), minlength=self.n_frames).astype(float)


@dataclass(frozen=True, kw_only=True, eq=False)
class Refits:
    theta: np.ndarray  # [n_jobs, n_params] eV, Å
    ok: np.ndarray  # [n_jobs] the refit converged
    processes: int  # 1: all in this process; else the workers that ran the rest


def run_refits(rows, plan: RefitPlan, workers: int = 1, probe_seconds: float | None = None,
               pool_start_seconds: float | None = None) -> Refits:
    """Every job of ``plan`` refitted on ``rows`` (validation.FrameRows), with up to ``workers`` processes
    when they pay (``probe_seconds``, ``pool_start_seconds``: None, the module's constants)."""
    probe_seconds = PROBE_SECONDS if probe_seconds is None else probe_seconds
    pool_start_seconds = POOL_START_SECONDS if pool_start_seconds is None else pool_start_seconds
    theta, ok = np.empty((plan.n_jobs, len(rows.theta))), np.zeros(plan.n_jobs, bool)
    parallel = workers > 1 and _can_fork()
    done, began = 0, time.perf_counter()
    while done < plan.n_jobs and (not parallel or time.perf_counter() - began < probe_seconds):
        theta[done], ok[done] = rows.refit(plan.counts(done))
        done += 1
    left = plan.n_jobs - done
    per_job = (time.perf_counter() - began) / done if done else np.inf
    if left and left * per_job * (1 - 1 / workers) > pool_start_seconds * workers:
        _in_workers(rows, plan, range(done, plan.n_jobs), min(workers, left), theta, ok)
        return Refits(theta=theta, ok=ok, processes=min(workers, left))
    for job in range(done, plan.n_jobs):
        theta[job], ok[job] = rows.refit(plan.counts(job))
    return Refits(theta=theta, ok=ok, processes=1)


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _in_workers(rows, plan: RefitPlan, jobs: range, workers: int, theta: np.ndarray, ok: np.ndarray) -> None:
    """Fills theta[jobs], ok[jobs] from ``workers`` forked processes, each job range in its own task."""
    edges = np.linspace(jobs.start, jobs.stop, min(len(jobs), CHUNKS_PER_WORKER * workers) + 1).astype(int)
    executor = start_pool(workers, multiprocessing.get_context("fork"), _keep, (rows, plan))
    futures = []
    try:
        futures = [executor.submit(_refit_jobs, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        for (a, b), future in zip(zip(edges[:-1], edges[1:]), futures):
            theta[a:b], ok[a:b] = future.result()
    finally:  # an error or an interrupt: the workers are killed, not waited for
        stop_pool(executor, futures)


_WORKER: dict = {}  # in a worker process: the rows and the plan, inherited by the fork


def _keep(rows, plan: RefitPlan) -> None:
    _WORKER.update(rows=rows, plan=plan)


def _refit_jobs(first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    rows, plan = _WORKER["rows"], _WORKER["plan"]
    fits = [rows.refit(plan.counts(job)) for job in range(first, stop)]
    return np.array([t for t, _ in fits]), np.array([o for _, o in fits])
