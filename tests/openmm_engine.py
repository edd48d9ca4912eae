"""Energies from OpenMM (Reference platform, double precision) for an exported ForceField XML (test oracle).

OpenMM comes from PyPI (tests/install_engines.sh). The exported XML has atom types only;
``openmm_energies`` adds a one-atom residue template per type, so that every atom of a
frame is a residue of its type.
"""
import numpy as np

from fitcore.units import energy_factor


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
    import openmm
    from openmm import app, unit
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ljfit.xml").write_text(xml)
    (folder / "residues.xml").write_text(_residues(type_names))
    field = app.ForceField(str(folder / "ljfit.xml"), str(folder / "residues.xml"))
    energies = []
    for atoms in frames:
        topology = app.Topology()
        chain = topology.addChain()
        for symbol in atoms.get_chemical_symbols():
            residue = topology.addResidue(symbol, chain)
            topology.addAtom(symbol, app.Element.getBySymbol(symbol), residue)
        periodic = bool(atoms.pbc.all())
        if periodic:
            topology.setPeriodicBoxVectors(np.asarray(atoms.cell) / 10 * unit.nanometer)
        method = app.CutoffPeriodic if periodic else (app.CutoffNonPeriodic if cutoff else app.NoCutoff)
        extra = {"nonbondedCutoff": cutoff / 10 * unit.nanometer} if cutoff else {}
        system = field.createSystem(topology, nonbondedMethod=method, **extra)  # tail correction: the XML's
        context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
        context.setPositions(atoms.positions / 10 * unit.nanometer)
        if periodic:
            context.setPeriodicBoxVectors(*(np.asarray(atoms.cell) / 10 * unit.nanometer))
        state = context.getState(getEnergy=True)
        energies.append(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))
    return np.array(energies) * energy_factor("kJ/mol")
