"""Bytes per frame that a worker sends back to the parent for a fit (pickled, as the pool and Dask do).

A task's result is (dataset, moments); ``for_fitting`` keeps what the fit reads. This prints the size
per frame of that result for a fit on energies and for a fit with forces, against the same result with
the type and species of every atom kept (what workers sent before issue 10's count tables).
"""
import argparse
import pickle

from common import CUTOFF, make_mixture_file

from fitcore.dataset import for_fitting
from fitcore.io.inputs import DataOptions
from fitcore.pipeline import Featurization, featurize_pieces
from fitcore.potential import CutoffScheme


def per_frame(result) -> float:
    return len(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)) / result[0].n_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6000)
    args = parser.parse_args()
    path = str(make_mixture_file(args.frames))
    print(f"data: {path}")
    for with_forces in (False, True):
        job = Featurization(data=DataOptions(), scheme=CutoffScheme(CUTOFF, True), with_forces=with_forces)
        result = featurize_pieces([(path, None)], job)  # coordinates kept: both variants from it
        dataset, moments = result.dataset, result.moments
        labels = per_frame((for_fitting(dataset, with_forces, keep_labels=True), moments))
        counts = per_frame((for_fitting(dataset, with_forces), moments))
        what = "fit with --forces" if with_forces else "fit on energies "
        print(f"{what}  per-atom labels {labels:8.0f} B per frame   count table {counts:8.0f} B per frame  "
              f"({counts / labels:.2f}x)")


if __name__ == "__main__":
    main()
