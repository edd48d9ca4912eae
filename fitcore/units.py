"""Units: everything inside fitcore is eV and Å; conversions live here, once.

Constants are CODATA 2018 (exact SI definitions of e, N_A, k_B; the hartree and bohr
from the 2018 adjustment).
"""
from dataclasses import dataclass

ELEMENTARY_CHARGE = 1.602176634e-19  # C, exact
AVOGADRO = 6.02214076e23  # 1/mol, exact
BOLTZMANN = 1.380649e-23  # J/K, exact
HARTREE_EV = 27.211386245988  # eV
BOHR_ANGSTROM = 0.529177210903  # Å

_J_PER_MOL_EV = 1.0 / (ELEMENTARY_CHARGE * AVOGADRO)  # 1 J/mol in eV

ENERGY_UNITS = {  # eV per unit
    "eV": 1.0,
    "kcal/mol": 4184.0 * _J_PER_MOL_EV,
    "kJ/mol": 1000.0 * _J_PER_MOL_EV,
    "hartree": HARTREE_EV,
    "K": BOLTZMANN / ELEMENTARY_CHARGE,  # epsilon/k_B in kelvin
}
LENGTH_UNITS = {  # Å per unit
    "angstrom": 1.0,
    "nm": 10.0,
    "bohr": BOHR_ANGSTROM,
}


def energy_factor(unit: str) -> float:
    """eV per ``unit``."""
    try:
        return ENERGY_UNITS[unit]
    except KeyError:
        raise ValueError(f"unknown energy unit {unit!r}; expected one of {', '.join(ENERGY_UNITS)}") from None


def length_factor(unit: str) -> float:
    """Å per ``unit``."""
    try:
        return LENGTH_UNITS[unit]
    except KeyError:
        raise ValueError(f"unknown length unit {unit!r}; expected one of {', '.join(LENGTH_UNITS)}") from None


@dataclass(frozen=True, kw_only=True)
class Units:
    """The units of a run's inputs and outputs; fitcore works in eV and Å and converts only through this."""
    energy: str = "eV"
    length: str = "angstrom"

    def __post_init__(self):
        energy_factor(self.energy), length_factor(self.length)  # unknown names fail here, once

    @property
    def energy_factor(self) -> float:
        """eV per energy unit."""
        return ENERGY_UNITS[self.energy]

    @property
    def length_factor(self) -> float:
        """Å per length unit."""
        return LENGTH_UNITS[self.length]

    @property
    def force(self) -> str:
        return f"{self.energy}/{self.length}"

    def parameter_factor(self, name: str) -> float:
        """eV or Å per unit of parameter ``name`` (sigmas are lengths, everything else energies)."""
        return self.length_factor if name.endswith(".sigma") else self.energy_factor

    def parameter_unit(self, name: str) -> str:
        return self.length if name.endswith(".sigma") else self.energy
