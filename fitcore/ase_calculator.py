"""An ASE calculator from a params file: energy, forces and stress of the fitted pair potential.

    from fitcore.ase_calculator import LJCalculator
    atoms.calc = LJCalculator.from_file("params.json")
    atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()

so that fitted parameters run in ASE's MD and optimisers directly. The model is the one
``ljfit predict`` evaluates (pair form, mixing, overrides, cutoff, shift, tail correction,
energy offsets), in numpy. For a pair with vector d from atom i to atom j (periodic images
included), r = |d|, and the form's terms of fitcore.potential:

    E = sum_pairs C_n e_n(r) - C_m e_m(r)  (+ tail + offsets)
    F_j = -F_i = (C_n f_n(r) - C_m f_m(r)) d
    stress = -(1/V) sum_pairs F_j (x) d  - P_tail I     (ASE's sign: positive under tension)

With the tail correction, E_tail = sum_ab N_a N_b / V (C_n t_n - C_m t_m) over ordered type pairs
(t_k = 2 pi rc^(3-k) / (k-3)), and the pressure of the pairs beyond rc by the virial route, as
LAMMPS has it: P_tail = sum_ab N_a N_b / (3 V^2) (n C_n t_n - m C_m t_m), from
-(2 pi / 3V^2) N_a N_b times the integral of r^3 u'(r) beyond rc. Stress needs a cell periodic in
x, y and z; the offsets change no force or stress.
"""
import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from .errors import InputError
from .neighbors import frame_pairs
from .params import LJParams
from .potential import pair_energy_terms, pair_force_terms, tail_terms


def site_type_names(symbols, n_sites: int) -> list[str]:
    """The first ``n_sites`` atoms named by element and position (C1, C2, O3, ...), the rest by element."""
    return [f"{s}{k + 1}" if k < n_sites else s for k, s in enumerate(symbols)]


def pair_evaluation(params: LJParams, positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray,
                    type_index: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """LJ energy (eV), forces [n_atoms, 3] eV/Å and virial sum_pairs F_j (x) d [3, 3] eV of one frame.

    positions [n_atoms, 3] Å, cell [3, 3] Å (rows), pbc [3] bool, type_index [n_atoms] into the layout's types.
    """
    rc, form = params.cutoff, params.form
    if rc is None and pbc.any():
        raise InputError("the parameters have no cutoff (cutoff: null), which only non-periodic structures allow")
    i, j, r, _, d = frame_pairs(positions, cell, pbc, rc)
    i, j = i.astype(np.int64), j.astype(np.int64)
    eps, sigma = params.pair_table()
    c_n, c_m = form.coefficients(eps, sigma)
    cn, cm = c_n[type_index[i], type_index[j]], c_m[type_index[i], type_index[j]]
    if np.isnan(cn).any():
        k = int(np.flatnonzero(np.isnan(cn))[0])
        raise InputError(f"mixing none, but the parameters have none for pair "
                         f"{params.layout.pair_name(type_index[i[k]], type_index[j[k]])}, which occurs in the structure")
    e_n, e_m = pair_energy_terms(r, form.exponents, rc if params.shift else None)
    f_n, f_m = pair_force_terms(r, form.exponents)
    pair_force = (cn * f_n - cm * f_m)[:, None] * d  # on atom j
    forces = np.zeros_like(positions)
    np.add.at(forces, j, pair_force)
    np.add.at(forces, i, -pair_force)
    return float(np.sum(cn * e_n - cm * e_m)), forces, pair_force.T @ d


def tail_energy_pressure(params: LJParams, type_index: np.ndarray, volume: float) -> tuple[float, float]:
    """E_tail (eV) and P_tail (eV/Å^3) of the pairs beyond the cutoff; see the module docstring."""
    counts = np.bincount(type_index, minlength=params.layout.n_types).astype(float)
    c_n, c_m = params.form.coefficients(*params.pair_table())
    (t_n, t_m), (n, m) = tail_terms(params.cutoff, params.form.exponents), params.form.exponents
    weight = np.outer(counts, counts)
    present = weight > 0  # types absent from the frame may have no parameters (mixing none)
    energy = np.sum(weight[present] * (c_n * t_n - c_m * t_m)[present]) / volume
    pressure = np.sum(weight[present] * (n * c_n * t_n - m * c_m * t_m)[present]) / (3 * volume ** 2)
    return float(energy), float(pressure)


def offset_energy(params: LJParams, symbols) -> float:
    """The fit's energy offsets: a constant, or one per atom of each species (eV)."""
    layout, offsets = params.layout, params.values[params.layout.n_lj:]
    if layout.offset == "constant":
        return float(offsets[0])
    if layout.offset == "per-species":
        return float(sum(value * list(symbols).count(s) for s, value in zip(layout.offset_species, offsets)))
    return 0.0


class LJCalculator(Calculator):
    """ASE calculator of a fitted pair potential; ``site_types`` as ljfit's --site-types N."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, params: LJParams, site_types: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.params, self.site_types = params, site_types

    @classmethod
    def from_file(cls, path: str, **kwargs) -> "LJCalculator":
        from .io.params_file import read_params
        return cls(read_params(path)[0], **kwargs)

    def type_index(self, atoms) -> np.ndarray:
        names = site_type_names(atoms.get_chemical_symbols(), self.site_types)
        known = {name: k for k, name in enumerate(self.params.layout.type_names)}
        missing = sorted(set(names) - set(known))
        if missing:
            raise InputError(f"no parameters for type(s) {', '.join(missing)} (the parameters cover "
                             f"{', '.join(known)})")
        return np.array([known[n] for n in names], dtype=np.int64)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms, params = self.atoms, self.params
        types = self.type_index(atoms)
        pbc, cell = np.asarray(atoms.pbc, bool), np.asarray(atoms.cell)
        periodic = bool(pbc.all())
        if "stress" in properties and not periodic:
            raise PropertyNotImplementedError("stress needs a cell periodic in x, y and z")
        energy, forces, virial = pair_evaluation(params, atoms.positions, cell, pbc, types)
        stress = -virial
        if params.tail:
            if not periodic:
                raise InputError("the tail correction needs a cell periodic in x, y and z")
            e_tail, p_tail = tail_energy_pressure(params, types, atoms.get_volume())
            energy += e_tail
            stress -= p_tail * atoms.get_volume() * np.eye(3)
        energy += offset_energy(params, atoms.get_chemical_symbols())
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}
        if periodic:
            s = stress / atoms.get_volume()
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
