"""Target 3: `--method basinhopping --niter 200` on the target-1 data, once the moments are computed.

    python bench/bench_basinhopping.py [--frames 6000] [--niter 200] [--repeats 3]

Times fitcore.fitting.fit_dataset with basin-hopping (seed 0) after the moments are
in memory, as `ljfit fit --method basinhopping` runs it; prints the median, the time
per hop and the distinct minima found. Reference point in the same run: one plain
least_squares fit on the same moments.
"""
import argparse
import statistics
import time

import numpy as np
from common import SPECIES, TRUTH, make_mixture_file

from fitcore.fit import FitOptions
from fitcore.io.inputs import DataOptions
from fitcore.pipeline import PendingFeaturization, Featurization, worker_count
from fitcore.fitting import fit_dataset
from fitcore.spec import FitSpec, ModelOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6000)
    parser.add_argument("--niter", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    path = make_mixture_file(args.frames)
    model = ModelOptions(cutoff=8.5, shift=True, device=args.device)
    dataset, moments = PendingFeaturization([str(path)], Featurization(data=DataOptions(), scheme=model.scheme), worker_count()).result()
    truth = np.array([v for s in SPECIES for v in TRUTH[s]])
    start = time.perf_counter()
    plain = fit_dataset(dataset, moments, model, FitSpec(), FitOptions())
    t_plain = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = fit_dataset(dataset, moments, model, FitSpec(), FitOptions(method="basinhopping", niter=args.niter,
                                                                             seed=0))
        times.append(time.perf_counter() - start)
    error = np.max(np.abs(result.params.values - truth) / truth)
    t = statistics.median(times)
    print(f"data: {dataset.n_frames} frames, {moments.pair_count.sum()} pairs (moments computed beforehand)")
    print(f"least_squares once:          {t_plain:.3f} s (nfev {plain.optimizer.nfev})")
    print(f"basin-hopping, {args.niter} hops: {t:.3f} s median of {args.repeats} ({1e3 * t / args.niter:.1f} ms per hop), "
          f"{len(result.optimizer.minima)} distinct minima, max rel. error {error:.1e}")
    print(f"target < 5 s: {'met' if t < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
