"""Energies and forces from OpenMM (Reference platform, double precision) for an exported ForceField XML (test oracle).

OpenMM comes from PyPI (tests/install_engines.sh). The exported XML has atom types only;
``openmm_energies`` adds a one-atom residue template per type, so that every atom of a
frame is a residue of its type.
"""
import numpy as np

from fitcore.units import energy_factor, length_factor


def openmm_unavailable_reason() -> str | None:
    try:
        import openmm  # noqa: F401
    except ImportError as err:
        return f"OpenMM unavailable ({err}; PyPI openmm, see tests/install_engines.sh)"
    return None


def _residues(type_names) -> str:
    lines = ["<ForceField>", " <Residues>"]
    for name in type_names:
        lines += [f'  <Residue name="{name}">', f'   <Atom name="{name}" type="{name}"/>', "  </Residue>"]
    return "\n".join(lines + [" </Residues>", "</ForceField>"]) + "\n"


def openmm_energies(frames, xml: str, type_names, cutoff: float | None, folder) -> np.ndarray:
    """[n_frames] potential energies in eV of ASE ``frames`` (periodic in x, y, z, or not at all)."""
    return openmm_energies_forces(frames, xml, type_names, cutoff, folder)[0]


def _method(app, periodic: bool, cell: np.ndarray, cutoff: float | None, ewald_tolerance: float | None):
    """createSystem's nonbondedMethod: Ewald sums (PME for a triclinic cell: OpenMM's Ewald takes only
    rectangular boxes) when ``ewald_tolerance`` is given, else plain cutoffs, or none at all."""
    if periodic and ewald_tolerance is not None:
        return app.Ewald if np.allclose(cell, np.diag(np.diag(cell)), atol=0) else app.PME
    if periodic:
        return app.CutoffPeriodic
    return app.CutoffNonPeriodic if cutoff else app.NoCutoff


def openmm_energies_forces(frames, xml: str, type_names, cutoff: float | None, folder,
                           ewald_tolerance: float | None = None, charges=None) -> tuple[np.ndarray, list]:
    """Potential energies [n_frames] eV and forces (one [n_atoms, 3] eV/Å array per frame) of ASE ``frames``.

    ``ewald_tolerance``: periodic frames use Ewald (PME for triclinic cells) with this
    ewaldErrorTolerance. ``charges``: per-atom charges (one array per frame, e) set on the particles
    of every NonbondedForce, as the export's note for per-atom charges says to do."""
    import openmm
    from openmm import app, unit
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ljfit.xml").write_text(xml)
    (folder / "residues.xml").write_text(_residues(type_names))
    field = app.ForceField(str(folder / "ljfit.xml"), str(folder / "residues.xml"))
    to_ev = energy_factor("kJ/mol")
    energies, forces = [], []
    for k, atoms in enumerate(frames):
        topology = app.Topology()
        chain = topology.addChain()
        for symbol in atoms.get_chemical_symbols():
            residue = topology.addResidue(symbol, chain)
            topology.addAtom(symbol, app.Element.getBySymbol(symbol), residue)
        periodic = bool(atoms.pbc.all())
        cell = np.asarray(atoms.cell)
        if periodic:
            topology.setPeriodicBoxVectors(cell / 10 * unit.nanometer)
        extra = {"nonbondedCutoff": cutoff / 10 * unit.nanometer} if cutoff else {}
        if ewald_tolerance is not None:
            extra["ewaldErrorTolerance"] = ewald_tolerance
        system = field.createSystem(topology, nonbondedMethod=_method(app, periodic, cell, cutoff, ewald_tolerance),
                                    **extra)  # tail correction: the XML's
        if charges is not None:
            _set_charges(openmm, system, charges[k])
        context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
        context.setPositions(atoms.positions / 10 * unit.nanometer)
        if periodic:
            context.setPeriodicBoxVectors(*(cell / 10 * unit.nanometer))
        state = context.getState(getEnergy=True, getForces=True)
        energies.append(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) * to_ev)
        per_nm = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
        forces.append(np.asarray(per_nm) * to_ev * length_factor("angstrom") / length_factor("nm"))
    return np.array(energies), forces


def _set_charges(openmm, system, charges: np.ndarray) -> None:
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            for i, q in enumerate(charges):
                _, sigma, epsilon = force.getParticleParameters(i)
                force.setParticleParameters(i, float(q), sigma, epsilon)
