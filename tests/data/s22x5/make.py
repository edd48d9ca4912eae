"""Writes the S22x5 interaction-energy sets shipped here, from ASE's copy of the published data.

    python tests/data/s22x5/make.py        (needs ase; run once, the files are committed)

Source: S22x5, CCSD(T)/CBS counterpoise-corrected interaction energies of the 22 dimers of
the S22 set (Jurecka, Sponer, Cerny, Hobza, Phys. Chem. Chem. Phys. 8, 1985 (2006)) at 0.9,
1.0, 1.2, 1.5 and 2.0 times the equilibrium intermolecular distance (Grafova, Pitonak, Rezac,
Hobza, J. Chem. Theory Comput. 6, 2365 (2010)), as ase.data.s22 holds them (energies in eV,
"interaction energies s22x5" of ase.data.s22, as published: not rescaled to the S22 value). One file per group of the
S22 paper: hydrogen-bonded (dimers 1-7), dispersion-bound (8-15) and mixed (16-22). Every
frame has name=<dimer>_<factor>, dimer=<dimer>, energy= (eV) and a fragment column (0: first
monomer).
"""
from pathlib import Path

import numpy as np

from ase import Atoms
from ase.data import s22
from ase.io import write

GROUPS = {"hbond": range(1, 8), "dispersion": range(8, 16), "mixed": range(16, 23)}
FACTORS = ("0.9", "1.0", "1.2", "1.5", "2.0")


def frames(numbers):
    for name in s22.s22:
        data = s22.data[name]
        if int(data["s26_number"]) not in numbers:
            continue
        first = data["dimer atoms"][0]
        for factor in FACTORS:
            atoms = Atoms(data["symbols"], positions=data[f"positions {factor}"])
            atoms.new_array("fragment", (np.arange(len(atoms)) >= first).astype(int))
            atoms.info = {"name": f"{name}_{factor}", "dimer": name,
                          "energy": s22.get_interaction_energy_s22x5(name, float(factor), correct_offset=False)}
            yield atoms


if __name__ == "__main__":
    here = Path(__file__).parent
    for group, numbers in GROUPS.items():
        write(here / f"s22x5_{group}.extxyz", list(frames(numbers)), format="extxyz")
