"""Issue 13 targets on a real dimer set: basin-hopping and validation against a plain fit, end to end.

    python bench/bench_dimers.py [--repeats 3]

Data: the 40 S22x5 dispersion-bound dimer energies (CCSD(T)/CBS, H/C/N/O, inter-fragment
pairs) shipped in tests/data/s22x5/. Times, as a user runs them (``ljfit fit`` in a fresh
process, medians of --repeats):

    plain          ljfit fit S22 --interactions inter-fragment
    basin-hopping  ... --method basinhopping --niter 200 --seed 0        target <= 3x plain
    validation     ... --cv 5 --cv-group dimer --bootstrap 200 --seed 0  target <= 4x plain

and, in this process, the cost of a hop: local-fit evaluations per hop and the time of one
residual and one Jacobian evaluation of the compressed problem.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "s22x5" / "s22x5_dispersion.extxyz"
LJFIT = [sys.executable, "-c", "from cli.main import entry; entry()"]
BASE = ["fit", str(DATA), "--interactions", "inter-fragment", "--format", "csv", "-q"]
RUNS = {
    "plain": [],
    "basin-hopping": ["--method", "basinhopping", "--niter", "200", "--seed", "0"],
    "validation": ["--cv", "5", "--cv-group", "dimer", "--bootstrap", "200", "--seed", "0"],
}


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(LJFIT + BASE + args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def hop_cost() -> str:
    import numpy as np

    import fitcore.fit as fit
    from fitcore.fitting import fit_dataset
    from fitcore.io.inputs import load_dataset
    from fitcore.moments import compute_moments
    from fitcore.problem import Problem
    from fitcore.spec import FitOptions, FitSpec, ModelOptions
    data = load_dataset([str(DATA)])
    model = ModelOptions(scope="inter-fragment")
    moments = compute_moments(data, model.scheme, model.scope)
    hops = 200
    start = time.perf_counter()
    result = fit_dataset(data, moments, model, FitSpec(), FitOptions(method="basinhopping", niter=hops, seed=0))
    seconds = time.perf_counter() - start
    opt = result.optimizer
    captured = {}
    original = fit.run_fit

    def capture(problem, *args, **kwargs):
        captured["problem"] = problem
        return original(problem, *args, **kwargs)
    fit_module_run = fit.run_fit
    import fitcore.fitting as fitting
    fitting.run_fit = capture
    fit_dataset(data, moments, model, FitSpec(), FitOptions())
    fitting.run_fit = fit_module_run
    problem: Problem = captured["problem"]
    x = problem.theta0_np[problem.free] * 1.01
    n = 2000
    t0 = time.perf_counter()
    for k in range(n):
        problem.residuals(x * (1 + 1e-9 * k))  # a new x each time: no cached coefficients
    t_res = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for k in range(n):
        problem._last = None
        problem.jacobian(x)
    t_jac = (time.perf_counter() - t0) / n
    per_hop = opt.nfev / (hops + 2)
    return (f"in process: {hops} hops in {seconds:.2f} s ({1e3 * seconds / hops:.1f} ms per hop), "
            f"{per_hop:.0f} evaluations per hop ({opt.nfev} residual, {opt.njev} Jacobian evaluations in all), "
            f"one residual evaluation {1e6 * t_res:.0f} us, one Jacobian {1e6 * t_jac:.0f} us "
            f"(k = {problem.system.matrix.shape[0]}), {len(opt.minima)} distinct minima, best cost {opt.cost:.6g}; "
            f"numpy {np.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times = {name: [] for name in RUNS}
    for _ in range(args.repeats):  # interleaved: load on the machine hits every kind alike
        for name, extra in RUNS.items():
            times[name].append(wall(extra))
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"data: {DATA.relative_to(ROOT)} (40 dimers, H/C/N/O, 8 free parameters); medians of {args.repeats} runs")
    for name, target in (("plain", None), ("basin-hopping", 3.0), ("validation", 4.0)):
        ratio = median[name] / median["plain"]
        verdict = "" if target is None else f"  ratio {ratio:.2f} (target <= {target:g}: {'met' if ratio <= target else 'NOT met'})"
        print(f"{name:14s} {median[name]:6.2f} s{verdict}")
    print(hop_cost())


if __name__ == "__main__":
    main()
