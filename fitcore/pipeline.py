"""Featurization in worker processes (files -> frames -> pairs -> moments): the map step of the design's map-reduce.

Inputs are cut into pieces: small files whole, large files in byte ranges cut by size alone
(no reading: each worker finds the first frame of its range itself, io/pieces.py, so every
byte is read once); worker processes read their pieces and featurize them (pair moments);
the parent gathers datasets and moments in input order (so errors are reported for the
first bad place, as a serial read would), checking that each piece of a file began where
the one before it ended and reading it again where not (``settle``): the result is always
that of a serial read. Workers are started before the parent
imports torch and scipy, so that start-up overlaps with reading. A task returns only
what its caller needs: for a fit on moments, the moments and the per-frame values
(``for_fitting``), not the coordinates. The same tasks run on a Dask cluster
(fitcore.cluster).

Worker processes (their number, lifetime and stopping) are fitcore.workers'.
"""
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

from .coulomb import CoulombOptions, check_gathered, coulomb_setup
from .dataset import Dataset, concat, for_fitting
from .io.inputs import DataOptions, assign_site_types, read_frame_keys, split_fragments
from .io.assembly import default_name
from .io.pieces import FilePart, PartSpan, PartWindow, byte_ranges, split_mode
from .errors import LjfitError
from .io.xyz import ReadOptions, check_rest, read_structures, read_window
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


Piece = tuple[str, FilePart | None]  # a whole file (None), or a byte range of a large one


class Task(NamedTuple):
    """Consecutive whole files, or one piece of a large file, read and reduced by one worker."""
    pieces: list[Piece]
    share: tuple[int, int] = (0, 1)  # (k, n): the k-th of the n tasks that share one large frame


class TaskResult(NamedTuple):
    """What a task sends back."""
    dataset: Dataset | None  # None: a share after the first, a piece where no frame starts, a failed synced piece
    moments: Moments | None
    span: PartSpan | None = None  # a piece of a large file: where its frames lie
    failed: bool = False  # a synced piece raised: the parent reads it again from its true start
    warnings: tuple = ()  # (category, message) of the warnings raised while reading: gather raises them here


def featurize_pieces(pieces: list[Piece], job: Featurization, share: tuple[int, int] = (0, 1)) -> TaskResult:
    """Read ``pieces`` (in order) and reduce them to moments: the work of one task. A ``share`` after
    the first returns its moments only (the first brings the dataset).

    A synced piece (one that found its own first frame, see io/pieces.py) that raises is reported as
    ``failed`` instead: it may have started at a false frame start, and if not, its line and frame
    numbers are its own; the parent, which knows the true start, reads it again.

    Warnings travel back with the result (a worker's own would go to its stderr, or nowhere)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _featurize_task(pieces, job, share)
    return result._replace(warnings=tuple((w.category, str(w.message)) for w in caught))


def _featurize_task(pieces: list[Piece], job: Featurization, share: tuple[int, int]) -> TaskResult:
    path, part = pieces[0]
    if part is None:
        return TaskResult(*_featurize(concat([read_structures(p, job.data.read) for p, _ in pieces]), job, share))
    window = PartWindow(path, part)
    try:
        dataset, span = read_window(window, path, job.data.read)
        return TaskResult(*(_featurize(dataset, job, share) if dataset is not None else (None, None)), span)
    except Exception:  # any error at all: a false start can make data of any kind
        if part.synced:
            return TaskResult(None, None, failed=True)
        raise
    finally:
        window.close()


def _featurize(dataset: Dataset, job: Featurization, share: tuple[int, int]) -> tuple[Dataset | None, Moments | None]:
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


def settle(futures: list, tasks: list[Task], rerun: Callable[[Task], TaskResult], options: ReadOptions,
           progress=None) -> list[TaskResult]:
    """The results of ``tasks`` (``futures``, waited for in order: the first bad place raises first),
    each piece of a large file checked to begin where the piece before it ended, and read again by
    ``rerun`` from there where it does not (or where it failed); synced pieces numbered in their file."""
    settled, chain, frames = [], {}, 0
    for future, task in zip(futures, tasks):
        path, part = task.pieces[0]
        result = future.result() if part is None else _linked(future, path, part, chain, rerun, options)
        settled.append(result)
        if result.dataset is not None and task.share[0] == 0:
            frames += result.dataset.n_frames
            if progress is not None:
                progress(frames)
    return settled


def _linked(future, path: str, part: FilePart, chain: dict, rerun, options: ReadOptions) -> TaskResult:
    """The result of ``part`` (``future``), right by ``chain[path]`` = (where the last piece ended, its
    next line and frame number, whether only blank space followed), which this updates."""
    start, line, frame, at_end, previous = chain.get(path, (0, 1, 0, False, None))
    if at_end or start >= part.end:  # the piece before ran on past this whole range: no frame starts here
        return TaskResult(None, None, PartSpan(start=None, end=start, lines=0, frames=0, at_end=at_end))
    shift = 0  # lines before the piece's own numbering
    try:
        result = future.result()
        if result.failed or result.span.start != start:  # the sync was fooled (or the piece has an error)
            exact = FilePart(start=start, end=part.end, first_line=line, first_frame=frame, previous=previous)
            result = rerun(Task([(path, exact)]))
        elif part.synced:  # numbered from its own start
            shift = line - 1
            result = result._replace(dataset=_numbered(result.dataset, path, shift, frame, result.span.unnamed))
    except LjfitError:
        check_rest(path, options, start, line, previous)  # such an error further on: a whole-file read's first
        raise
    span = result.span
    last = (span.last[0] + shift, span.last[1]) if span.frames else previous
    chain[path] = (span.end, line + span.lines, frame + span.frames, span.at_end, last)
    return result


def _numbered(dataset: Dataset | None, path: str, shift: int, frame: int, unnamed: tuple[int, ...]) -> Dataset | None:
    """A synced piece's frames renumbered: ``shift`` lines and ``frame`` frames before its start."""
    if dataset is None:
        return None
    names = list(dataset.names)
    for k in unnamed:
        names[k] = default_name(path, frame + k, single=False)  # a synced piece is never the file's only frame
    return replace(dataset, names=tuple(names), first_atom_line=dataset.first_atom_line + shift)


def gather(results: list[TaskResult], tasks: list[Task], job: Featurization) -> tuple[Dataset, Moments | None]:
    """The settled results of consecutive ``tasks`` joined into one dataset and its moments (those of
    the tasks that share a frame added up); the tasks' warnings raised here, each once."""
    for category, message in dict.fromkeys(w for result in results for w in result.warnings):
        warnings.warn(category(message), stacklevel=2)
    parts: list[tuple[Dataset, Moments | None]] = []
    for result, task in zip(results, tasks):
        if task.share[0] > 0:
            parts[-1] = (parts[-1][0], add_moments(parts[-1][1], result.moments))
        elif result.dataset is not None:
            parts.append((result.dataset, result.moments))
    dataset = concat([d for d, _ in parts])
    if job.scheme is not None:
        check_gathered(parts)  # charges in some inputs but not in others; net charges
    moments = None if job.scheme is None else \
        concat_moments([remap_types(m, dataset.type_names) for _, m in parts])
    return dataset, moments


def to_split(paths: list[str], n_tasks: int) -> list[str]:
    """The files that are read by several tasks (``split_mode`` says how)."""
    return [p for p in paths if p != "-" and n_tasks > 1 and os.path.getsize(p) > SPLIT_BYTES]


def shares(job: Featurization, workers: int) -> int:
    """How many tasks share a file of one large frame: all workers, unless there are no moments to
    add up, or a Coulomb term (computed per whole frame)."""
    return workers if job.scheme is not None and job.coulomb is None else 1


def plan(paths: list[str], n_tasks: int, modes: dict[str, str] | None = None, n_shares: int = 1) -> list[Task]:
    """About ``n_tasks`` tasks of similar size: runs of consecutive whole files; each byte range of a
    large file (cut by size alone) a task of its own; a large file of one frame (or nearly) shared by
    ``n_shares`` tasks, each taking some blocks of its pairs.

    ``modes``: ``split_mode`` of the files ``to_split``, where already known (else found here)."""
    modes = modes or {}
    sizes = [os.path.getsize(p) if p != "-" else 0 for p in paths]
    total = sum(sizes) or 1
    split = set(to_split(paths, n_tasks))
    tasks: list[Task] = []
    run: list[Piece] = []
    done = 0
    for path, size in zip(paths, sizes):
        mode = (modes[path] if path in modes else split_mode(path)) if path in split else "whole"
        if run and (mode != "whole" or done >= total * (len(tasks) + 1) / n_tasks):
            tasks.append(Task(run))
            run = []
        if mode == "whole":
            run.append((path, None))
        elif mode == "shared":
            tasks += [Task([(path, None)], (k, n_shares)) for k in range(n_shares)]
        else:
            n_parts = min(n_tasks, max(2, round(n_tasks * size / total)))
            tasks += [Task([(path, FilePart(start=a, end=b, first_line=1 if a == 0 else None))])
                      for a, b in byte_ranges(size, n_parts)]
        done += size
    return tasks + ([Task(run)] if run else [])


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
                results = settle(list(self.futures), self.tasks, self._rerun, self.job.data.read, self.progress)
        finally:  # idle workers exit at once; an error or an interrupt stops the others at once
            if self.executor is not None:
                stop_pool(self.executor, self.futures)
        return gather(results, self.tasks, self.job)

    def _rerun(self, task: Task) -> TaskResult:
        self.futures.append(self.executor.submit(featurize_pieces, task.pieces, self.job, task.share))
        return self.futures[-1].result()


def featurize(dataset: Dataset, scheme: CutoffScheme, scope: str = "all", with_forces: bool = False,
              coulomb: CoulombOptions | None = None) -> Moments:
    """Pair moments of an in-memory dataset, in this process (files -> moments: PendingFeaturization);
    with the fixed-charge Coulomb term of ``coulomb`` (None: the default, auto)."""
    from .cells import warn_thin_cells
    from .coulomb import check_charges
    warn_thin_cells(dataset.cells, dataset.pbc, scheme.radius)
    setup = check_charges(dataset, coulomb or CoulombOptions())
    return compute_moments(dataset, scheme, scope, with_forces, coulomb=setup)
