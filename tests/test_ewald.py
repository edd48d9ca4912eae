"""The k-space sum of fitcore/ewald.py against its definition, summed plainly over an explicit list of
k vectors (one complex exponential per atom and k vector, no factorization, no symmetry).

The LAMMPS comparisons (tests/test_coulomb.py) are the external oracle; these tests pin the fast layout
(rows h >= 0, columns (k >= 0, l >= 0), four signs, frames in batches, atoms in chunks) to the plain sum
on cells and charges LAMMPS' tests do not reach: skewed in every direction, several channels, batches of
frames with different k ranges, one atom."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitcore import ewald


def direct_kspace(positions, charges, weights, cells, g, kmax):
    """E_recip + E_self + E_background [n] and k-space forces [n, N, 3] (e^2/Å), term by term."""
    energies, forces = [], []
    for r, q, cell, g_n, k_n in zip(positions, charges, cells, g, kmax):
        recip = 2 * np.pi * np.linalg.inv(cell).T
        span = np.floor(k_n * np.linalg.norm(cell, axis=1) / (2 * np.pi)).astype(int)
        m = np.stack(np.meshgrid(*[np.arange(-s, s + 1) for s in span], indexing="ij"), -1).reshape(-1, 3)
        k = m @ recip
        k2 = np.einsum("kd,kd->k", k, k)
        k, k2 = k[(k2 > 0) & (k2 <= k_n ** 2)], k2[(k2 > 0) & (k2 <= k_n ** 2)]
        factor = 4 * np.pi / k2 * np.exp(-k2 / (4 * g_n ** 2))
        phase = np.exp(1j * (r @ k.T))  # [N, K]
        volume = abs(np.linalg.det(cell))
        e, f = 0.0, np.zeros(r.shape)
        for w, qc in zip(weights, q):
            s = qc @ phase  # S(k)
            e += w * (np.sum(factor * np.abs(s) ** 2) / (2 * volume) - g_n / np.sqrt(np.pi) * np.sum(qc ** 2)
                      - np.pi * qc.sum() ** 2 / (2 * volume * g_n ** 2))
            f += w * qc[:, None] / volume * (np.imag(np.conj(s) * phase) * factor) @ k
        energies.append(e)
        forces.append(f)
    return np.array(energies), np.array(forces)


def random_case(rng, n_frames, n_atoms, n_channels, skew):
    cells = np.array([np.diag(rng.uniform(8, 14, 3)) + skew * np.tril(rng.uniform(-3, 3, (3, 3)), -1)
                      + skew * np.triu(rng.uniform(-2, 2, (3, 3)), 1) for _ in range(n_frames)])
    positions = np.einsum("njd,nde->nje", rng.uniform(-0.5, 1.5, (n_frames, n_atoms, 3)), cells)
    charges = rng.normal(size=(n_frames, n_channels, n_atoms))
    weights = np.r_[1.0, -np.ones(n_channels - 1)]
    return positions, charges, weights, cells, rng.uniform(0.25, 0.45, n_frames), rng.uniform(1.2, 2.6, n_frames)


def assert_matches_direct(case):
    energies, forces = ewald.kspace(*case, with_forces=True)
    ref_e, ref_f = direct_kspace(*case)
    assert np.max(np.abs(energies - ref_e)) <= 1e-12 * np.max(np.abs(ref_e))
    scale = np.max(case[1] ** 2) * np.max(case[5]) ** 2  # e^2/Å^2: one atom's forces are zero
    assert np.max(np.abs(forces - ref_f)) <= 1e-12 * max(np.max(np.abs(ref_f)), scale)
    alone, _ = ewald.kspace(*case, with_forces=False)
    np.testing.assert_array_equal(alone, energies)


@pytest.mark.parametrize("skew", [0.0, 1.0], ids=["orthorhombic", "skewed"])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_kspace_matches_the_direct_sum(rng, skew, n_channels):
    """Frames of different cells and k ranges in one call (several batches, each with its own k vectors)."""
    assert_matches_direct(random_case(rng, 7, 23, n_channels, skew))


def test_kspace_matches_the_direct_sum_with_atoms_in_chunks(rng, monkeypatch):
    monkeypatch.setattr(ewald, "CHUNK_BYTES", 4096)  # a few atoms per matrix product
    assert_matches_direct(random_case(rng, 3, 31, 2, 1.0))


def test_uncharged_atoms_add_nothing_and_feel_no_force(rng):
    """Uncharged atoms are left out of the sums: different counts per frame, one frame without charges."""
    positions, charges, weights, cells, g, kmax = random_case(rng, 5, 17, 2, 1.0)
    charges[:, :, rng.uniform(size=17) < 0.3] = 0.0
    charges[1, :, :12] = 0.0
    charges[3] = 0.0
    case = positions, charges, weights, cells, g, kmax
    _, forces = ewald.kspace(*case, with_forces=True)
    assert np.all(forces[np.broadcast_to(np.all(charges == 0, axis=1)[:, :, None], forces.shape)] == 0)
    assert_matches_direct(case)


def test_one_atom_feels_no_kspace_force(rng):
    case = random_case(rng, 2, 1, 1, 1.0)
    _, forces = ewald.kspace(*case, with_forces=True)
    assert np.max(np.abs(forces)) < 1e-14
    assert_matches_direct(case)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n_frames=st.integers(1, 4), n_atoms=st.integers(1, 12),
       n_channels=st.integers(1, 3), skew=st.sampled_from([0.0, 0.3, 1.0]))
def test_kspace_matches_the_direct_sum_on_random_cells(seed, n_frames, n_atoms, n_channels, skew):
    assert_matches_direct(random_case(np.random.default_rng(seed), n_frames, n_atoms, n_channels, skew))


def test_erfc_matches_math_erfc():
    """The real-space screen without scipy: relative error below 1e-13 where erfc matters, 0 beyond x = 8."""
    import math
    x = np.concatenate([np.linspace(0, 9, 90001), np.random.default_rng(4).uniform(0, 8, 20000), [0.0, 8.0, 40.0]])
    ours, ref = ewald.erfc(x), np.array([math.erfc(v) for v in x])
    assert np.all(np.abs(ours - ref) <= 1e-13 * ref + 2e-29)
    assert ewald.erfc(np.zeros(3)).tolist() == [1.0, 1.0, 1.0]  # g = 0: the plain 1/r of frames without Ewald
