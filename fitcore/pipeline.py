"""Featurization in worker processes (files -> frames -> pairs -> moments): the map step of the design's map-reduce.

Inputs are cut into pieces of whole frames (small files whole, large files in byte
ranges); worker processes read their pieces and featurize them (pair moments); the
parent gathers datasets and moments in input order (so errors are reported for the
first bad place, as a serial read would). Workers are started before the parent
imports torch and scipy, so that start-up overlaps with reading. A task returns only
what its caller needs: for a fit on moments, the moments and the per-frame values
(``for_fitting``), not the coordinates. The same tasks run on a Dask cluster
(fitcore.cluster).

Worker processes (their number, lifetime and stopping) are fitcore.workers'.
"""
import os
from dataclasses import dataclass
from typing import NamedTuple

from .coulomb import CoulombOptions, check_gathered, coulomb_setup
from .dataset import Dataset, concat, for_fitting
from .io.inputs import DataOptions, assign_site_types, read_frame_keys, split_fragments
from .io.xyz import FilePart, frame_parts, read_structures
from .moments import CutoffScheme, Moments, add_moments, compute_moments, concat_moments, remap_types
from .neighbors import check_cutoff
from .workers import start_pool, stop_pool, worker_count  # noqa: F401  (worker_count: for callers)

PARALLEL_BYTES = 4_000_000  # below this much input, one process is faster than starting workers
PARALLEL_READ_BYTES = 32_000_000  # the same when only reading (much less work per byte)
SPLIT_BYTES = 8_000_000  # files above this are read in several pieces
TASKS_PER_WORKER = 4  # smaller tasks balance better at the end; each costs a little to start and gather


@dataclass(frozen=True, kw_only=True)
class Featurization:
    """What each piece is featurized to."""
    data: DataOptions
    scheme: CutoffScheme | None  # None: read only, no moments
    scope: str = "all"
    with_forces: bool = False
    all_pairs_if_isolated: bool = False
    cutoff_needed: str = "--cutoff"  # how a missing cutoff would be given, for the error message
    coordinates: bool = True  # False: datasets come back ``for_fitting`` (no positions, columns, frame info, labels)
    coulomb: CoulombOptions | None = None  # fixed-charge Coulomb term (None: none)


Piece = tuple[str, FilePart | None]


class Task(NamedTuple):
    """Consecutive pieces read and reduced by one worker."""
    pieces: list[Piece]
    share: tuple[int, int] = (0, 1)  # (k, n): the k-th of the n tasks that share one large frame


def featurize_pieces(pieces: list[Piece], job: Featurization,
                  share: tuple[int, int] = (0, 1)) -> tuple[Dataset | None, Moments | None]:
    """Read ``pieces`` (in order) and reduce them to moments: the work of one task. A ``share`` after
    the first returns its moments only (the first brings the dataset)."""
    dataset = concat([read_structures(path, job.data.read, part) for path, part in pieces])
    if job.data.fragment_split is not None:
        dataset = split_fragments(dataset, job.data.fragment_split)
    if job.data.site_types is not None:
        dataset = assign_site_types(dataset, job.data.site_types)
    dataset = read_frame_keys(dataset, job.data)
    if job.scheme is None:
        return dataset, None
    check_cutoff(dataset, job.scheme.radius, job.cutoff_needed)
    setup = coulomb_setup(dataset, job.coulomb) if job.coulomb is not None else None
    moments = compute_moments(dataset, job.scheme, job.scope, job.with_forces,
                              all_pairs_if_isolated=job.all_pairs_if_isolated, share=share, coulomb=setup)
    if share[0] > 0:
        return None, moments
    if not job.coordinates:
        # per-atom labels only where the parent reads them: the Coulomb term's charges per type
        dataset = for_fitting(dataset, job.with_forces, keep_labels=job.coulomb is not None)
    return dataset, moments


def gather(results: list[tuple[Dataset, Moments | None]], tasks: list[Task],
           job: Featurization) -> tuple[Dataset, Moments | None]:
    """The results of consecutive ``tasks`` joined into one dataset and its moments (those of the
    tasks that share a frame added up)."""
    parts: list[tuple[Dataset, Moments | None]] = []
    for (dataset, moments), task in zip(results, tasks):
        if task.share[0] > 0:
            parts[-1] = (parts[-1][0], add_moments(parts[-1][1], moments))
        else:
            parts.append((dataset, moments))
    dataset = concat([d for d, _ in parts])
    if job.scheme is not None:
        check_gathered(parts)  # charges in some inputs but not in others; net charges
    moments = None if job.scheme is None else \
        concat_moments([remap_types(m, dataset.type_names) for _, m in parts])
    return dataset, moments


def to_split(paths: list[str], n_tasks: int) -> list[str]:
    """The files that are read in several pieces."""
    return [p for p in paths if p != "-" and n_tasks > 1 and os.path.getsize(p) > SPLIT_BYTES]


def shares(job: Featurization, workers: int) -> int:
    """How many tasks share a file of one large frame: all workers, unless there are no moments to
    add up, or a Coulomb term (computed per whole frame)."""
    return workers if job.scheme is not None and job.coulomb is None else 1


def plan(paths: list[str], n_tasks: int, parts: dict[str, list[FilePart]] | None = None,
         n_shares: int = 1) -> list[Task]:
    """Pieces grouped into at most ``n_tasks`` consecutive runs of similar size; a file split in pieces
    that holds a single frame is shared by ``n_shares`` tasks (each takes some blocks of its pairs).

    ``parts``: the pieces of the files ``to_split``, where already known (else found here)."""
    parts = parts or {}
    split = set(to_split(paths, n_tasks))
    pieces: list[tuple[Piece, int]] = []
    for path in paths:
        size = os.path.getsize(path) if path != "-" else 0
        if path in split:
            file_parts = parts[path] if path in parts else frame_parts(path, n_tasks)
            pieces += [((path, part), part.end - part.start) for part in file_parts]
        else:
            pieces.append(((path, None), size))
    total = sum(size for _, size in pieces) or 1
    runs: list[list[Piece]] = [[]]
    done = 0
    for piece, size in pieces:
        single = piece[1] is not None and piece[1].frames_in_file == 1
        if runs[-1] and (single or done >= total * len(runs) / n_tasks):
            runs.append([])
        runs[-1].append(piece)
        done += size
        if single:  # alone in its task, which is shared
            runs.append([])
    tasks = []
    for run in filter(None, runs):
        shared = n_shares if run[0][1] is not None and run[0][1].frames_in_file == 1 else 1
        tasks += [Task(run, (k, shared)) for k in range(shared)]
    return tasks


class PendingFeaturization:
    """Featurization under way; ``result()`` waits for it and gathers.

    ``paths`` are files (globs expanded: ``expand_paths``). The gathered dataset is as read: the
    checks and joins that need all frames at once (``finish_dataset``: unique names, the energies
    table) are the caller's."""

    def __init__(self, paths: list[str], job: Featurization, workers: int = 1, progress=None):
        self.paths, self.job, self.progress = paths, job, progress
        size = sum(os.path.getsize(p) for p in self.paths if p != "-")
        threshold = PARALLEL_BYTES if job.scheme is not None else PARALLEL_READ_BYTES
        self.parallel = workers > 1 and size >= threshold and "-" not in self.paths
        self.futures, self.executor = [], None
        self.tasks = [Task([(p, None) for p in paths])]
        if self.parallel:
            self.executor = start_pool(workers)
            self.tasks = plan(self.paths, TASKS_PER_WORKER * workers, n_shares=shares(job, workers))
            self.futures = [self.executor.submit(featurize_pieces, task.pieces, job, task.share)
                            for task in self.tasks]

    def result(self) -> tuple[Dataset, Moments | None]:
        try:
            if not self.parallel:
                results = [featurize_pieces(self.tasks[0].pieces, self.job)]
            else:
                results, frames = [], 0
                for future, task in zip(self.futures, self.tasks):
                    results.append(future.result())
                    frames += results[-1][0].n_frames if task.share[0] == 0 else 0
                    if self.progress is not None:
                        self.progress(frames)
        finally:  # idle workers exit at once; an error or an interrupt stops the others at once
            if self.executor is not None:
                stop_pool(self.executor, self.futures)
        return gather(results, self.tasks, self.job)


def featurize(dataset: Dataset, scheme: CutoffScheme, scope: str = "all", with_forces: bool = False,
              coulomb: CoulombOptions | None = None) -> Moments:
    """Pair moments of an in-memory dataset, in this process (files -> moments: PendingFeaturization);
    with the fixed-charge Coulomb term of ``coulomb`` (None: the default, auto)."""
    from .cells import warn_thin_cells
    from .coulomb import check_charges
    warn_thin_cells(dataset.cells, dataset.pbc, scheme.radius)
    setup = check_charges(dataset, coulomb or CoulombOptions())
    return compute_moments(dataset, scheme, scope, with_forces, coulomb=setup)
