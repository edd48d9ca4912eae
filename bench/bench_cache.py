"""Target 6: a repeated `ljfit fit --cache DIR` against the first, same data, same run.

    python bench/bench_cache.py [--repeats 3] [--large]

First run: an empty cache folder (reads, reduces, stores). Repeated run: the entry is
found (keyed by input content and options). Both as whole processes, medians.
By default the target-1 data (6000 x 216 atoms); --large adds the 100000-frame scaling
set of bench_scaling.py (generate it with that script first).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, make_mixture_file

LJFIT = Path(sys.executable).parent / "ljfit"


def wall_time(cmd: list[str]) -> float:
    """Seconds from start to exit of the whole command (nothing else running: no memory sampling)."""
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large", action="store_true")
    args = parser.parse_args()
    files = [make_mixture_file(6000)]
    if args.large:
        files.append(DATA / "scaling_100000x64.extxyz")
    for path in files:
        first, again = [], []
        for _ in range(args.repeats):
            folder = tempfile.mkdtemp()
            cmd = [str(LJFIT), "fit", str(path), "--cutoff", "8.5", "--shift", "--format", "json", "--cache", folder]
            first.append(wall_time(cmd))
            os.sync()  # the first run's cache files written back now, not during the timed repeat
            again.append(wall_time(cmd))
            shutil.rmtree(folder)
        a, b = statistics.median(first), statistics.median(again)
        print(f"{path.name}: first {a:.2f} s, from cache {b:.2f} s, ratio {a / b:.1f}x "
              f"(target >= 10x: {'met' if a / b >= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
