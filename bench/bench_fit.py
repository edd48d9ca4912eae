"""Target 1 (and 5): end-to-end `ljfit fit` against the reference pipeline, same data, same run.

    python bench/bench_fit.py [--frames 6000] [--repeats 3]

Data: N periodic frames x 216 atoms of an Ar/Kr/Xe mixture (cutoff 8.5 Å, shifted),
energies from known Lorentz-Berthelot parameters (bench/common.py), written by
ase.io.write. Reference: a competent user's script (ase.io.read, vesin neighbour
lists in memory, numpy LJ energies, scipy least_squares with its default
finite-difference Jacobian), run as its own process. ljfit: the installed command.
Both are timed as whole processes (start-up included); peak memory is the summed
maximum RSS of each process tree (ljfit's workers included). Prints medians and the ratio.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import SPECIES, TRUTH, make_mixture_file

HERE = Path(__file__).parent
LJFIT = Path(sys.executable).parent / "ljfit"

REFERENCE = r'''
import sys, json, time
import numpy as np
sys.path.insert(0, sys.argv[2])
from common import ReferencePairs
import ase.io
from scipy.optimize import least_squares
frames = ase.io.read(sys.argv[1], ":")
energies = np.array([a.get_potential_energy() for a in frames])
pairs = ReferencePairs(frames, 8.5)
x0 = np.array([0.01, 3.5] * 3)   # a generic start, as a user would write it
result = least_squares(lambda x: pairs.energies(x) - energies, x0, bounds=(1e-6, np.inf), x_scale="jac")
print(json.dumps({"x": result.x.tolist(), "nfev": result.nfev, "cost": result.cost}))
'''


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """Wall time, peak RSS of the process tree (MB, sampled every 20 ms), stdout."""
    import psutil
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    peak = 0.0
    while proc.poll() is None:
        try:
            tree = [parent] + parent.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 1e6)
        except psutil.Error:
            pass
        time.sleep(0.02)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, peak, out


def truth_vector() -> np.ndarray:
    return np.array([v for s in SPECIES for v in TRUTH[s]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    data = make_mixture_file(args.frames)
    truth = truth_vector()
    with tempfile.TemporaryDirectory() as tmp:
        ours = []
        for _ in range(args.repeats):
            wall, peak, out = run_measured([str(LJFIT), "fit", str(data), "--cutoff", "8.5", "--shift", "--format",
                                            "json", "-q", "--device", args.device, "-o", f"{tmp}/p.json"])
            fit = json.loads(out)
            x = np.array([fit["species"][s][k] for s in SPECIES for k in ("epsilon", "sigma")])
            ours.append((wall, peak, float(np.max(np.abs(x - truth) / truth))))
        refs = []
        if not args.skip_reference:
            script = Path(tmp) / "reference.py"
            script.write_text(REFERENCE)
            for _ in range(args.repeats):
                wall, peak, out = run_measured([sys.executable, str(script), str(data), str(HERE)])
                x = np.array(json.loads(out)["x"])
                refs.append((wall, peak, float(np.max(np.abs(x - truth) / truth))))
    report(args, ours, refs)


def report(args, ours, refs) -> None:
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    print(f"data: {args.frames} frames x 216 atoms, cutoff 8.5 Å; {args.repeats} runs each, medians")
    print(f"ljfit fit      {med(ours, 0):8.2f} s   peak RSS {med(ours, 1):7.0f} MB   max rel. error {max(r[2] for r in ours):.1e}")
    if refs:
        print(f"reference      {med(refs, 0):8.2f} s   peak RSS {med(refs, 1):7.0f} MB   max rel. error {max(r[2] for r in refs):.1e}")
        ratio = med(ours, 0) / med(refs, 0)
        print(f"ratio ljfit/reference: {ratio:.3f}  (target <= 0.15: {'met' if ratio <= 0.15 else 'NOT met'})")
    print(f"peak memory target < 1500 MB: {'met' if med(ours, 1) < 1500 else 'NOT met'}")


if __name__ == "__main__":
    main()
