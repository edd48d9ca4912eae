#!/usr/bin/env python
"""Generate ``mixture.extxyz``: liquid-like Ar/Kr/Xe configurations with exact
Lennard-Jones energies and forces.  See README.md in this folder.

    .venv/bin/python sample_data/argon_mixture/make.py            # LAMMPS energies
    .venv/bin/python sample_data/argon_mixture/make.py --numpy    # no LAMMPS

Geometry: per "system" (composition, density, cell shape, temperature) a
perturbed, partly vacant fcc lattice is equilibrated by Metropolis Monte Carlo
with the same LJ model (numpy code in this file) and frames are taken every
few sweeps.  Energies and forces of the written (rounded) coordinates are then
computed by LAMMPS (``pair_style lj/cut 8.5``, ``pair_modify mix arithmetic
shift yes``) through ``tests/lammps_oracle.py`` and cross-checked against the
numpy pair sum in this file.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SEED = 20240611
CUTOFF = 8.5  # Angstrom
PARAMS = {  # eV, Angstrom
    "Ar": {"epsilon": 0.0104, "sigma": 3.40},
    "Kr": {"epsilon": 0.0141, "sigma": 3.65},
    "Xe": {"epsilon": 0.0194, "sigma": 3.95},
}
SPECIES = ["Ar", "Kr", "Xe"]
KB = 8.617333262e-5  # eV/K
MIN_RATIO = 0.85  # every pair distance > MIN_RATIO * sigma_ij
N_BULK_SYSTEMS = 28
N_BULK_FRAMES = 10
N_SLAB_SYSTEMS = 4
N_SLAB_FRAMES = 5
EQUIL_SWEEPS = 100
SWEEPS_BETWEEN_FRAMES = 6
DECIMALS = 8  # ASE writes positions with %16.8f: energies are for rounded coordinates

EPS = np.array([PARAMS[s]["epsilon"] for s in SPECIES])
SIG = np.array([PARAMS[s]["sigma"] for s in SPECIES])
EPS_IJ = np.sqrt(EPS[:, None] * EPS[None, :])  # Lorentz-Berthelot
SIG_IJ = 0.5 * (SIG[:, None] + SIG[None, :])


def lj(r, eps, sig):
    """Shifted LJ pair energy and dU/dr (zero beyond the cutoff)."""
    inside = r < CUTOFF
    sr6 = (sig / r) ** 6
    src6 = (sig / CUTOFF) ** 6
    u = np.where(inside, 4 * eps * (sr6 * sr6 - sr6) - 4 * eps * (src6 * src6 - src6), 0.0)
    du = np.where(inside, -24 * eps * (2 * sr6 * sr6 - sr6) / r, 0.0)
    return u, du


class System:
    """Positions in a cell, periodic along ``pbc`` axes; images via shifts."""

    def __init__(self, cell, pbc, types, pos):
        self.cell = np.asarray(cell, float)
        self.pbc = np.asarray(pbc, bool)
        self.inv = np.linalg.inv(self.cell)
        self.types = np.asarray(types)
        self.pos = np.asarray(pos, float)
        vol = abs(np.linalg.det(self.cell))
        heights = [vol / np.linalg.norm(np.cross(self.cell[(k + 1) % 3], self.cell[(k + 2) % 3]))
                   for k in range(3)]
        # with fractional differences wrapped to [-1/2, 1/2], images |n_k| <= floor(rc/h_k + 1/2)
        nmax = [int(np.floor(CUTOFF / h + 0.5)) if p else 0 for h, p in zip(heights, self.pbc)]
        grid = np.array(np.meshgrid(*[np.arange(-m, m + 1) for m in nmax], indexing="ij"))
        self.shift_n = grid.reshape(3, -1).T
        self.shifts = self.shift_n @ self.cell

    def wrap(self, p):
        f = p @ self.inv
        f[..., self.pbc] -= np.floor(f[..., self.pbc])
        return f @ self.cell

    def _disp(self, p, others):
        """Displacements others - p, fractional parts wrapped, all images: [nimg, m, 3]."""
        d = (others - p) @ self.inv
        d[..., self.pbc] -= np.round(d[..., self.pbc])
        d = d @ self.cell
        return d[None, :, :] + self.shifts[:, None, :]

    def atom_terms(self, i, p):
        """Energy of atom i at p with all other atoms, and min r/sigma."""
        mask = np.arange(len(self.pos)) != i
        d = self._disp(p, self.pos[mask])
        r = np.sqrt((d * d).sum(-1))
        tj = self.types[mask]
        eps = EPS_IJ[self.types[i], tj][None, :]
        sig = SIG_IJ[self.types[i], tj][None, :]
        u, _ = lj(r, eps, sig)
        return u.sum(), (r / sig).min()

    def energy_forces(self):
        """Plain sum over pairs (i, j+T) with r < rc, incl. self-images (1/2 each)."""
        n = len(self.pos)
        e = 0.0
        f = np.zeros((n, 3))
        for i in range(n):
            d = self._disp(self.pos[i], self.pos)  # includes j = i
            r = np.sqrt((d * d).sum(-1))
            zero = ~self.shift_n.any(1)
            r[zero, i] = np.inf  # no self-interaction in the home cell
            eps = EPS_IJ[self.types[i], self.types][None, :]
            sig = SIG_IJ[self.types[i], self.types][None, :]
            u, du = lj(r, eps, sig)
            e += 0.5 * u.sum()
            with np.errstate(invalid="ignore"):
                g = np.where(np.isfinite(r), du / r, 0.0)
            f[i] = (g[..., None] * d).sum((0, 1))  # F_i = sum dU/dr * (r_j - r_i)/r
        return e, f

    def min_ratio(self):
        m = np.inf
        for i in range(len(self.pos)):
            m = min(m, self.atom_terms(i, self.pos[i])[1])
        return m


def make_system(rng, slab: bool):
    n = int(rng.integers(64, 129))
    kind = rng.random()
    if kind < 0.12:  # pure
        x = np.eye(3)[rng.integers(3)]
    elif kind < 0.40:  # binary
        x = np.zeros(3)
        pair = rng.choice(3, 2, replace=False)
        x[pair] = rng.dirichlet([1.5, 1.5])
    else:
        x = rng.dirichlet([1.2, 1.2, 1.2])
    counts = np.floor(x * n).astype(int)
    counts[np.argmax(x)] += n - counts.sum()
    types = np.repeat(np.arange(3), counts)
    rng.shuffle(types)
    sig3 = np.mean(SIG[types] ** 3)

    if not slab:
        rho = rng.uniform(0.55, 0.92)  # reduced density n sigma^3 / V
        vol = n * sig3 / rho
        shape = rng.random()
        m = np.eye(3)
        if shape < 0.35:  # slightly triclinic, arbitrary orientation
            m = m + rng.uniform(-0.08, 0.08, (3, 3))
        elif shape < 0.6:  # orthorhombic
            m = np.diag(rng.uniform(0.9, 1.1, 3))
        cell = m * (vol / abs(np.linalg.det(m))) ** (1 / 3)
        pbc = [True, True, True]
        zwin = None
        tstar = rng.uniform(0.75, 1.3)  # reduced temperature kT / <eps_ij>
    else:
        rho = rng.uniform(0.72, 0.85)
        lxy = rng.uniform(15.0, 19.0)
        gamma = np.deg2rad(rng.choice([90.0, 90.0, rng.uniform(80.0, 100.0)]))
        a = np.array([lxy, 0, 0])
        b = lxy * np.array([np.cos(gamma), np.sin(gamma), 0])
        area = lxy * lxy * np.sin(gamma)
        thick = n * sig3 / rho / area
        vac = 15.0
        cell = np.array([a, b, [0, 0, thick + 2 * vac]])
        pbc = [True, True, False]
        zwin = (vac, vac + thick)  # hard walls for the MC only (not in the energy)
        tstar = rng.uniform(0.65, 0.8)
    eps_mean = EPS_IJ[types[:, None], types[None, :]].mean()
    temp = tstar * eps_mean / KB

    # perturbed fcc lattice with vacancies, in fractional coordinates
    mcell = int(np.ceil((n / 4) ** (1 / 3)))
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.array([[i, j, k] for i in range(mcell) for j in range(mcell) for k in range(mcell)])
    sites = ((grid[:, None, :] + base[None]) / mcell).reshape(-1, 3)
    frac = sites[rng.choice(len(sites), n, replace=False)] + rng.normal(0, 0.01, (n, 3))
    if slab:
        frac[:, 2] = (zwin[0] + 1.0 + frac[:, 2] % 1.0 * (zwin[1] - zwin[0] - 2.0)) / cell[2, 2]
    pos = frac @ cell
    sysm = System(cell, pbc, types, pos)
    sysm.pos = sysm.wrap(sysm.pos)
    meta = {"n": n, "rho_reduced": float(rho), "T_K": float(temp), "T_reduced": float(tstar), "slab": slab,
            "composition": {s: int(c) for s, c in zip(SPECIES, counts)}}
    return sysm, zwin, temp, meta


def mc_sweeps(sysm, rng, nsweeps, kt, zwin, step, tune=False):
    n = len(sysm.pos)
    acc = 0
    for _ in range(nsweeps):
        for _ in range(n):
            i = int(rng.integers(n))
            old = sysm.pos[i].copy()
            new = sysm.wrap(old + rng.uniform(-step, step, 3))
            if zwin is not None and not (zwin[0] <= new[2] <= zwin[1]):
                continue
            e_old, ratio_old = sysm.atom_terms(i, old)
            e_new, ratio = sysm.atom_terms(i, new)
            if ratio < MIN_RATIO and ratio <= ratio_old:  # never create/worsen close contacts
                continue
            de = e_new - e_old
            if de <= 0 or rng.random() < np.exp(-de / kt):
                sysm.pos[i] = new
                acc += 1
        if tune:
            rate = acc / n
            step *= 1.1 if rate > 0.4 else 0.9
            step = float(np.clip(step, 0.05, 2.0))
            acc = 0
    return step


def load_oracle():
    spec = importlib.util.spec_from_file_location("lammps_oracle", REPO / "tests" / "lammps_oracle.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--numpy", action="store_true",
                    help="energies/forces from the numpy pair sum in this file instead of LAMMPS")
    ap.add_argument("-o", "--output", default=str(HERE / "mixture.extxyz"))
    args = ap.parse_args(argv)

    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator
    import ase.io

    oracle = None
    if not args.numpy:
        oracle = load_oracle()
        if not oracle.lammps_available():
            sys.exit("LAMMPS not available (" + oracle.lammps_unavailable_reason()
                     + "); run tests/install_lammps.sh or use --numpy")

    t0 = time.time()
    frames, numpy_ef, systems = [], [], []
    plan = [(s, False, N_BULK_FRAMES) for s in range(N_BULK_SYSTEMS)]
    plan += [(N_BULK_SYSTEMS + s, True, N_SLAB_FRAMES) for s in range(N_SLAB_SYSTEMS)]
    for sys_id, slab, nframes in plan:
        rng = np.random.default_rng([SEED, sys_id])
        sysm, zwin, temp, meta = make_system(rng, slab)
        kt = KB * temp
        step = mc_sweeps(sysm, rng, EQUIL_SWEEPS, kt, zwin, 0.3, tune=True)
        while sysm.min_ratio() <= MIN_RATIO:  # initial lattice contacts not yet resolved
            mc_sweeps(sysm, rng, 5, kt, zwin, step)
        min_ratio_sys = np.inf
        for k in range(nframes):
            mc_sweeps(sysm, rng, SWEEPS_BETWEEN_FRAMES, kt, zwin, step)
            pos = np.round(sysm.wrap(sysm.pos), DECIMALS)
            cell = np.round(sysm.cell, DECIMALS)
            snap = System(cell, sysm.pbc, sysm.types, pos)
            ratio = snap.min_ratio()
            assert ratio > MIN_RATIO, ratio
            min_ratio_sys = min(min_ratio_sys, ratio)
            atoms = Atoms([SPECIES[t] for t in snap.types], positions=pos, cell=cell, pbc=sysm.pbc)
            atoms.info["name"] = f"{'slab' if slab else 'bulk'}_{sys_id:02d}_{k:02d}"
            frames.append(atoms)
            numpy_ef.append(snap.energy_forces())
        meta.update(system=sys_id, frames=[a.info["name"] for a in frames[-nframes:]],
                    min_r_over_sigma=float(min_ratio_sys))
        systems.append(meta)
        print(f"system {sys_id:2d} {'slab' if slab else 'bulk'} n={meta['n']:3d} "
              f"rho*={meta['rho_reduced']:.2f} T*={meta['T_reduced']:.2f} T={temp:5.1f}K "
              f"{meta['composition']} "
              f"min r/sigma={min_ratio_sys:.3f} ({time.time() - t0:.0f}s)", file=sys.stderr)

    e_np = np.array([e for e, _ in numpy_ef])
    f_np = [f for _, f in numpy_ef]
    if oracle is not None:
        block = "\n".join([f"pair_style lj/cut {CUTOFF}", "pair_modify mix arithmetic shift yes"]
                          + [f"pair_coeff {k + 1} {k + 1} {PARAMS[s]['epsilon']} {PARAMS[s]['sigma']}"
                             for k, s in enumerate(SPECIES)])
        energies, forces = oracle.lammps_energies_forces(frames, block, SPECIES)
        de = np.max(np.abs(energies - e_np))
        df = max(np.max(np.abs(a - b)) for a, b in zip(forces, f_np))
        print(f"LAMMPS vs numpy: max |dE| = {de:.2e} eV, max |dF| = {df:.2e} eV/A", file=sys.stderr)
        assert de < 1e-8 and df < 1e-8, (de, df)
        source = "LAMMPS lj/cut (tests/lammps_oracle.py)"
    else:
        energies, forces = e_np, f_np
        source = "numpy pair sum in make.py"

    for atoms, e, f in zip(frames, energies, forces):
        atoms.calc = SinglePointCalculator(atoms, energy=float(e), forces=np.asarray(f))
    ase.io.write(args.output, frames, format="extxyz")
    nat = [len(a) for a in frames]
    print(f"wrote {len(frames)} frames ({min(nat)}-{max(nat)} atoms, {sum(nat)} total) to "
          f"{args.output}; energies from {source}; {time.time() - t0:.0f}s", file=sys.stderr)
    truth = {"mixing": "arithmetic", "cutoff": CUTOFF, "shift": True,
             "mixing_note": "Lorentz-Berthelot: eps_ij = sqrt(eps_i eps_j), sigma_ij = (sigma_i + sigma_j)/2 "
                            "(LAMMPS pair_modify mix arithmetic)",
             "params": PARAMS, "seed": SEED, "energy_source": source}
    out_dir = Path(args.output).parent
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    (out_dir / "systems.json").write_text(json.dumps(systems, indent=1) + "\n")


if __name__ == "__main__":
    main()
