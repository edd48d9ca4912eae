"""--cv and --bootstrap with --forces: the cost of the per-frame force blocks and of the refits, in process.

    python bench/bench_validation_forces.py [--copies 50]

Data: tests/data/oracle_cubic.extxyz (40 periodic frames of 64 atoms, LAMMPS energies and forces)
repeated --copies times (2000 frames, 128,000 atoms, 384,000 force components by default). Times:
the moments with forces, a plain fit with forces, the same with ``--cv 5 --bootstrap 200`` (refits in
this process, then as fitcore/refits.py chooses with a worker per usable CPU), and the compression of
the force rows frame by frame (validation.force_blocks) alone.
"""
import argparse
import os
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "oracle_cubic.extxyz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in ljfit's process (cli/runtime.py)
    from fitcore.dataset import concat
    from fitcore.fitting import fit_dataset, targets_for
    from fitcore.io.inputs import load_dataset
    from fitcore.moments import compute_moments
    from fitcore.problem import Weighting
    from fitcore.spec import FitOptions, FitSpec, ModelOptions
    from fitcore.validation import ValidationOptions, force_blocks
    from fitcore.workers import worker_count
    data = concat([load_dataset([str(DATA)])] * args.copies)
    model, spec = ModelOptions(cutoff=8.5, shift=True), FitSpec(forces=True)
    t0 = time.perf_counter()
    moments = compute_moments(data, model.scheme, with_forces=True)
    print(f"{data.n_frames} frames, {data.n_atoms} atoms with forces; moments {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    result = fit_dataset(data, moments, model, spec, FitOptions(seed=0))
    plain = time.perf_counter() - t0
    print(f"fit with forces                       {plain:6.2f} s")
    for workers in (1, worker_count()):
        t0 = time.perf_counter()
        validated = fit_dataset(data, moments, model, spec, FitOptions(seed=0),
                                validation=ValidationOptions(cv=5, bootstrap=200, seed=0, workers=workers))
        seconds = time.perf_counter() - t0
        v = validated.validation
        print(f"... --cv 5 --bootstrap 200, {workers} worker(s) {seconds:6.2f} s ({seconds / plain:.1f}x; refits in "
              f"{v.processes} process(es)); held-out force RMSE {v.cv_force_rmse:.2g} eV/Å")
    targets = targets_for(data, result.params.layout, True, moments)
    t0 = time.perf_counter()
    blocks = force_blocks(moments, targets, Weighting(forces=True))
    print(f"force blocks alone                    {time.perf_counter() - t0:6.2f} s "
          f"({blocks.matrix.shape[0]} rows of {blocks.matrix.shape[1]} for {int(blocks.count.sum())} force components)")


if __name__ == "__main__":
    main()
