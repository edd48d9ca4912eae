#!/usr/bin/env python
"""Generate the CO2-on-Cu adsorption sample: ``structures/conf_NNN.xyz`` and
``energies.csv``.  See README.md in this folder.

    .venv/bin/python sample_data/adsorption/make.py            # LAMMPS energies
    .venv/bin/python sample_data/adsorption/make.py --numpy    # no LAMMPS

Each structure file is headerless (``El x y z`` per row, Angstrom), adsorbate
atoms (C, O, O) first, then the 60 Cu atoms of a finite 3-layer fcc(111)
patch.  The energy is the adsorbate-surface interaction only: the sum of
Lennard-Jones terms over (adsorbate atom, Cu atom) pairs, no cutoff,
Lorentz-Berthelot mixing, plus Gaussian noise.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SEED = 7321
N_CONF = 80
NOISE_SD = 0.002  # eV
PARAMS = {  # eV, Angstrom -- the "true" per-species parameters
    "C": {"epsilon": 0.0030, "sigma": 3.40},
    "O": {"epsilon": 0.0070, "sigma": 3.05},
    "Cu": {"epsilon": 0.0200, "sigma": 2.30},
}
CO_BOND = 1.16  # Angstrom, rigid linear O=C=O
A_CU = 3.61  # fcc lattice constant, Angstrom
SURFACE_SIZE = (5, 4, 3)  # fcc111 repeats (x, y, layers) -> 60 atoms
HEIGHT_RANGE = (2.5, 5.0)  # lowest adsorbate atom above the top Cu layer plane
DECIMALS = 8
TYPES = ["C", "O", "Cu"]


def mixed(a, b):
    """Lorentz-Berthelot epsilon_ab, sigma_ab."""
    return (float(np.sqrt(PARAMS[a]["epsilon"] * PARAMS[b]["epsilon"])),
            round(0.5 * (PARAMS[a]["sigma"] + PARAMS[b]["sigma"]), 12))


def interaction_energy(ads_sym, ads_pos, surf_pos):
    """Numpy reference: sum of LJ over (adsorbate, Cu) pairs, no cutoff."""
    e = 0.0
    for s, p in zip(ads_sym, ads_pos):
        eps, sig = mixed(s, "Cu")
        r = np.linalg.norm(surf_pos - p, axis=1)
        sr6 = (sig / r) ** 6
        e += float(np.sum(4 * eps * (sr6 * sr6 - sr6)))
    return e


def surface():
    from ase.build import fcc111

    slab = fcc111("Cu", size=SURFACE_SIZE, a=A_CU, orthogonal=True, vacuum=0.0)
    # wrapped into the rectangular cell, so it is a compact rectangular patch;
    # from here on it is a finite cluster (no periodicity)
    return np.round(slab.positions, DECIMALS)


def random_unit(rng):
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def co2(rng, surf):
    ztop = surf[:, 2].max()
    lo, hi = surf.min(0), surf.max(0)
    axis = random_unit(rng)
    centre_xy = rng.uniform(lo[:2] + [3.0, 2.0], hi[:2] - [3.0, 2.0])
    rel = np.array([[0.0, 0.0, 0.0], CO_BOND * axis, -CO_BOND * axis])  # C, O, O
    height = rng.uniform(*HEIGHT_RANGE)
    z_c = ztop + height - rel[:, 2].min()  # lowest atom at `height` above the top layer
    pos = rel + np.array([centre_xy[0], centre_xy[1], z_c])
    return ["C", "O", "O"], np.round(pos, DECIMALS), height


def load_oracle():
    spec = importlib.util.spec_from_file_location("lammps_oracle", REPO / "tests" / "lammps_oracle.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pair_block():
    lines = ["pair_style lj/cut 100.0"]  # larger than any distance: no cutoff, no shift
    for i, a in enumerate(TYPES, 1):
        for j, b in enumerate(TYPES, 1):
            if j < i:
                continue
            eps, sig = mixed(a, b)
            if "Cu" not in (a, b) or a == b:  # only adsorbate-surface pairs count
                eps = 0.0
            lines.append(f"pair_coeff {i} {j} {eps!r} {sig!r}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--numpy", action="store_true", help="energies from numpy instead of LAMMPS")
    ap.add_argument("-o", "--outdir", default=str(HERE))
    args = ap.parse_args(argv)
    out = Path(args.outdir)
    (out / "structures").mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(SEED)
    surf = surface()
    confs = []
    for k in range(N_CONF):
        sym, pos, height = co2(rng, surf)
        confs.append((f"conf_{k:03d}", sym, pos, height))

    e_np = np.array([interaction_energy(sym, pos, surf) for _, sym, pos, _ in confs])
    source = "numpy pair sum in make.py"
    e_exact = e_np
    if not args.numpy:
        oracle = load_oracle()
        if not oracle.lammps_available():
            sys.exit("LAMMPS not available (" + oracle.lammps_unavailable_reason()
                     + "); run tests/install_lammps.sh or use --numpy")
        from ase import Atoms

        frames = [Atoms(sym + ["Cu"] * len(surf), positions=np.vstack([pos, surf]), pbc=False)
                  for _, sym, pos, _ in confs]
        e_lmp, _ = oracle.lammps_energies_forces(frames, pair_block(), TYPES)
        de = np.abs(e_lmp - e_np).max()
        print(f"LAMMPS vs numpy: max |dE| = {de:.2e} eV", file=sys.stderr)
        assert de < 1e-10, de
        e_exact = e_lmp
        source = "LAMMPS lj/cut 100 A (tests/lammps_oracle.py)"

    noise = np.random.default_rng([SEED, 1]).normal(0.0, NOISE_SD, N_CONF)
    e_noisy = e_exact + noise

    for name, sym, pos, _ in confs:
        rows = [(s, *p) for s, p in zip(sym, pos)] + [("Cu", *p) for p in surf]
        with open(out / "structures" / f"{name}.xyz", "w") as fh:
            for s, x, y, z in rows:
                fh.write(f"{s} {x:.8f} {y:.8f} {z:.8f}\n")
    with open(out / "energies.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "energy"])
        for (name, *_), e in zip(confs, e_noisy):
            w.writerow([name, f"{e:.6f}"])

    truth = {
        "params": PARAMS,
        "mixing": "arithmetic",
        "mixing_note": "Lorentz-Berthelot: eps_ij = sqrt(eps_i eps_j), sigma_ij = (sigma_i + sigma_j)/2",
        "cutoff": None,
        "shift": False,
        "pairs_counted": "adsorbate-surface only (C-Cu, O-Cu); no cutoff",
        "adsorbate_atoms": 3,
        "cross_pairs": {f"{a}-Cu": dict(zip(("epsilon", "sigma"), mixed(a, "Cu"))) for a in ("C", "O")},
        "noise_sd_eV": NOISE_SD,
        "seed": SEED,
        "noise_rng": "numpy.random.default_rng([seed, 1]).normal(0, noise_sd, n)",
        "energy_source": source,
        "exact_energies": {name: float(e) for (name, *_), e in zip(confs, e_exact)},
        "heights": {name: round(float(h), 4) for name, _, _, h in confs},
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {N_CONF} structures ({3 + len(surf)} atoms each); E range "
          f"{e_exact.min():.4f} .. {e_exact.max():.4f} eV; noise sd {NOISE_SD}; {source}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
