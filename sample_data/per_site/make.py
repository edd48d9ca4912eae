#!/usr/bin/env python
"""Generate the per-site sample: CO2 over a Cu patch, one structure per file, the energies in the
comment lines of another set of files, and per-site Lennard-Jones parameters.  See README.md here.

    .venv/bin/python sample_data/per_site/make.py        # LAMMPS energies (tests/install_lammps.sh first)

structures/conf_NN_extended.xyz   XYZ (count, comment, El x y z): C, O, O of CO2, then 60 Cu
dft/conf_NN.xyz                   the same coordinates; comment "energy=<eV>" (what a DFT run left)
truth.json                        per-site pair parameters, seed, noise-free energies

The energy is the adsorbate-surface interaction only: LJ 12-6 over (adsorbate site, Cu) pairs,
each site with its own epsilon and sigma against Cu (C1-Cu, O2-Cu, O3-Cu), no cutoff, plus
Gaussian noise of 1 meV.
"""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SEED = 20261201
N_CONF = 30
NOISE_SD = 0.001  # eV
PAIRS = {"C1-Cu": (0.0078, 2.85), "O2-Cu": (0.0118, 2.68), "O3-Cu": (0.0118, 2.68)}  # eV, Å
TYPES = ["C1", "O2", "O3", "Cu"]
CO_BOND = 1.16


def surface():
    from ase.build import fcc111
    return np.round(fcc111("Cu", size=(5, 4, 3), a=3.61, orthogonal=True, vacuum=0.0).positions, 6)


def co2(rng, surf):
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    lo, hi = surf.min(0), surf.max(0)
    centre = rng.uniform(lo[:2] + [3.0, 2.0], hi[:2] - [3.0, 2.0])
    rel = np.array([[0.0, 0.0, 0.0], CO_BOND * axis, -CO_BOND * axis])
    z = surf[:, 2].max() + rng.uniform(2.5, 5.0) - rel[:, 2].min()
    return np.round(rel + [centre[0], centre[1], z], 6)


def lammps_energies(frames):
    """LAMMPS lj/cut 100 Å (no cutoff in effect) with a pair_coeff per (site, Cu) pair, zero elsewhere."""
    spec = importlib.util.spec_from_file_location("lammps_oracle", REPO / "tests" / "lammps_oracle.py")
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    if not oracle.lammps_available():
        sys.exit(f"LAMMPS not available ({oracle.lammps_unavailable_reason()}); run tests/install_lammps.sh")
    lines = ["pair_style lj/cut 100.0"]
    for a in range(4):
        for b in range(a, 4):
            eps, sigma = PAIRS.get(f"{TYPES[a]}-{TYPES[b]}", (0.0, 1.0))
            lines.append(f"pair_coeff {a + 1} {b + 1} {eps!r} {sigma!r}")
    lmp, energies = oracle._get_instance(), []
    with oracle._omp_guard():
        for positions in frames:
            _, boundary, box, rpos = oracle.lammps_frame(np.zeros((3, 3)), [False] * 3, positions)
            lmp.command("clear")
            lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array sort 0 0.0",
                               f"boundary {' '.join(boundary)}",
                               "region box prism " + " ".join(repr(float(v)) for v in box) + " units box",
                               "create_box 4 box", "mass * 1.0"])
            types = [1, 2, 3] + [4] * (len(positions) - 3)
            lmp.create_atoms(len(positions), list(range(1, len(positions) + 1)), types, rpos.reshape(-1).tolist())
            lmp.commands_list(lines + ["neighbor 1.0 nsq", "thermo_style custom step pe", "run 0 post no"])
            energies.append(lmp.get_thermo("pe"))
    return np.array(energies)


def numpy_energy(positions):
    e = 0.0
    for site, p in zip(TYPES[:3], positions[:3]):
        eps, sigma = PAIRS[f"{site}-Cu"]
        sr6 = (sigma / np.linalg.norm(positions[3:] - p, axis=1)) ** 6
        e += float(np.sum(4 * eps * (sr6 * sr6 - sr6)))
    return e


def main():
    rng = np.random.default_rng(SEED)
    surf = surface()
    frames = [np.vstack([co2(rng, surf), surf]) for _ in range(N_CONF)]
    exact = lammps_energies(frames)
    check = max(abs(e - numpy_energy(f)) for e, f in zip(exact, frames))
    assert check < 1e-10, check
    noisy = exact + np.random.default_rng([SEED, 1]).normal(0.0, NOISE_SD, N_CONF)
    symbols = ["C", "O", "O"] + ["Cu"] * len(surf)
    for folder in ("structures", "dft"):
        (HERE / folder).mkdir(exist_ok=True)
    for k, (positions, energy) in enumerate(zip(frames, noisy)):
        atoms = "".join(f"{s} {x:.6f} {y:.6f} {z:.6f}\n" for s, (x, y, z) in zip(symbols, positions))
        head = f"{len(symbols)}\n"
        (HERE / "structures" / f"conf_{k:02d}_extended.xyz").write_text(head + "CO2 over a Cu patch\n" + atoms)
        (HERE / "dft" / f"conf_{k:02d}.xyz").write_text(head + f"energy={energy:.6f}\n" + atoms)
    truth = {"pairs": {name: {"epsilon": e, "sigma": s} for name, (e, s) in PAIRS.items()},
             "mixing": "none", "cutoff": None, "shift": False, "site_types": 3, "noise_sd_eV": NOISE_SD,
             "seed": SEED, "energy_source": "LAMMPS lj/cut 100 A, pair_coeff per site (tests/lammps_oracle.py)",
             "lammps_vs_numpy_max_abs_eV": float(check),
             "exact_energies": {f"conf_{k:02d}_extended": float(e) for k, e in enumerate(exact)}}
    (HERE / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {N_CONF} structures; E {exact.min():.4f} .. {exact.max():.4f} eV; LAMMPS vs numpy {check:.1e}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
