"""The LJ model against independent oracles (LAMMPS data, ASE) and physical invariants."""
import json

import numpy as np
import pytest
import torch
from synth import random_dataset

from fitcore.dataset import Dataset
from fitcore.io.xyz import read_structures
from fitcore.model import DirectEngine, MomentEngine, coefficients, mixed_tables
from fitcore.moments import CutoffScheme, compute_moments, pair_types
from fitcore.params import Layout

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def truth_theta(truth: dict, type_names) -> torch.Tensor:
    return torch.tensor([truth["params"][t][k] for t in type_names for k in ("epsilon", "sigma")], dtype=torch.float64)


def engines(dataset, scheme, scope="all", device="cpu", dtype=torch.float64):
    moments = compute_moments(dataset, scheme, scope, with_forces=True)
    return MomentEngine(moments, device, dtype), DirectEngine(dataset, scheme, scope, device, dtype)


@pytest.mark.parametrize("name", ["oracle_cubic", "oracle_slab"])
@pytest.mark.parametrize("device", DEVICES)
def test_engines_match_lammps(data_dir, name, device):
    dataset = read_structures(str(data_dir / f"{name}.extxyz"))
    truth = json.loads((data_dir / f"{name}.truth.json").read_text())
    layout = Layout(dataset.type_names, "lorentz-berthelot")
    c12, c6 = coefficients(layout, truth_theta(truth, dataset.type_names).to(device))
    for engine in engines(dataset, CutoffScheme(truth["cutoff"], truth["shift"]), device=device):
        energies = engine.energies(c12, c6).cpu().numpy()
        forces = engine.forces(c12, c6).cpu().numpy()
        assert np.max(np.abs(energies - dataset.energies)) <= 1e-9 * np.max(np.abs(dataset.energies))
        assert np.max(np.abs(forces - dataset.forces)) <= 1e-8 * np.max(np.abs(dataset.forces))


def test_cubic_oracle_has_several_images_of_one_atom(data_dir):
    """The cubic oracle's cells are thinner than 2 rc: some atom pairs interact through two images."""
    from fitcore.neighbors import iter_pairs
    dataset = read_structures(str(data_dir / "oracle_cubic.extxyz"))
    pairs = next(iter_pairs(dataset, 8.5))
    keys = pairs.frame * dataset.n_atoms ** 2 + np.minimum(pairs.first, pairs.second) * dataset.n_atoms \
        + np.maximum(pairs.first, pairs.second)
    assert len(np.unique(keys)) < len(keys)


@pytest.mark.parametrize("pbc,triclinic,length", [("full", False, 9.0), ("full", True, 9.0), ("none", False, 9.0),
                                                  ("full", True, 4.5), ("slab", True, 4.5)])
def test_single_species_matches_ase(rng, pbc, triclinic, length):
    """ASE's LennardJones with smooth=False shifts energies to zero at rc: our shift=True.

    Cells of 4.5 Å with rc = 7.5 Å make every atom pair with images of itself.
    """
    from ase import Atoms
    from ase.calculators.lj import LennardJones
    small = length < 5
    dataset = random_dataset(rng, n_frames=3, n_atoms=(2, 3) if small else (8, 14), types=("Ar",), pbc=pbc,
                             triclinic=triclinic and not small, length=length, min_dist=2.2 if small else 2.9)
    eps, sigma, rc = 0.0104, 3.4, 7.5
    energies_ase, forces_ase = [], []
    for k in range(dataset.n_frames):
        lo, hi = dataset.frame_offsets[k], dataset.frame_offsets[k + 1]
        atoms = Atoms(f"Ar{hi - lo}", positions=dataset.positions[lo:hi], cell=dataset.cells[k], pbc=dataset.pbc[k])
        atoms.calc = LennardJones(sigma=sigma, epsilon=eps, rc=rc, smooth=False)
        energies_ase.append(atoms.get_potential_energy())
        forces_ase.append(atoms.get_forces())
    c12, c6 = coefficients(Layout(("Ar",)), torch.tensor([eps, sigma], dtype=torch.float64))
    for engine in engines(dataset, CutoffScheme(rc, shift=True)):
        np.testing.assert_allclose(engine.energies(c12, c6).numpy(), energies_ase, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(engine.forces(c12, c6).numpy(), np.concatenate(forces_ase), rtol=1e-9, atol=1e-12)


LAYOUTS = {
    "lorentz-berthelot": Layout(("Ar", "Kr", "Xe")),
    "geometric": Layout(("Ar", "Kr", "Xe"), "geometric"),
    "sixthpower": Layout(("Ar", "Kr", "Xe"), "sixthpower"),
    "override": Layout(("Ar", "Kr", "Xe"), "lorentz-berthelot", ((0, 2),)),
    "none": Layout(("Ar", "Kr", "Xe"), "none", tuple((a, b) for a in range(3) for b in range(a, 3))),
}


def layout_theta(layout: Layout, rng) -> torch.Tensor:
    values = [rng.uniform(0.005, 0.02) if n.endswith("epsilon") else rng.uniform(3.0, 4.0) for n in layout.names]
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize("pbc,triclinic", [("none", False), ("full", False), ("full", True), ("slab", True),
                                           ("wire", False)])
@pytest.mark.parametrize("mixing", list(LAYOUTS))
@pytest.mark.parametrize("scope", ["all", "inter-fragment"])
@pytest.mark.parametrize("shift", [False, True])
def test_moment_engine_equals_direct_engine(rng, pbc, triclinic, mixing, scope, shift):
    dataset = random_dataset(rng, n_frames=3, pbc=pbc, triclinic=triclinic, length=9.5, fragments=True)
    cutoff = None if pbc == "none" and not shift else 7.0
    c12, c6 = coefficients(LAYOUTS[mixing], layout_theta(LAYOUTS[mixing], rng))
    moment, direct = engines(dataset, CutoffScheme(cutoff, shift), scope)
    np.testing.assert_allclose(moment.energies(c12, c6).numpy(), direct.energies(c12, c6).numpy(), rtol=1e-11)
    np.testing.assert_allclose(moment.forces(c12, c6).numpy(), direct.forces(c12, c6).numpy(), rtol=1e-9, atol=1e-13)


def test_mixing_rules_match_lammps_definitions():
    eps, sigma = np.array([0.01, 0.02]), np.array([3.0, 4.0])
    theta = torch.tensor([eps[0], sigma[0], eps[1], sigma[1]], dtype=torch.float64)
    expected = {
        "lorentz-berthelot": (np.sqrt(0.01 * 0.02), 3.5),
        "geometric": (np.sqrt(0.01 * 0.02), np.sqrt(12.0)),
        "sixthpower": (2 * np.sqrt(0.01 * 0.02) * 27 * 64 / (729 + 4096), ((729 + 4096) / 2) ** (1 / 6)),
    }
    for rule, (e, s) in expected.items():
        e_ij, s_ij = mixed_tables(Layout(("A", "B"), rule), theta)
        assert e_ij[0, 1].item() == pytest.approx(e, rel=1e-14)
        assert s_ij[0, 1].item() == pytest.approx(s, rel=1e-14)
        assert e_ij[0, 0].item() == pytest.approx(0.01, rel=1e-14) and s_ij[1, 1].item() == pytest.approx(4.0)


@pytest.mark.parametrize("mixing", list(LAYOUTS))
def test_gradcheck_parameter_map(rng, mixing):
    layout = LAYOUTS[mixing]
    theta = layout_theta(layout, rng).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: torch.cat(coefficients(layout, t)), (theta,))


def test_gradcheck_direct_path_including_masked_pairs(rng):
    """Pairs in the skin beyond the cutoff are masked: their gradient must be 0, not NaN."""
    dataset = random_dataset(rng, n_frames=1, n_atoms=(6, 6), pbc="full", length=8.0)
    engine = DirectEngine(dataset, CutoffScheme(6.0, shift=True))
    r = engine._pair_energies  # noqa: SLF001 - the function under test
    positions = engine.positions.clone().requires_grad_(True)
    c12, c6 = coefficients(Layout(dataset.type_names), layout_theta(Layout(dataset.type_names), rng))
    assert torch.autograd.gradcheck(lambda p: r(p, c12, c6).sum(), (positions,))
    image = torch.einsum("pk,pkd->pd", engine.shift, engine.cells[engine.frame])
    distance = (engine.positions[engine.second] + image - engine.positions[engine.first]).norm(dim=1)
    assert (distance > 6.0).any() and (distance < 6.0).any()  # masked pairs are part of the check


def dimer(r: float, eps: float = 0.0104, sigma: float = 3.4) -> tuple[Dataset, torch.Tensor]:
    positions = np.array([[0.0, 0.0, 0.0], [r, 0.0, 0.0]])
    dataset = random_dataset(np.random.default_rng(0), n_frames=1, n_atoms=(2, 2), types=("Ar",), pbc="none")
    dataset = type(dataset)(**{**dataset.__dict__, "positions": positions})
    return dataset, torch.tensor([eps, sigma], dtype=torch.float64)


def test_minimum_of_the_pair_potential():
    sigma, eps = 3.4, 0.0104
    dataset, theta = dimer(2 ** (1 / 6) * sigma, eps, sigma)
    c12, c6 = coefficients(Layout(("Ar",)), theta)
    for engine in engines(dataset, CutoffScheme(None)):
        assert engine.energies(c12, c6).item() == pytest.approx(-eps, rel=1e-13)
        assert np.max(np.abs(engine.forces(c12, c6).numpy())) < 1e-15


def test_force_is_minus_energy_gradient(rng):
    dataset = random_dataset(rng, n_frames=1, pbc="full", triclinic=True)
    layout = Layout(dataset.type_names)
    c12, c6 = coefficients(layout, layout_theta(layout, rng))
    moment = MomentEngine(compute_moments(dataset, CutoffScheme(7.0, True), with_forces=True))
    forces = moment.forces(c12, c6).numpy()
    h = 1e-5
    for atom, axis in [(0, 0), (3, 1), (5, 2)]:
        energies = []
        for sign in (1, -1):
            moved = dataset.positions.copy()
            moved[atom, axis] += sign * h
            shifted = type(dataset)(**{**dataset.__dict__, "positions": moved})
            energies.append(MomentEngine(compute_moments(shifted, CutoffScheme(7.0, True))).energies(c12, c6).item())
        assert -(energies[0] - energies[1]) / (2 * h) == pytest.approx(forces[atom, axis], rel=1e-6, abs=1e-10)


def _replace(dataset, **changes):
    return type(dataset)(**{**dataset.__dict__, **changes})


def _energy_forces(dataset, theta_layout, rng_theta):
    c12, c6 = coefficients(theta_layout, rng_theta)
    engine = MomentEngine(compute_moments(dataset, CutoffScheme(7.0, True), with_forces=True))
    return engine.energies(c12, c6).numpy(), engine.forces(c12, c6).numpy()


@pytest.mark.parametrize("pbc", ["none", "full", "slab"])
def test_invariances(rng, pbc):
    """Rotation, translation, atom permutation and wrapping into other images change nothing."""
    dataset = random_dataset(rng, n_frames=2, pbc=pbc, triclinic=True, length=9.5)
    layout = Layout(dataset.type_names)
    theta = layout_theta(layout, rng)
    energies, forces = _energy_forces(dataset, layout, theta)
    assert np.allclose(forces.reshape(dataset.n_frames, -1, 3).sum(axis=1), 0, atol=1e-12) if \
        len(set(dataset.atoms_per_frame)) == 1 else np.allclose(np.add.reduceat(forces, dataset.frame_offsets[:-1]), 0,
                                                                atol=1e-12)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rotated = _replace(dataset, positions=dataset.positions @ q.T, cells=dataset.cells @ q.T)
    e_rot, f_rot = _energy_forces(rotated, layout, theta)
    np.testing.assert_allclose(e_rot, energies, rtol=1e-11)
    np.testing.assert_allclose(f_rot, forces @ q.T, rtol=1e-8, atol=1e-12)
    moved = _replace(dataset, positions=dataset.positions + rng.normal(size=3) * 5)
    np.testing.assert_allclose(_energy_forces(moved, layout, theta)[0], energies, rtol=1e-11)
    perm = np.concatenate([lo + rng.permutation(hi - lo) for lo, hi in zip(dataset.frame_offsets[:-1],
                                                                            dataset.frame_offsets[1:])])
    permuted = _replace(dataset, positions=dataset.positions[perm], type_index=dataset.type_index[perm],
                        species_index=dataset.species_index[perm])
    e_perm, f_perm = _energy_forces(permuted, layout, theta)
    np.testing.assert_allclose(e_perm, energies, rtol=1e-11)
    np.testing.assert_allclose(f_perm, forces[perm], rtol=1e-9, atol=1e-12)
    if pbc != "none":
        frame = dataset.frame_index
        shifts = rng.integers(-2, 3, size=(dataset.n_atoms, 3)) * dataset.pbc[frame]
        wrapped = _replace(dataset, positions=dataset.positions + np.einsum("ak,akd->ad", shifts, dataset.cells[frame]))
        e_wrap, f_wrap = _energy_forces(wrapped, layout, theta)
        np.testing.assert_allclose(e_wrap, energies, rtol=1e-10)
        np.testing.assert_allclose(f_wrap, forces, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_dtype_follows_the_engine(rng, dtype):
    dataset = random_dataset(rng, n_frames=2, pbc="full")
    layout = Layout(dataset.type_names)
    engine = MomentEngine(compute_moments(dataset, CutoffScheme(7.0)), dtype=dtype)
    c12, c6 = coefficients(layout, layout_theta(layout, rng).to(dtype))
    assert engine.energies(c12, c6).dtype == dtype
    with pytest.raises(ValueError, match="move it with"):
        engine.energies(c12.double() if dtype == torch.float32 else c12.float(), c6)


def test_pair_types_order():
    a, b = pair_types(3)
    assert list(zip(a.tolist(), b.tolist())) == [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
