"""Fixed-charge Coulomb term: against LAMMPS (stored oracle data and live runs), physics properties,
parameter recovery with charges, and the errors users can make.

Oracle data (tests/data/charged_*, LAMMPS with metal units, k_e = 14.399645 eV Å; ljfit uses CODATA
2018's 14.3996454784, 3e-8 relative more): lj/cut/coul/long + kspace_style ewald 1e-12 on triclinic
cells, and lj/cut/coul/cut fragment interaction energies of molecules.
"""
import json
import warnings

import numpy as np
import pytest
from lammps_oracle import lammps_available, lammps_energies_forces, lammps_unavailable_reason

from fitcore.coulomb import COULOMB_CONSTANT, CoulombOptions, coulomb_setup
from fitcore.errors import InputError, LjfitWarning
from fitcore.fitting import fit_dataset
from fitcore.io.inputs import load_dataset
from fitcore.io.params_file import params_from_dict
from fitcore.pipeline import featurize
from fitcore.predicting import predict_dataset
from fitcore.spec import FitOptions, FitSpec, ModelOptions

LAMMPS_K = 14.399645
ORACLES = {"charged_periodic": "all", "charged_molecular_int": "inter-fragment"}
live_lammps = pytest.mark.skipif(not lammps_available(), reason=f"LAMMPS unavailable: {lammps_unavailable_reason()}")


def reduce(dataset, model, with_forces):
    return featurize(dataset, model.scheme, model.scope, with_forces, model.coulomb)


def truth(data_dir, name):
    return json.loads((data_dir / f"{name}.truth.json").read_text())


def params_of(t):
    return params_from_dict({"format": "ljfit-params/1", "mixing": "lorentz-berthelot", "cutoff": t["cutoff"],
                             "shift": t["shift"], "species": t["params"]}, "truth")[0]


def oracle_prediction(data_dir, name, method="auto", with_forces=True):
    t = truth(data_dir, name)
    dataset = load_dataset([str(data_dir / f"{name}.extxyz")])
    model = ModelOptions(cutoff=t["cutoff"], shift=t["shift"], scope=ORACLES[name],
                         coulomb=CoulombOptions(method=method))
    with pytest.warns(LjfitWarning) if t["cutoff"] else _nothing():  # thin cells
        moments = reduce(dataset, model, with_forces)
    energies, forces = predict_dataset(dataset, moments, params_of(t), model, with_forces)
    return dataset, moments, model, energies, forces


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def lammps_units(dataset, moments, energies, forces):
    """Our prediction with LAMMPS' k_e instead of CODATA's (the Coulomb part rescaled)."""
    scale = LAMMPS_K / COULOMB_CONSTANT - 1
    return energies + scale * moments.coulomb, forces + scale * moments.coulomb_forces


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_energies_and_forces_match_lammps(data_dir, name):
    dataset, moments, _, energies, forces = oracle_prediction(data_dir, name)
    energies, forces = lammps_units(dataset, moments, energies, forces)
    assert np.max(np.abs(energies - dataset.energies)) <= 1e-6 * np.max(np.abs(dataset.energies))
    assert np.max(np.abs(forces - dataset.forces)) <= 1e-5 * np.max(np.abs(dataset.forces))


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_without_coulomb_the_prediction_is_far_off(data_dir, name):
    dataset, _, _, energies, _ = oracle_prediction(data_dir, name, method="none")
    assert np.max(np.abs(energies - dataset.energies)) > 0.1 * np.max(np.abs(dataset.energies))


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_lj_parameters_recovered_on_top_of_charges(data_dir, name):
    dataset, moments, model, _, _ = oracle_prediction(data_dir, name)
    t = truth(data_dir, name)
    result = fit_dataset(dataset, moments, model, FitSpec(forces=True), FitOptions())
    values = dict(zip(result.params.names, result.params.values))
    for species, entry in t["params"].items():
        for kind, value in entry.items():
            assert values[f"{species}.{kind}"] == pytest.approx(value, rel=1e-5)


def test_fitting_without_coulomb_gives_wrong_parameters(data_dir):
    dataset, moments, model, _, _ = oracle_prediction(data_dir, "charged_periodic", method="none")
    result = fit_dataset(dataset, moments, model, FitSpec(forces=True), FitOptions())
    values = dict(zip(result.params.names, result.params.values))
    assert max(abs(values[f"{s}.epsilon"] / e["epsilon"] - 1)
               for s, e in truth(data_dir, "charged_periodic")["params"].items()) > 0.5


# ---------------------------------------------------------------- properties

def ewald_energy(dataset, charges=None, accuracy=1e-10, scope="all", with_forces=False, cutoff=9.0):
    from dataclasses import replace
    if charges is not None:
        dataset = replace(dataset, extra={"initial_charges": charges})
    model = ModelOptions(cutoff=cutoff, scope=scope, coulomb=CoulombOptions(accuracy=accuracy))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "[0-9]+ of [0-9]+ frames have a periodic cell thinner", LjfitWarning)
        moments = reduce(dataset, model, with_forces)
    return moments.coulomb, moments.coulomb_forces


@pytest.fixture
def periodic(data_dir):
    return load_dataset([str(data_dir / "charged_periodic.extxyz")])


def test_ewald_is_independent_of_the_split(periodic):
    """A different accuracy changes g and kmax; the converged sum must not move."""
    tight, _ = ewald_energy(periodic, accuracy=1e-12)
    loose, _ = ewald_energy(periodic, accuracy=1e-9, cutoff=7.0)
    assert np.max(np.abs(tight - loose)) < 1e-6 * np.max(np.abs(tight))


def test_ewald_is_invariant_under_translation_and_image_shifts(periodic):
    from dataclasses import replace
    energies, _ = ewald_energy(periodic)
    moved = periodic.positions + np.array([1.3, -0.7, 2.9])
    shifted_image = moved.copy()
    first = periodic.frame_offsets[:-1]
    shifted_image[first] += periodic.cells[:, 0] - 2 * periodic.cells[:, 2]  # one atom per frame to another image
    for positions in (moved, shifted_image):
        other, _ = ewald_energy(replace(periodic, positions=positions))
        assert np.max(np.abs(other - energies)) < 1e-8 * np.max(np.abs(energies))


def test_ewald_forces_are_minus_the_gradient(periodic):
    from dataclasses import replace
    frame = replace(periodic, positions=periodic.positions[:54], frame_offsets=periodic.frame_offsets[:2],
                    cells=periodic.cells[:1], pbc=periodic.pbc[:1], energies=periodic.energies[:1],
                    weights=periodic.weights[:1], forces=periodic.forces[:54], names=periodic.names[:1],
                    sources=periodic.sources[:1], first_atom_line=periodic.first_atom_line[:1], info=periodic.info[:1],
                    extra={"initial_charges": periodic.extra["initial_charges"][:54]}, species_index=periodic.species_index[:54],
                    type_index=periodic.type_index[:54])
    _, forces = ewald_energy(frame, accuracy=1e-12, with_forces=True)
    h = 1e-5
    for atom, axis in ((0, 0), (7, 1), (31, 2)):
        plus, minus = frame.positions.copy(), frame.positions.copy()
        plus[atom, axis] += h
        minus[atom, axis] -= h
        e_plus, _ = ewald_energy(replace(frame, positions=plus), accuracy=1e-12)
        e_minus, _ = ewald_energy(replace(frame, positions=minus), accuracy=1e-12)
        assert -(e_plus[0] - e_minus[0]) / (2 * h) == pytest.approx(forces[atom, axis], abs=1e-6)


def test_fragment_interaction_is_all_minus_each_fragment(periodic):
    """Checked against three separate Ewald sums (the channel trick is not used by the reference)."""
    from dataclasses import replace
    fragments = (np.arange(periodic.n_atoms) % 54 >= 20).astype(np.int64)
    q = periodic.extra["initial_charges"]
    frag = replace(periodic, fragments=fragments)
    interaction, _ = ewald_energy(frag, scope="inter-fragment")
    whole, _ = ewald_energy(periodic)
    parts = [ewald_energy(periodic, charges=np.where(fragments == f, q, 0.0))[0] for f in (0, 1)]
    # a fragment alone: its own atoms only; zero charges elsewhere add nothing but change no pair term
    assert np.max(np.abs(interaction - (whole - parts[0] - parts[1]))) < 1e-8 * np.max(np.abs(whole))


def test_net_charge_warns_and_adds_the_background(periodic):
    from dataclasses import replace
    q = periodic.extra["initial_charges"] + 0.01
    with pytest.warns(LjfitWarning, match="net charge"):
        ewald_energy(replace(periodic, extra={"initial_charges": q}))


# ---------------------------------------------------------------- live LAMMPS

def random_frames(rng, n_frames, slab=False, n_atoms=24):
    from ase import Atoms
    frames, charges = [], []
    for _ in range(n_frames):
        if slab:
            cell = np.diag([13.0, 12.5, 14.0])  # LAMMPS: no slab correction with a triclinic box
        else:
            cell = np.diag(rng.uniform(11, 13, 3)) + np.triu(rng.uniform(-3, 3, (3, 3)), 1).T
        while True:  # no two atoms closer than 1.8 Å
            frac = rng.uniform(0.05, 0.95, (n_atoms, 3))
            if slab:
                frac[:, 2] = rng.uniform(0.3, 0.7, n_atoms)
            atoms = Atoms(rng.choice(["Na", "Cl", "Ar"], n_atoms), scaled_positions=frac, cell=cell,
                          pbc=[True, True, not slab])
            if atoms.get_all_distances(mic=True)[np.triu_indices(n_atoms, 1)].min() > 1.8:
                break
        q = np.array([{"Na": 0.7, "Cl": -0.7, "Ar": 0.0}[s] for s in atoms.get_chemical_symbols()])
        q[0] += 0.2 if len(frames) == 0 else 0.0  # one charged frame: the neutralising background
        frames.append(atoms)
        charges.append(q)
    return frames, charges


LJ = {"Na": (0.006, 2.6), "Cl": (0.011, 3.9), "Ar": (0.0104, 3.4)}


def pair_block(style, cutoff, slab=False):
    lines = [f"pair_style {style} {cutoff}", "pair_modify mix arithmetic shift no"]
    lines += [f"pair_coeff {k + 1} {k + 1} {e} {s}" for k, (e, s) in enumerate(LJ.values())]
    if style == "lj/cut/coul/long":
        lines += ["kspace_style ewald 1e-12"] + (["kspace_modify slab 3.0"] if slab else [])
    return "\n".join(lines)


def ljfit_prediction(frames, charges, cutoff, scope="all"):
    import ase.io
    import io
    from fitcore.io.xyz import read_structures
    for atoms, q in zip(frames, charges):
        atoms.set_initial_charges(q)
    buffer = io.StringIO()
    ase.io.write(buffer, frames, format="extxyz")
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".extxyz", delete=False) as handle:
        handle.write(buffer.getvalue())
    dataset = read_structures(handle.name)
    model = ModelOptions(cutoff=cutoff, scope=scope)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LjfitWarning)
        moments = reduce(dataset, model, True)
    species = {s: {"epsilon": e, "sigma": sg} for s, (e, sg) in LJ.items() if s in dataset.type_names}
    params = params_from_dict({"format": "ljfit-params/1", "mixing": "lorentz-berthelot", "cutoff": cutoff,
                               "shift": False, "species": species}, "test")[0]
    energies, forces = predict_dataset(dataset, moments, params, model, True)
    return lammps_units(dataset, moments, energies, forces)


def assert_close(ours, theirs):
    energies, forces = ours
    ref_e, ref_f = theirs
    assert np.max(np.abs(energies - ref_e)) <= 1e-6 * np.max(np.abs(ref_e))
    ref_f = np.concatenate(ref_f)
    assert np.max(np.abs(forces - ref_f)) <= 1e-5 * np.max(np.abs(ref_f))


@live_lammps
def test_triclinic_ewald_matches_live_lammps():
    rng = np.random.default_rng(3)
    frames, charges = random_frames(rng, 4)
    theirs = lammps_energies_forces(frames, pair_block("lj/cut/coul/long", 6.0), list(LJ), charges=charges)
    assert_close(ljfit_prediction(frames, charges, 6.0), theirs)


@live_lammps
def test_slab_ewald_matches_live_lammps_kspace_modify_slab():
    rng = np.random.default_rng(5)
    frames, charges = random_frames(rng, 3, slab=True)
    theirs = lammps_energies_forces(frames, pair_block("lj/cut/coul/long", 6.0, slab=True), list(LJ),
                                    charges=charges, fixed=True)
    assert_close(ljfit_prediction(frames, charges, 6.0), theirs)


@live_lammps
def test_molecules_match_live_lammps_coul_cut():
    rng = np.random.default_rng(7)
    frames, charges = random_frames(rng, 3)
    for atoms in frames:
        atoms.pbc = False
        atoms.cell = None
    charges = [q - q.mean() for q in charges]
    theirs = lammps_energies_forces(frames, pair_block("lj/cut/coul/cut", 40.0), list(LJ), charges=charges)
    assert_close(ljfit_prediction(frames, charges, None), theirs)


# ---------------------------------------------------------------- errors

def write(path, text):
    path.write_text(text)
    return str(path)


FRAME = ('2\nLattice="10 0 0 0 10 0 0 0 10" Properties=species:S:1:pos:R:3{col} energy=-1 pbc="T T T" name={name}\n'
         'Na 0 0 0{q0}\nCl 2.5 0 0{q1}\n')


def frame(name, charged=True):
    if charged:
        return FRAME.format(col=":initial_charges:R:1", name=name, q0=" 1.0", q1=" -1.0")
    return FRAME.format(col="", name=name, q0="", q1="")


def test_charges_missing_in_one_file_name_it(tmp_path):
    paths = [write(tmp_path / "a.extxyz", frame("a")), write(tmp_path / "b.extxyz", frame("b", charged=False))]
    dataset = load_dataset(paths)
    with pytest.raises(InputError, match=r"b.extxyz.*frame b.*no charges"):
        coulomb_setup(dataset, CoulombOptions())


def test_per_type_charges_missing_for_a_type(tmp_path):
    dataset = load_dataset([write(tmp_path / "a.extxyz", frame("a", charged=False))])
    with pytest.raises(InputError, match=r"a.extxyz:\d+ \(frame a, atom 2 Cl\) has no charge \(--charge gives Na\)"):
        coulomb_setup(dataset, CoulombOptions(charges=(("Na", 1.0),)))


def test_column_and_per_type_charges_must_agree(tmp_path):
    dataset = load_dataset([write(tmp_path / "a.extxyz", frame("a"))])
    assert coulomb_setup(dataset, CoulombOptions(charges=(("Na", 1.0), ("Cl", -1.0)))) is not None
    with pytest.raises(InputError, match="charge 1 in column 'initial_charges' but 0.5 from --charge"):
        coulomb_setup(dataset, CoulombOptions(charges=(("Na", 0.5), ("Cl", -1.0))))


def test_charge_key_must_name_a_column(tmp_path):
    dataset = load_dataset([write(tmp_path / "a.extxyz", frame("a"))])
    with pytest.raises(InputError, match="--charge-key q2: .*a.extxyz has no per-atom column 'q2'"):
        coulomb_setup(dataset, CoulombOptions(charge_key="q2"))


def test_ewald_on_a_molecule_and_skewed_slab_are_errors(tmp_path):
    molecule = '2\nProperties=species:S:1:pos:R:3:q:R:1 energy=-1 name=m\nNa 0 0 0 1\nCl 2.5 0 0 -1\n'
    dataset = load_dataset([write(tmp_path / "m.extxyz", molecule)])
    with pytest.raises(InputError, match="--coulomb ewald: frame m .* is not periodic"):
        coulomb_setup(dataset, CoulombOptions(method="ewald"))
    skewed = frame("s").replace('0 0 10"', '2 0 10"').replace('"T T T"', '"T T F"')
    dataset = load_dataset([write(tmp_path / "s.extxyz", skewed)])
    with pytest.raises(InputError, match="slab needs its non-periodic cell vector perpendicular"):
        coulomb_setup(dataset, CoulombOptions())


def test_coulomb_method_without_charges_is_an_error(tmp_path):
    dataset = load_dataset([write(tmp_path / "a.extxyz", frame("a", charged=False))])
    assert coulomb_setup(dataset, CoulombOptions()) is None
    with pytest.raises(InputError, match="--coulomb direct: the data has no charges"):
        coulomb_setup(dataset, CoulombOptions(method="direct"))


# ---------------------------------------------------------------- exports

def exported_params(t, ewald: bool, cutoff):
    data = {"format": "ljfit-params/1", "mixing": "lorentz-berthelot", "cutoff": cutoff, "shift": False,
            "species": t["params"], "charges": t["charges"],
            "coulomb": {"method": "auto", "accuracy": 1e-12, "ewald": ewald}}
    return params_from_dict(data, "test")[0]


@live_lammps
@pytest.mark.parametrize("name", sorted(ORACLES))
def test_lammps_export_with_charges_runs_in_lammps(data_dir, name):
    """The exported block (lj/cut/coul/long + ewald, or lj/cut/coul/cut, and set type charges) in LAMMPS
    gives LAMMPS' own energies of the oracle data: the whole system, not the interaction energy."""
    import ase.io

    from fitcore.io.export.lammps import lammps_block
    t = truth(data_dir, name)
    params = exported_params(t, ewald=t["cutoff"] is not None, cutoff=t["cutoff"])
    block = lammps_block(params, "metal", "test", cutoff=60.0)
    assert ("kspace_style ewald" in block) == (t["cutoff"] is not None)
    for k, type_name in enumerate(params.layout.type_names):
        assert f"set type {k + 1} charge {t['charges'][type_name]!r}" in block
    frames = ase.io.read(data_dir / f"{name}.extxyz", ":4")
    commands = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
    charges = [a.get_initial_charges() for a in frames]
    ref_e, ref_f = lammps_energies_forces(frames, commands, list(params.layout.type_names), charges=charges)
    dataset = load_dataset([str(data_dir / f"{name}.extxyz")])
    from dataclasses import replace
    dataset = replace(dataset, positions=dataset.positions[:dataset.frame_offsets[4]],
                      frame_offsets=dataset.frame_offsets[:5], cells=dataset.cells[:4], pbc=dataset.pbc[:4],
                      energies=dataset.energies[:4], weights=dataset.weights[:4], forces=None, names=dataset.names[:4],
                      sources=dataset.sources[:4], first_atom_line=dataset.first_atom_line[:4], info=dataset.info[:4],
                      extra={k: v[:dataset.frame_offsets[4]] for k, v in dataset.extra.items()},
                      species_index=dataset.species_index[:dataset.frame_offsets[4]],
                      type_index=dataset.type_index[:dataset.frame_offsets[4]],
                      fragments=None)
    model = ModelOptions(cutoff=t["cutoff"], coulomb=CoulombOptions(accuracy=1e-12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LjfitWarning)
        moments = reduce(dataset, model, True)
    energies, forces = lammps_units(dataset, moments, *predict_dataset(dataset, moments, params, model, True))
    assert np.max(np.abs(energies - ref_e)) <= 1e-6 * np.max(np.abs(ref_e))
    ref_f = np.concatenate(ref_f)
    assert np.max(np.abs(forces - ref_f)) <= 1e-5 * np.max(np.abs(ref_f))


def test_openmm_export_carries_the_charges(data_dir):
    import xml.etree.ElementTree as ET

    from fitcore.io.export.openmm import openmm_xml
    t = truth(data_dir, "charged_periodic")
    root = ET.fromstring(openmm_xml(exported_params(t, ewald=True, cutoff=9.0), "test"))
    atoms = {a.get("type"): float(a.get("charge")) for a in root.find("NonbondedForce")}
    assert atoms == t["charges"]
