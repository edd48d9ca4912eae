"""Energies from RASPA (PyPI ``RASPA2``, its ``simulate``) for exported force field files (test oracle).

RASPA is built from source by pip (tests/install_engines.sh). Every atom of a frame is a
one-atom molecule of a component named by its type; a restart file puts them at the
frame's positions, and a Monte Carlo run of zero cycles prints the initial
adsorbate/adsorbate VDW energy (K). RASPA reads its files from the working folder.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from fitcore.units import energy_factor


def simulate_binary() -> str | None:
    beside = Path(sys.executable).parent / "simulate"
    return str(beside) if beside.exists() else shutil.which("simulate")


def raspa_unavailable_reason() -> str:
    return "RASPA's simulate is not installed (PyPI RASPA2, built from source; see tests/install_engines.sh)"


MOLECULE = """# critical constants: Temperature [T], Pressure [Pa], and Acentric factor [-]
0.0
0.0
0.0
# Number Of Atoms
1
# Number of groups
1
# group
rigid
# number of atoms
1
# atomic positions
0 {name}
# Chiral centers Bond  BondDipoles Bend  UrayBradley InvBend  Torsion Imp. Torsion Bond/Bond Stretch/Bend Bend/Bend Stretch/Torsion Bend/Torsion IntraVDW IntraCoulomb
               0    0            0    0            0       0        0            0         0            0         0               0            0        0            0
# Number of config moves
0
"""

INPUT = """SimulationType                MonteCarlo
NumberOfCycles                0
NumberOfInitializationCycles  0
PrintEvery                    1
RestartFile                   yes
ForceField                    Local
CutOffVDW                     {cutoff}
ChargeMethod                  None
UseChargesFromMoleculeFile    no

Box 0
BoxLengths {lengths}
BoxAngles {angles}
ExternalTemperature 300.0
"""


def _restart(atoms, type_names) -> str:
    cell = np.asarray(atoms.cell)
    lines = ["Cell info:", "=" * 72]
    lines += [f"cell-vector-{axis}: {v[0]:.12f} {v[1]:.12f} {v[2]:.12f}" for axis, v in zip("abc", cell)]
    symbols = np.array(atoms.get_chemical_symbols())
    lines += ["", f"Components: {len(type_names)} (Adsorbates {len(atoms)}, Cations 0)", "=" * 72, ""]
    molecule = 0
    for k, name in enumerate(type_names):
        members = np.flatnonzero(symbols == name)
        lines += [f"Component: {k}     Adsorbate    {len(members)} molecules of {name}", "-" * 72]
        for atom in members:
            x, y, z = atoms.positions[atom]
            lines.append(f"Adsorbate-atom-position: {molecule} 0 {x:.12f} {y:.12f} {z:.12f}")
            molecule += 1
    return "\n".join(lines) + "\n"


def raspa_energies(frames, force_field: dict[str, str], type_names, cutoff: float, folder: Path) -> np.ndarray:
    """[n_frames] adsorbate/adsorbate VDW plus tail-correction energies in eV; ``force_field`` is
    {file name: text}."""
    energies = []
    for index, atoms in enumerate(frames):
        run = folder / f"frame{index}"
        (run / "RestartInitial" / "System_0").mkdir(parents=True, exist_ok=True)
        for name, text in force_field.items():
            (run / name).write_text(text)
        for name in type_names:
            (run / f"{name}.def").write_text(MOLECULE.format(name=name))
        lengths, angles = atoms.cell.cellpar()[:3], atoms.cell.cellpar()[3:]
        text = INPUT.format(cutoff=cutoff, lengths=" ".join(f"{v:.12f}" for v in lengths),
                            angles=" ".join(f"{v:.12f}" for v in angles))
        for k, name in enumerate(type_names):
            text += (f"\nComponent {k} MoleculeName {name}\n            MoleculeDefinition Local\n"
                     f"            TranslationProbability 1.0\n            CreateNumberOfMolecules 0\n")
        (run / "simulation.input").write_text(text)
        (run / "RestartInitial" / "System_0" / "restart_Box_1.1.1_300.000000_0").write_text(
            _restart(atoms, type_names))
        done = subprocess.run([simulate_binary(), "simulation.input"], cwd=run, capture_output=True, text=True,
                              timeout=120)
        outputs = list((run / "Output" / "System_0").glob("output_*.data"))
        assert done.returncode == 0 and outputs, f"RASPA failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        report = outputs[0].read_text()
        initial = report[report.index("Current (initial full energy) Energy Status"):]
        vdw = re.search(r"Adsorbate/Adsorbate VDW energy:\s+(\S+)", initial)
        tail = re.search(r"Tail-correction energy:\s+(\S+)", initial)  # reported apart, zero without
        assert vdw and tail, f"no initial adsorbate/adsorbate VDW or tail-correction energy in {outputs[0]}"
        energies.append(float(vdw.group(1)) + float(tail.group(1)))
    return np.array(energies) * energy_factor("K")
