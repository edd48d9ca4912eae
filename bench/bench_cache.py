"""Target 6: a repeated `ljfit fit --cache DIR` against the first, same data, same run.

    python bench/bench_cache.py [--repeats 3] [--large]

First run: an empty cache folder (reads, reduces, stores). Repeated run: the entry is
found (keyed by input content and options). Both as whole processes, medians.
By default the target-1 data (6000 x 216 atoms); --large adds the 100000-frame scaling
set of bench_scaling.py (generate it with that script first).
"""
import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_fit import run_measured
from common import DATA, make_mixture_file

LJFIT = Path(sys.executable).parent / "ljfit"


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
            first.append(run_measured(cmd)[0])
            again.append(run_measured(cmd)[0])
            shutil.rmtree(folder)
        a, b = statistics.median(first), statistics.median(again)
        print(f"{path.name}: first {a:.2f} s, from cache {b:.2f} s, ratio {a / b:.1f}x "
              f"(target >= 10x: {'met' if a / b >= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
