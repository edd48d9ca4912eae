"""Large frames searched block by block: the same pairs and moments as the whole frame at once,
and peak memory bounded by a block, not by the frame."""
import json
import subprocess
import sys

import numpy as np
import pytest
from synth import random_cell

from fitcore.dataset import Dataset
from fitcore.moments import CutoffScheme, compute_moments
from fitcore.neighbors import block_grid, block_pairs, frame_pairs


def lattice_frame(rng, n_side: int, spacing: float, cell: np.ndarray | None = None, pbc=(True, True, True)):
    """n_side^3 jittered lattice points in ``cell`` (default: the cube n_side * spacing), random Ar/Kr types."""
    grid = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    cell = np.eye(3) * n_side * spacing if cell is None else cell
    fractional = (grid + 0.5 + rng.uniform(-0.3, 0.3, grid.shape)) / n_side
    positions = fractional @ cell + rng.integers(-1, 2, grid.shape) @ cell  # some atoms outside the cell
    n = len(positions)
    types = rng.integers(0, 2, n).astype(np.int32)
    return Dataset(positions=positions, type_index=types, type_names=("Ar", "Kr"), species_index=types,
                   species_names=("Ar", "Kr"), frame_offsets=np.array([0, n]), cells=cell[None],
                   pbc=np.array([pbc]), energies=np.zeros(1), weights=np.ones(1), forces=None, fragments=None,
                   names=("big",), sources=("memory",), first_atom_line=np.zeros(1, np.int64))


def canonical(i, j, shift, distance) -> tuple[np.ndarray, np.ndarray]:
    """Rows (i, j, shift) with each unordered pair written one way, sorted; their distances alongside."""
    leading = shift[np.arange(len(shift)), np.argmax(shift != 0, axis=1)]  # first non-zero component, or 0
    flip = (i > j) | ((i == j) & (leading < 0))
    i, j, shift = np.where(flip, j, i), np.where(flip, i, j), np.where(flip[:, None], -shift, shift)
    rows = np.column_stack([i, j, shift])
    order = np.lexsort(rows.T[::-1])
    return rows[order], distance[order]


CASES = {
    "cubic": (np.eye(3) * 36.0, (True, True, True)),
    "triclinic": (np.array([[36.0, 0, 0], [9.0, 34.0, 0], [-6.0, 5.0, 33.0]]), (True, True, True)),
    "slab": (np.eye(3) * [40.0, 38.0, 30.0], (True, True, False)),
    "one periodic direction not split": (np.eye(3) * [40.0, 38.0, 20.0], (True, True, True)),
}


@pytest.mark.parametrize("case", CASES)
def test_blocks_give_every_pair_once(rng, case):
    cell, pbc = CASES[case]
    frame = lattice_frame(rng, 11, 3.3, cell, pbc)
    pbc, cutoff = np.array(pbc), 8.0
    grid = block_grid(frame.n_atoms, cell, pbc, cutoff, max_atoms=400)
    assert np.prod(grid) > 1
    whole = frame_pairs(frame.positions, cell, pbc, cutoff)
    parts = list(block_pairs(frame.positions, cell, pbc, cutoff, grid, list(np.ndindex(*grid))))
    i, j, d, shift, vector = (np.concatenate([p[k] for p in parts]) for k in range(5))
    expected = canonical(whole[0].astype(np.int64), whole[1].astype(np.int64), whole[3], whole[2])
    found = canonical(i, j, shift, d)
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_allclose(found[1], expected[1], rtol=1e-12)
    np.testing.assert_allclose(vector, frame.positions[j] + shift @ cell - frame.positions[i], atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(vector, axis=1), d, rtol=1e-12)


def test_block_grid_splits_only_what_it_may(rng):
    cell, pbc = np.eye(3) * [100.0, 100.0, 30.0], np.array([True, True, True])
    assert block_grid(10_000, cell, pbc, 10.0, max_atoms=20_000) == (1, 1, 1)  # small enough as it is
    grid = block_grid(1_000_000, cell, pbc, 10.0, max_atoms=20_000)
    assert grid[2] == 1 and grid[0] > 1 and grid[1] > 1  # 30 Å < 4 cutoffs: not split
    assert 100.0 / max(grid[:2]) >= 10.0  # blocks at least one cutoff wide
    assert block_grid(1_000_000, cell, np.array([False, False, False]), 10.0) == (1, 1, 1)
    assert block_grid(1_000_000, cell, pbc, None) == (1, 1, 1)
    thin = np.eye(3) * [100.0, 100.0, 19.0]  # an atom could pair with its own image: searched whole
    assert block_grid(1_000_000, thin, pbc, 10.0, max_atoms=20_000) == (1, 1, 1)


@pytest.mark.parametrize("with_forces", [False, True])
def test_moments_of_a_frame_in_blocks_equal_the_whole_frame(rng, with_forces):
    frame = lattice_frame(rng, 12, 3.4, np.array([[40.8, 0, 0], [6.0, 40.0, 0], [0, -4.0, 41.0]]))
    scheme = CutoffScheme(9.0, True)
    whole = compute_moments(frame, scheme, with_forces=with_forces, max_atoms=10 ** 9)
    blocked = compute_moments(frame, scheme, with_forces=with_forces, max_atoms=300)
    np.testing.assert_allclose(blocked.energy12, whole.energy12, rtol=1e-12)
    np.testing.assert_allclose(blocked.energy6, whole.energy6, rtol=1e-12)
    np.testing.assert_array_equal(blocked.pair_count, whole.pair_count)
    np.testing.assert_allclose(blocked.min_distance, whole.min_distance, rtol=1e-13)
    if with_forces:
        scale = np.abs(whole.force12).max()
        np.testing.assert_allclose(blocked.force12, whole.force12, rtol=1e-10, atol=1e-12 * scale)
        np.testing.assert_allclose(blocked.force6, whole.force6, rtol=1e-10, atol=1e-12 * np.abs(whole.force6).max())


PEAK = """
import json, resource, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_blocks import lattice_frame
from fitcore.moments import CutoffScheme, compute_moments
frame = lattice_frame(np.random.default_rng(1), {n_side}, 3.6)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
moments = compute_moments(frame, CutoffScheme(10.0), max_atoms={max_atoms})
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"pairs": int(moments.pair_count.sum()), "peak_mb": (after - before) / 1024}}))
"""


def peak(n_side: int, max_atoms: int) -> dict:
    """Pairs and the growth of peak RSS (MB) while one frame of n_side^3 atoms is reduced, in a fresh process."""
    from pathlib import Path
    code = PEAK.format(tests=str(Path(__file__).parent), n_side=n_side, max_atoms=max_atoms)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout)


def test_a_large_frame_stays_under_a_memory_bound():
    """97,336 atoms at 10 Å (4.3 million pairs): whole, the reduction's peak grows with the frame; in blocks
    it stays under a bound set by the block size."""
    blocked = peak(46, 20_000)
    assert blocked["pairs"] > 4_000_000
    assert blocked["peak_mb"] < 200
    whole = peak(46, 10 ** 9)
    assert whole["pairs"] == blocked["pairs"]
    assert whole["peak_mb"] > 2 * blocked["peak_mb"]


def write_frame(path, frame) -> str:
    """One frame as extended XYZ."""
    lattice = " ".join(f"{v:.10f}" for v in frame.cells[0].ravel())
    lines = [str(frame.n_atoms), f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 energy=-1.0 pbc="T T T"']
    lines += [f"{frame.type_names[t]} {x:.10f} {y:.10f} {z:.10f}" for t, (x, y, z) in zip(frame.type_index,
                                                                                       frame.positions)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("with_forces,tail", [(False, False), (True, False), (False, True)])
def test_workers_share_one_large_frame(rng, tmp_path, monkeypatch, with_forces, tail):
    """A file of one frame larger than a block is reduced by every worker, each taking some of its blocks."""
    from fitcore import pipeline
    from fitcore.io.inputs import DataOptions
    from fitcore.io.xyz import read_structures
    from fitcore.neighbors import BLOCK_ATOMS
    monkeypatch.setattr(pipeline, "SPLIT_BYTES", 10_000)
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 1)
    n_side = int(np.ceil(BLOCK_ATOMS ** (1 / 3))) + 1  # workers use the default block size
    path = write_frame(tmp_path / "big.extxyz", lattice_frame(rng, n_side, 3.6))
    scheme = CutoffScheme(7.5, shift=not tail, tail=tail)  # the tail is added once, not once per share
    job = pipeline.Featurization(data=DataOptions(), scheme=scheme, with_forces=with_forces, coordinates=False)
    pending = pipeline.PendingFeaturization([path], job, workers=2)
    assert pending.parallel and [t.share for t in pending.tasks] == [(0, 2), (1, 2)]
    dataset, moments = pending.result()
    whole = compute_moments(read_structures(path), scheme, with_forces=with_forces, max_atoms=10 ** 9)
    assert dataset.n_frames == 1 and dataset.n_atoms == n_side ** 3
    np.testing.assert_allclose(moments.energy12, whole.energy12, rtol=1e-12)
    np.testing.assert_allclose(moments.energy6, whole.energy6, rtol=1e-12)
    np.testing.assert_array_equal(moments.pair_count, whole.pair_count)
    if with_forces:
        np.testing.assert_allclose(moments.force12, whole.force12, rtol=1e-9, atol=1e-12 * np.abs(whole.force12).max())
