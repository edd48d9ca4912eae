"""The force field files that `ljfit export --to raspa` writes, run in RASPA, reproduce `ljfit predict`.

RASPA comes from PyPI RASPA2 (tests/install_engines.sh, run by `make test`); without it the
engine tests skip. Names that RASPA could confuse (S and Si) get their own parameters.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from raspa_engine import raspa_energies, raspa_unavailable_reason, simulate_binary
from test_cli_support import invoke, write_json
from test_export_gromacs import CASES, SPECIES, frames, params_dict, predicted

from fitcore.io.export.raspa import raspa_files
from fitcore.io.params_file import params_from_dict
from fitcore.units import energy_factor

needs_raspa = pytest.mark.skipif(simulate_binary() is None, reason=raspa_unavailable_reason())

# S a prefix of Si: RASPA versions that match names as prefixes would give Si the S parameters
PREFIX_SPECIES = {"S": {"epsilon": 0.0120, "sigma": 3.55}, "Si": {"epsilon": 0.0030, "sigma": 3.80},
                  "O": {"epsilon": 0.0060, "sigma": 3.05}}


def exported(tmp_path, data) -> tuple[dict[str, str], str]:
    params_path = write_json(tmp_path / "params.json", data)
    invoke(["export", params_path, "--to", "raspa", "-o", tmp_path / "ff"])
    return {p.name: p.read_text() for p in (tmp_path / "ff").iterdir()}, params_path


@needs_raspa
@pytest.mark.parametrize("shift", [True, False])
@pytest.mark.parametrize("case", list(CASES))
def test_exported_files_reproduce_ljfit_predict_in_raspa(rng, tmp_path, case, shift):
    data = params_dict(**{**CASES[case], "shift": shift})
    force_field, params_path = exported(tmp_path, data)
    structures = frames(rng, n_frames=2)
    theirs = raspa_energies(structures, force_field, tuple(SPECIES), data["cutoff"], tmp_path / "raspa")
    ours = predicted(tmp_path, structures, params_path)
    assert np.all(np.abs(ours) > 1e-3)
    np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-9)  # eV; totals can cancel to ~0.05 eV


@needs_raspa
@pytest.mark.parametrize("pairs", [None, {"S-O": {"epsilon": 0.02, "sigma": 3.2}}])
def test_prefix_names_keep_their_own_parameters_in_raspa(rng, tmp_path, pairs):
    data = params_dict(pairs=pairs) | {"species": PREFIX_SPECIES}
    force_field, params_path = exported(tmp_path, data)
    structures = frames(rng, n_frames=2, species=tuple(PREFIX_SPECIES))
    theirs = raspa_energies(structures, force_field, tuple(PREFIX_SPECIES), data["cutoff"], tmp_path / "raspa")
    ours = predicted(tmp_path, structures, params_path)
    np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-9)  # eV; totals can cancel to ~0.05 eV
    swapped = params_dict(pairs=pairs) | {"species": {**PREFIX_SPECIES, "Si": PREFIX_SPECIES["S"]}}
    wrong = predicted(tmp_path, structures, write_json(tmp_path / "swapped.json", swapped))
    assert np.all(np.abs(wrong - theirs) > 1e-3 * np.abs(theirs))  # Si with S's parameters would show


def read_as_raspa(files: dict[str, str], names, prefix: bool) -> tuple[np.ndarray, np.ndarray]:
    """eps (K), sigma (Å) [n, n] as a RASPA reads the files: names compared without case, as prefixes
    (older versions) or whole (2.0.4), later lines overriding earlier ones. Test reader, not ljfit's."""
    def hits(pattern):
        return [k for k, n in enumerate(names)
                if (n.lower().startswith(pattern.lower()) if prefix else n.lower() == pattern.lower())]
    n = len(names)
    eps, sigma = np.full((n, n), np.nan), np.full((n, n), np.nan)
    mixing = files["force_field_mixing_rules.def"].splitlines()
    count = int(mixing[5])
    for line in mixing[7:7 + count]:
        name, kind, *values = line.split()
        for k in hits(name):
            eps[k, k], sigma[k, k] = (float(values[0]), float(values[1])) if kind == "lennard-jones" else (0, 0)
    rule = mixing[8 + count]
    for a in range(n):
        for b in range(n):
            if a != b:
                eps[a, b] = np.sqrt(eps[a, a] * eps[b, b])
                sigma[a, b] = (sigma[a, a] + sigma[b, b]) / 2 if rule == "Lorentz-Berthelot" else \
                    np.sqrt(sigma[a, a] * sigma[b, b])
    pairs = files["force_field.def"].splitlines()
    for line in pairs[5:5 + int(pairs[3])]:
        first, second, _, e, s = line.split()
        for a in hits(first):
            for b in hits(second):
                eps[a, b] = eps[b, a] = float(e)
                sigma[a, b] = sigma[b, a] = float(s)
    return eps, sigma


@pytest.mark.filterwarnings("ignore:type .* is not an element symbol")
@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text("SsiOo1", min_size=1, max_size=3), min_size=2, max_size=5,
                      unique_by=str.lower).filter(lambda ns: all(n.lower() != "unit" for n in ns)),
       mixing=st.sampled_from(["lorentz-berthelot", "geometric", "sixthpower"]),
       seed=st.integers(0, 2**16), n_overrides=st.integers(0, 3))
def test_every_type_keeps_its_parameters_whichever_way_raspa_matches(names, mixing, seed, n_overrides):
    rng = np.random.default_rng(seed)
    species = {n: {"epsilon": float(rng.uniform(0.001, 0.02)), "sigma": float(rng.uniform(2.5, 4.0))} for n in names}
    pairs = {}
    for _ in range(n_overrides):
        a, b = rng.choice(names, 2)
        if f"{b}-{a}" not in pairs:
            pairs[f"{a}-{b}"] = {"epsilon": float(rng.uniform(0.001, 0.02)), "sigma": float(rng.uniform(2.5, 4.0))}
    data = params_dict(mixing=mixing, pairs=pairs) | {"species": species}
    params = params_from_dict(data, "p.json")[0]
    files = raspa_files(params, "p.json")
    eps, sigma = params.pair_table()
    for prefix in (False, True):
        raspa_eps, raspa_sigma = read_as_raspa(files, names, prefix)
        np.testing.assert_allclose(raspa_eps * energy_factor("K"), eps, rtol=1e-9)
        np.testing.assert_allclose(raspa_sigma, sigma, rtol=1e-9)


@pytest.mark.parametrize("names, message", [
    (["O_", "Si"], "ends with '_'"), (["Unit", "Si"], "UNIT"), (["Si", "SI"], "differ only in case")])
def test_names_raspa_would_confuse_are_refused(tmp_path, names, message):
    data = params_dict() | {"species": {n: {"epsilon": 0.01, "sigma": 3.0} for n in names}}
    result = invoke(["export", write_json(tmp_path / "p.json", data), "--to", "raspa", "-o", tmp_path / "ff"],
                    code=1)
    assert result.stdout == "" and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ff").exists()


def test_raspa_needs_a_folder(tmp_path):
    params_path = write_json(tmp_path / "p.json", params_dict())
    result = invoke(["export", params_path, "--to", "raspa"], code=2)
    assert result.stdout == "" and "-o DIR" in result.stderr
    (tmp_path / "file").write_text("")
    result = invoke(["export", params_path, "--to", "raspa", "-o", tmp_path / "file"], code=2)
    assert "is a file" in result.stderr and (tmp_path / "file").read_text() == ""
    invoke(["export", params_path, "--to", "raspa", "-o", tmp_path / "missing" / "ff"], code=2)


def test_raspa_files_say_the_cutoff_and_its_treatment(tmp_path):
    data = params_dict(shift=False, cutoff=None)
    params_path = write_json(tmp_path / "p.json", data)
    result = invoke(["export", params_path, "--to", "raspa", "-o", tmp_path / "ff"], code=1)
    assert "--cutoff" in result.stderr and not (tmp_path / "ff").exists()
    invoke(["export", params_path, "--to", "raspa", "-o", tmp_path / "ff", "--cutoff", "12"])
    mixing = (tmp_path / "ff" / "force_field_mixing_rules.def").read_text().splitlines()
    assert "CutOffVDW 12" in mixing[0] and mixing[1] == "truncated" and mixing[3] == "no"
    atoms = (tmp_path / "ff" / "pseudo_atoms.def").read_text().splitlines()
    assert atoms[3].split()[:6] == ["Ar", "yes", "Ar", "Ar", "0", "39.948"]


@needs_raspa
@pytest.mark.parametrize("case", ["arithmetic-shift", "override"])
def test_tail_correction_in_raspa(rng, tmp_path, case):
    data = params_dict(**{**CASES[case], "shift": False}) | {"tail": True}
    force_field, params_path = exported(tmp_path, data)
    structures = frames(rng, n_frames=2)
    theirs = raspa_energies(structures, force_field, tuple(SPECIES), data["cutoff"], tmp_path / "raspa")
    ours = predicted(tmp_path, structures, params_path)
    np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-9)  # eV; totals can cancel to ~0.05 eV


def test_charges_of_the_params_file_go_to_pseudo_atoms_and_atomtypes(tmp_path):
    data = params_dict() | {"charges": {"Ar": 0.25, "Kr": -0.5, "Xe": 0.25}}
    params_path = write_json(tmp_path / "p.json", data)
    invoke(["export", params_path, "--to", "raspa", "-o", tmp_path / "ff"])
    rows = {line.split()[0]: line.split() for line in (tmp_path / "ff" / "pseudo_atoms.def").read_text().splitlines()[3:]}
    assert {name: float(row[6]) for name, row in rows.items()} == data["charges"]
    top = invoke(["export", params_path, "--to", "gromacs"]).stdout.splitlines()
    start = top.index("[ atomtypes ]") + 2
    assert {line.split()[0]: float(line.split()[3]) for line in top[start:start + 3]} == data["charges"]
