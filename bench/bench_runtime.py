"""Whether each process tuning of cli/runtime.py still pays: `ljfit fit` end to end with all of them,
and with each one switched off in turn, interleaved in the same run (medians), plus the reader alone
with and without the heap margin.

    python bench/bench_runtime.py [--frames 6000] [--repeats 5]

The tunings (cli/runtime.py MEASURES): heap_margin (glibc malloc keeps freed memory),
fork_workers (workers forked before torch is loaded, vesin imported without torch),
skip_teardown (os._exit once the output is flushed). Each variant runs the console script's
entry in a fresh process with ``cli.runtime.MEASURES`` less that measure.
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import make_mixture_file

VARIANTS = ("all", "heap_margin", "fork_workers", "skip_teardown")

RUN = """
import sys
import cli.runtime as runtime
runtime.MEASURES = runtime.MEASURES - {sys.argv[1]}
sys.argv = ["ljfit"] + sys.argv[2:]
from cli.main import entry
entry()
"""

READ = """
import sys, time
from fitcore.io.xyz import read_structures
if sys.argv[2] == "1":
    from cli.runtime import keep_heap_margin
    keep_heap_margin()
read_structures(sys.argv[1])
times = []
for _ in range(5):
    start = time.perf_counter()
    read_structures(sys.argv[1])
    times.append(time.perf_counter() - start)
print(min(times))
"""


def peak_run(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS of the process tree (MB, sampled every 20 ms)."""
    import psutil
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parent, peak = psutil.Process(proc.pid), 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [parent] + parent.children(recursive=True)) / 1e6)
        except psutil.Error:
            continue
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {proc.stderr.read()[-2000:]}")
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = make_mixture_file(args.frames)
    runs: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for variant in VARIANTS:
                runs[variant].append(peak_run([sys.executable, "-c", RUN, variant, "fit", str(data), "--cutoff",
                                               "8.5", "--shift", "--format", "json", "-q", "-o", f"{tmp}/p.json"]))
    base = statistics.median(w for w, _ in runs["all"])
    print(f"ljfit fit on {data.name}, medians of {args.repeats} (interleaved)")
    for variant in VARIANTS:
        wall = statistics.median(w for w, _ in runs[variant])
        peak = statistics.median(p for _, p in runs[variant])
        label = "all tunings" if variant == "all" else f"without {variant}"
        print(f"{label:<26} {wall:6.2f} s  ({wall / base:5.2f}x)  peak RSS {peak:6.0f} MB")
    small = make_mixture_file(max(1, 100_000 // 216))
    reads = {flag: [] for flag in ("0", "1")}
    for _ in range(args.repeats):
        for flag in reads:
            out = subprocess.run([sys.executable, "-c", READ, str(small), flag], capture_output=True, text=True,
                                 check=True)
            reads[flag].append(float(out.stdout))
    without, with_margin = (statistics.median(reads[f]) for f in ("0", "1"))
    print(f"read_structures, {small.name}: {with_margin * 1e3:.1f} ms with the heap margin, "
          f"{without * 1e3:.1f} ms without ({without / with_margin:.2f}x)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
