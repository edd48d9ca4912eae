"""Issue 13 targets on a real dimer set: basin-hopping and validation against a plain fit, end to end.

    python bench/bench_dimers.py [--repeats 3]

Data: the 40 S22x5 dispersion-bound dimer energies (CCSD(T)/CBS, H/C/N/O, inter-fragment
pairs) shipped in tests/data/s22x5/. Times, as a user runs them (``ljfit fit`` in a fresh
process, medians of --repeats):

    plain          ljfit fit S22 --interactions inter-fragment
    basin-hopping  ... --method basinhopping --niter 200 --seed 0        target <= 3x plain
    validation     ... --cv 5 --cv-group dimer --bootstrap 200 --seed 0  target <= 4x plain
    bootstrap 2000 ... --bootstrap 2000 --seed 0

the last two also with --threads 1 (refits in the ljfit process only; the default lets
fitcore/refits.py fork a worker per CPU when its break-even rule says they pay); and, in this
process, the cost of a hop (local-fit evaluations per hop, the time of one residual and one
Jacobian evaluation of the compressed problem) and of the refits: one refit, starting forked
workers, and N refits serially, in workers, and as the rule chooses.
"""
import argparse
import os
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
    "validation serial": ["--cv", "5", "--cv-group", "dimer", "--bootstrap", "200", "--seed", "0", "--threads", "1"],
    "bootstrap 2000": ["--bootstrap", "2000", "--seed", "0"],
    "bootstrap 2000 serial": ["--bootstrap", "2000", "--seed", "0", "--threads", "1"],
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


def refit_cost() -> str:
    """One refit, the start-up of forked workers, and N refits: serial, in workers, as refits.py chooses."""
    import numpy as np

    from fitcore.fit import Start
    from fitcore.fitting import fit_dataset, targets_for
    from fitcore.io.inputs import load_dataset
    from fitcore.moments import compute_moments
    from fitcore.problem import Weighting
    from fitcore.refits import POOL_START_SECONDS, RefitPlan, run_refits
    from fitcore.spec import FitOptions, FitSpec, ModelOptions
    from fitcore.validation import frame_rows
    from fitcore.workers import worker_count
    data = load_dataset([str(DATA)])
    model = ModelOptions(scope="inter-fragment")
    moments = compute_moments(data, model.scheme, model.scope)
    result = fit_dataset(data, moments, model, FitSpec(), FitOptions(seed=0))
    layout, theta, n = result.params.layout, result.params.values, len(result.params.values)
    start = Start(theta, np.asarray(result.free), np.zeros(n), np.full(n, np.inf), ("data",) * n)
    rows = frame_rows(moments, targets_for(data, layout, False, moments), Weighting(), layout, start, theta)
    workers = worker_count()

    def timed(jobs, w, **rule):
        t0 = time.perf_counter()
        out = run_refits(rows, RefitPlan(n_frames=data.n_frames, n_bootstrap=jobs, seed=0), w, **rule)
        return time.perf_counter() - t0, out
    one = statistics.median(timed(1, 1)[0] for _ in range(20))
    start_up = statistics.median(timed(w, w, probe_seconds=0, pool_start_seconds=0)[0] - one
                                 for w in [workers] * 5) if workers > 1 else float("nan")
    lines = [f"refits in process ({workers} usable CPUs): one refit {1e3 * one:.1f} ms; {workers} forked workers "
             f"up and one refit each: {1e3 * start_up:.0f} ms beyond one refit "
             f"(rule: {1e3 * POOL_START_SECONDS:.0f} ms per worker)"]
    for jobs in (20, 200, 2000):
        cpu = _cpu_seconds()
        serial, a = timed(jobs, 1)
        serial_cpu, cpu = _cpu_seconds()[0] - cpu[0], _cpu_seconds()
        forced, b = timed(jobs, workers, probe_seconds=0, pool_start_seconds=0)
        worker_cpu = _cpu_seconds()[1] - cpu[1]
        auto, c = timed(jobs, workers)
        same = np.array_equal(a.theta, b.theta) and np.array_equal(a.theta, c.theta)
        lines.append(f"  {jobs:5d} refits: serial {serial:6.3f} s (CPU {serial_cpu:6.3f} s), {workers} workers "
                     f"{forced:6.3f} s ({serial / forced:.2f}x; CPU of the workers {worker_cpu:6.3f} s in all), "
                     f"rule {auto:6.3f} s ({c.processes} process(es)); identical results: {same}")
    return "\n".join(lines)


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its children that have ended."""
    import resource
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--refits-only", action="store_true", help="only the in-process refit figures")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # in this process, as in ljfit's (cli/runtime.py)
    if args.refits_only:
        print(refit_cost())
        return
    times = {name: [] for name in RUNS}
    for _ in range(args.repeats):  # interleaved: load on the machine hits every kind alike
        for name, extra in RUNS.items():
            times[name].append(wall(extra))
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"data: {DATA.relative_to(ROOT)} (40 dimers, H/C/N/O, 8 free parameters); medians of {args.repeats} runs")
    for name, target in (("plain", None), ("basin-hopping", 3.0), ("validation", 4.0), ("validation serial", None),
                         ("bootstrap 2000", None), ("bootstrap 2000 serial", None)):
        ratio = median[name] / median["plain"]
        verdict = "" if target is None else f"  ratio {ratio:.2f} (target <= {target:g}: {'met' if ratio <= target else 'NOT met'})"
        print(f"{name:22s} {median[name]:6.2f} s{verdict or f'  ratio {ratio:.2f}'}")
    print(hop_cost())
    print(refit_cost())


if __name__ == "__main__":
    main()
