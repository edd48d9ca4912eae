"""How cost grows: fit time against frames (10^2..10^5) and atoms per frame (10^2..10^4).

    python bench/bench_scaling.py [--quick]

For each dataset (perturbed cubic lattices of an Ar/Kr/Xe mixture, cutoff 8.5 Å,
energies from known parameters by the reference numpy code), `ljfit fit` runs as a
whole process (wall time, peak RSS of its process tree), and the library is timed
in-process phase by phase: read + reduce (pipeline), and one least-squares
evaluation (residuals + Jacobian) afterwards. Prints a table and writes
bench/results/scaling.png (log-log) and bench/results/scaling.json.
Expected: reduction time linear in the number of pairs; per-evaluation cost flat.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_fit import run_measured
from common import DATA, SPECIES, TRUTH, ReferencePairs, lattice_frames

HERE = Path(__file__).parent
LJFIT = Path(sys.executable).parent / "ljfit"
FRAME_SERIES = [(100, 4), (1000, 4), (10_000, 4), (100_000, 4)]  # (frames, lattice cells per side: 64 atoms)
ATOM_SERIES = [(100, 5), (100, 10), (30, 22)]  # 125, 1000, 10648 atoms per frame


def write_extxyz(path: Path, frames, energies) -> None:
    """ASE-style extended XYZ, written quickly (the format of ase.io.write, aligned columns)."""
    with open(path, "w") as out:
        for k, (atoms, energy) in enumerate(zip(frames, energies)):
            cell = " ".join(f"{v:.10f}" for v in atoms.cell.array.ravel())
            out.write(f"{len(atoms)}\nLattice=\"{cell}\" Properties=species:S:1:pos:R:3 name=f{k} "
                      f"energy={float(energy)!r} pbc=\"T T T\"\n")
            symbols = atoms.get_chemical_symbols()
            out.write("".join(f"{s:<2} {x:16.8f} {y:16.8f} {z:16.8f}\n" for s, (x, y, z) in zip(symbols, atoms.positions)))


def dataset(n_frames: int, n_cells: int) -> tuple[Path, int]:
    path = DATA / f"scaling_{n_frames}x{n_cells ** 3}.extxyz"
    pairs_file = path.with_suffix(".pairs")
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        truth = np.array([v for s in SPECIES for v in TRUTH[s]])
        frames, energies, pairs = [], [], 0
        for start in range(0, n_frames, 5000):  # in blocks: bounded memory
            block = lattice_frames(min(5000, n_frames - start), n_cells, seed=start)
            reference = ReferencePairs(block)
            energies.append(reference.energies(truth))
            pairs += len(reference.dist)
            frames += block
        tmp = path.with_suffix(".tmp")
        write_extxyz(tmp, frames, np.concatenate(energies))
        tmp.rename(path)
        pairs_file.write_text(str(pairs))
    return path, int(pairs_file.read_text())


def phase_times(path: Path) -> dict:
    """Phase by phase, in a fresh process (so that workers are forked before torch is imported, as in ljfit)."""
    import subprocess
    out = subprocess.run([sys.executable, __file__, "--phases", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def measure_phases(path: Path) -> dict:
    from cli.runtime import keep_heap_margin
    from fitcore.io.inputs import DataOptions
    from fitcore.moments import CutoffScheme
    from fitcore.pipeline import PendingFeaturization, Featurization, worker_count
    sys.modules["torch"] = None  # import vesin without torch (as the workers do), outside the timing
    import vesin  # noqa: F401
    del sys.modules["torch"]
    keep_heap_margin()  # as ljfit's commands run
    start = time.perf_counter()
    data, moments = PendingFeaturization([str(path)], Featurization(data=DataOptions(), scheme=CutoffScheme(8.5, True)),
                                     worker_count()).result()
    reduce_s = time.perf_counter() - start
    from fitcore.fit import FitOptions
    from fitcore.fitting import fit_dataset
    from fitcore.spec import FitSpec, ModelOptions
    model = ModelOptions(cutoff=8.5, shift=True)
    start = time.perf_counter()
    result = fit_dataset(data, moments, model, FitSpec(), FitOptions())
    fit_s = time.perf_counter() - start
    from fitcore.linear import linear_system  # one evaluation = residuals + Jacobian of the fit's problem
    from fitcore.problem import Problem, Weighting
    from fitcore.engine import make_engine
    from fitcore.fitting import targets_for
    layout = result.params.layout
    targets = targets_for(data, layout, False)
    problem = Problem(layout=layout, engine=make_engine(data, moments, model, layout.type_names), targets=targets,
                      weighting=Weighting(), theta0=result.params.values, free=np.ones(len(layout.names), bool),
                      system=linear_system(moments, targets, Weighting()))
    x = result.params.values
    evals = []
    for _ in range(20):
        t = time.perf_counter()
        problem.residuals(x)
        problem.jacobian(x)
        evals.append(time.perf_counter() - t)
    return {"reduce_s": reduce_s, "fit_s": fit_s, "eval_ms": 1e3 * statistics.median(evals), "nfev": result.optimizer.nfev}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest case of each series")
    parser.add_argument("--phases", help=argparse.SUPPRESS)  # internal: time the phases of one file
    args = parser.parse_args()
    if args.phases:
        print(json.dumps(measure_phases(Path(args.phases))))
        return
    rows = []
    for series, cases in (("frames", FRAME_SERIES), ("atoms", ATOM_SERIES)):
        for n_frames, n_cells in (cases[:-1] if args.quick else cases):
            path, pairs = dataset(n_frames, n_cells)
            wall, peak, _ = run_measured([str(LJFIT), "fit", str(path), "--cutoff", "8.5", "--shift", "-q",
                                          "--format", "json"])
            row = {"series": series, "frames": n_frames, "atoms_per_frame": n_cells ** 3, "pairs": pairs,
                   "input_MB": path.stat().st_size / 1e6, "cli_s": wall, "peak_MB": peak, **phase_times(path)}
            rows.append(row)
            print(f"{series:7} {n_frames:>7} frames x {n_cells ** 3:>6} atoms  {pairs:>11,} pairs  "
                  f"ljfit fit {wall:7.2f} s  peak {peak:6.0f} MB | reduce {row['reduce_s']:7.2f} s  "
                  f"fit {row['fit_s']:6.3f} s  one evaluation {row['eval_ms']:6.2f} ms", flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "scaling.json").write_text(json.dumps(rows, indent=1))
    plot(rows, HERE / "results" / "scaling.png")


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5))
    for series, marker in (("frames", "o"), ("atoms", "s")):
        sel = [r for r in rows if r["series"] == series]
        pairs = [r["pairs"] for r in sel]
        label = "more frames (64 atoms each)" if series == "frames" else "more atoms per frame"
        ax.loglog(pairs, [r["cli_s"] for r in sel], marker + "-", label=f"ljfit fit, whole run: {label}")
        ax.loglog(pairs, [r["reduce_s"] for r in sel], marker + "--", label=f"read + reduce: {label}")
        ax.loglog(pairs, [r["eval_ms"] / 1e3 for r in sel], marker + ":", label=f"one evaluation: {label}")
    p = np.array(sorted(r["pairs"] for r in rows), float)
    ref = max(r["reduce_s"] for r in rows) * p / p.max()
    ax.loglog(p, ref, "k-", lw=0.8, alpha=0.5, label="linear in pairs")
    ax.set_xlabel("pairs within the cutoff")
    ax.set_ylabel("seconds")
    ax.legend(fontsize=7)
    ax.set_title("ljfit: cost against data size (2 cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
