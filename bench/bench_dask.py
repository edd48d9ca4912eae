"""The Dask path (--scheduler) against the local pipeline, and where its time goes.

    ../.venv/bin/python bench_dask.py [--frames 6000] [--repeats 3]

1. End to end, `ljfit fit` on the 6000 x 216 set (common.py): local worker processes (the
   reference, measured in the same run), `--scheduler tcp://...` on a running LocalCluster of 2
   single-threaded worker processes (as on a cluster, where the job script starts the workers),
   and `--scheduler local:2` (which also starts and stops its cluster). Target: the running
   cluster at most 1.3x the local pipeline's wall time.
2. A model of the Dask run, from the scheduler's task stream of one reduction: client start,
   planning (each large file's head looked at on a worker), the map (per-task compute, the makespan), the
   scheduler's per-task overhead (from 2000 no-op tasks), and the gather (bytes and time), with
   the extrapolation to 64 workers and to 10^7 frames.
"""
import argparse
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path

import distributed
from common import CUTOFF, make_mixture_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fitcore.cluster import ClusterFeaturization, Scheduler  # noqa: E402
from fitcore.io.inputs import DataOptions  # noqa: E402
from fitcore.moments import CutoffScheme  # noqa: E402
from fitcore.pipeline import Featurization  # noqa: E402

LJFIT = Path(sys.executable).with_name("ljfit")


def wall(args: list[str], repeats: int) -> float:
    """Median wall time (s) of ``ljfit ARGS``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(LJFIT), *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def end_to_end(path: Path, address: str, repeats: int) -> None:
    fit = ["fit", str(path), "--cutoff", str(CUTOFF), "--shift", "-q", "--format", "csv"]
    runs = {}
    for name, extra in (("local pipeline (2 worker processes)", []), ("--scheduler tcp:// (running cluster)",
                        ["--scheduler", address]), ("--scheduler local:2 (cluster started too)",
                                                    ["--scheduler", "local:2"])):
        runs[name] = wall(fit + extra, repeats)
    reference = runs["local pipeline (2 worker processes)"]
    print(f"ljfit fit, {path.name}, medians of {repeats}")
    for name, seconds in runs.items():
        print(f"  {name:44s} {seconds:6.2f} s  {seconds / reference:5.2f}x")
    ratio = runs["--scheduler tcp:// (running cluster)"] / reference
    print(f"  target: running cluster <= 1.3x the local pipeline: {'met' if ratio <= 1.3 else 'NOT met'}")


def scheduler_overhead(client: distributed.Client, n: int = 2000) -> float:
    """Seconds per task of submitting, running and gathering ``n`` no-op tasks (nothing to compute)."""
    start = time.perf_counter()
    futures = client.map(int, range(n), pure=False)
    client.gather(futures)
    return (time.perf_counter() - start) / n


def model(path: Path, client: distributed.Client, address: str) -> None:
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(CUTOFF, True), coordinates=False)
    with distributed.get_task_stream(client) as stream:
        start = time.perf_counter()
        pending = ClusterFeaturization([str(path)], job, Scheduler(address=address))
        submitted = time.perf_counter()
        results = [f.result() for f in pending.futures]
        computed = time.perf_counter()
        dataset, moments = pending.result()
        done = time.perf_counter()
    tasks = [t for t in stream.data if str(t["key"]).startswith("featurize_pieces")]
    plans = [t for t in stream.data if str(t["key"]).startswith("split_mode")]
    compute = [s["stop"] - s["start"] for t in tasks for s in t["startstops"] if s["action"] == "compute"]
    planning = [s["stop"] - s["start"] for t in plans for s in t["startstops"] if s["action"] == "compute"]
    first = min(s["start"] for t in tasks for s in t["startstops"] if s["action"] == "compute")
    last = max(s["stop"] for t in tasks for s in t["startstops"] if s["action"] == "compute")
    returned = sum(len(pickle.dumps(r, protocol=5)) for r in results)
    overhead = scheduler_overhead(client)
    workers = len(client.nthreads())
    n_frames = dataset.n_frames
    print(f"\nmodel of one reduction on {workers} workers: {n_frames} frames, {len(tasks)} tasks")
    print(f"  client start + planning (wall)     {submitted - start:7.3f} s  (heads of large files: {sum(planning):.3f} s "
          f"of compute on a worker)")
    print(f"  map: per-task compute              {statistics.mean(compute):7.3f} s  mean of {len(compute)}, "
          f"{sum(compute):.3f} s in all")
    print(f"  map: makespan (first to last task) {last - first:7.3f} s  ({sum(compute) / (last - first) / workers:.0%} "
          f"of the workers busy)")
    print(f"  until every result was back        {computed - submitted:7.3f} s")
    print(f"  gather into one dataset + moments  {done - computed:7.3f} s  ({returned / 2 ** 20:.1f} MB came back, "
          f"{returned / n_frames:.0f} B per frame)")
    print(f"  scheduler overhead per task        {overhead * 1e3:7.3f} ms (2000 no-op tasks)")
    busy_per_frame = sum(compute) / n_frames + sum(planning) / n_frames
    fixed = submitted - start - sum(planning)
    for frames in (n_frames, 10 ** 7):
        for w in (2, 64):
            n_tasks = 4 * w
            predicted = (fixed + busy_per_frame * frames / w + n_tasks * overhead
                         + (done - computed) * frames / n_frames)
            print(f"  predicted, {frames:>8d} frames, {w:2d} workers: {predicted:8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = make_mixture_file(args.frames)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        end_to_end(path, cluster.scheduler_address, args.repeats)
        model(path, client, cluster.scheduler_address)


if __name__ == "__main__":
    main()
