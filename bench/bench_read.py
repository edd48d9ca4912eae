"""Target 2: reading extended XYZ as ASE writes it, against ase.io.read on the same file, same run.

    python bench/bench_read.py [--atoms 100000 1000000] [--repeats 5]

Files: Ar/Kr/Xe frames of 216 atoms written by ase.io.write (aligned columns, several
spaces; positions only, energies in the comment). Timed: ase.io.read(path, ":")
against fitcore's reader in one process, and in worker processes as `ljfit` runs it
(fitcore.pipeline, both cores). Every timing runs in a fresh process (imports done,
file in the page cache, median of --repeats) so one reader's memory does not slow
the next. Prints atoms/s and the ratios.
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from common import make_mixture_file

READERS = {
    "ase": ("import ase.io", "ase.io.read(path, ':')"),
    # fitcore as ljfit runs it: with the heap margin its commands set (cli/runtime.py)
    "fitcore": ("from cli.runtime import keep_heap_margin\nfrom fitcore.io.xyz import read_structures\n"
                "keep_heap_margin()", "read_structures(path)"),
    "pipeline": ("from cli.runtime import keep_heap_margin\nfrom fitcore.io.inputs import DataOptions\n"
                 "from fitcore.pipeline import PendingFeaturization, Featurization, worker_count\nkeep_heap_margin()",
                 "PendingFeaturization([path], Featurization(data=DataOptions(), scheme=None), worker_count()).result()"),
}

TIMER = """
import json, sys, time
path = sys.argv[1]
{setup}
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    {call}
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def median_time(reader: str, path: Path, repeats: int) -> float:
    setup, call = READERS[reader]
    code = TIMER.format(setup=setup, call=call)
    out = subprocess.run([sys.executable, "-c", code, str(path), str(repeats)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    return statistics.median(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'atoms':>9} {'MB':>6} {'ase.io.read':>12} {'fitcore':>10} {'pipeline':>10} {'ratio':>7} {'ratio':>9}")
    print(f"{'':>9} {'':>6} {'atoms/s':>12} {'1 process':>10} {'2 procs':>10} {'1 proc':>7} {'pipeline':>9}")
    for atoms in args.atoms:
        path = make_mixture_file(max(1, atoms // 216))
        n = (atoms // 216) * 216
        t = {reader: median_time(reader, path, args.repeats) for reader in READERS}
        rate = lambda s: f"{n / s / 1e6:.2f}M"  # noqa: E731
        print(f"{n:>9} {path.stat().st_size / 1e6:>6.1f} {rate(t['ase']):>12} {rate(t['fitcore']):>10} "
              f"{rate(t['pipeline']):>10} {t['ase'] / t['fitcore']:>6.1f}x {t['ase'] / t['pipeline']:>8.1f}x")
    print("target: at least 5x the atoms/s of ase.io.read (the pipeline reads in one process below 32 MB)")


if __name__ == "__main__":
    main()
