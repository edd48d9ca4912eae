"""Energies from GROMACS (``gmx_d grompp`` + ``gmx_d mdrun -rerun``) for an exported topology (test oracle).

GROMACS comes from Debian's ``gromacs`` package (tests/install_engines.sh); the double
precision binary ``gmx_d`` is used when there. A ``.gro`` file holds positions to 0.001 nm
and the box to 1e-5 nm, so ``gro_frames`` rounds frames to that grid first: GROMACS and
ljfit then see the same coordinates. Every atom is a one-atom molecule of its type.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from fitcore.units import energy_factor


def gmx_binary() -> str | None:
    return shutil.which("gmx_d") or shutil.which("gmx")


def gromacs_unavailable_reason() -> str:
    return "neither gmx_d nor gmx is on PATH (Debian package gromacs; see tests/install_engines.sh)"


def gro_frames(frames):
    """Copies of ASE frames with positions rounded to 0.001 nm and the cell to 1e-5 nm (the .gro grid)."""
    out = []
    for atoms in frames:
        atoms = atoms.copy()
        atoms.positions = np.round(atoms.positions / 10, 3) * 10
        atoms.cell = np.round(np.asarray(atoms.cell) / 10, 5) * 10
        out.append(atoms)
    return out


def _gro(atoms) -> str:
    lines = ["frame", str(len(atoms))]
    for k, (symbol, p) in enumerate(zip(atoms.get_chemical_symbols(), atoms.positions / 10)):
        lines.append(f"{(k + 1) % 100000:5d}{symbol:<5s}{symbol:>5s}{(k + 1) % 100000:5d}"
                     f"{p[0]:8.3f}{p[1]:8.3f}{p[2]:8.3f}")
    c = np.asarray(atoms.cell) / 10
    box = [c[0, 0], c[1, 1], c[2, 2], c[0, 1], c[0, 2], c[1, 0], c[1, 2], c[2, 0], c[2, 1]]
    lines.append(" ".join(f"{v:10.5f}" for v in box))
    return "\n".join(lines) + "\n"


def _topology(itp: str, type_names, symbols) -> str:
    lines = [itp]
    for name in type_names:
        lines += ["[ moleculetype ]", f"{name} 0", "[ atoms ]", f"1 {name} 1 {name[:5]} {name[:5]} 1 0.0", ""]
    lines += ["[ system ]", "ljfit export test", "", "[ molecules ]"]
    runs = []  # consecutive atoms of one type: one [ molecules ] line
    for symbol in symbols:
        if runs and runs[-1][0] == symbol:
            runs[-1][1] += 1
        else:
            runs.append([symbol, 1])
    lines += [f"{name} {count}" for name, count in runs]
    return "\n".join(lines) + "\n"


MDP = """integrator = md
nsteps = 0
cutoff-scheme = Verlet
verlet-buffer-tolerance = -1
rlist = {rc}
pbc = xyz
vdwtype = Cut-off
vdw-modifier = {modifier}
rvdw = {rc}
coulombtype = Cut-off
rcoulomb = {rc}
DispCorr = no
nstenergy = 1
nstcalcenergy = 1
"""


def gromacs_energies(frames, itp: str, type_names, cutoff: float, shift: bool, folder: Path) -> np.ndarray:
    """[n_frames] LJ (SR) energies in eV of ASE ``frames`` (all atoms in the same order of types)."""
    symbols = frames[0].get_chemical_symbols()
    assert all(a.get_chemical_symbols() == symbols for a in frames), "GROMACS reruns one topology"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topol.top").write_text(_topology(itp, type_names, symbols))
    (folder / "grompp.mdp").write_text(MDP.format(rc=cutoff / 10, modifier="Potential-shift" if shift else "None"))
    (folder / "conf.gro").write_text(_gro(frames[0]))
    (folder / "traj.gro").write_text("".join(_gro(a) for a in frames))
    gmx = gmx_binary()
    env = dict(os.environ, GMX_MAXBACKUP="-1", OMP_NUM_THREADS="1")

    def run(*args, stdin=None):
        done = subprocess.run([gmx, "-quiet", *args], cwd=folder, env=env, input=stdin, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"gmx {args[0]} failed:\n{done.stderr[-3000:]}"

    run("grompp", "-f", "grompp.mdp", "-c", "conf.gro", "-p", "topol.top", "-o", "run.tpr", "-maxwarn", "5")
    run("mdrun", "-s", "run.tpr", "-rerun", "traj.gro", "-nt", "1", "-deffnm", "rerun")
    run("energy", "-f", "rerun.edr", "-o", "lj.xvg", "-dp", stdin="LJ-(SR)\n")
    rows = [line.split() for line in (folder / "lj.xvg").read_text().splitlines() if line[:1] not in "#@"]
    return np.array([float(row[1]) for row in rows]) * energy_factor("kJ/mol")
