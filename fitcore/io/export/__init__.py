"""Exports of fitted parameters for MD codes, one module per code: ``lammps``, ``openmm``, ``csv``.

Every export states the cutoff treatment, because codes differ: LAMMPS ``lj/cut``
truncates unless ``pair_modify shift yes``; ASE's LennardJones shifts by default;
OpenMM truncates (its switching function is something else again). What the exports
share (type pairs with parameters, element symbols, the cutoff note) is in ``common``.
"""
