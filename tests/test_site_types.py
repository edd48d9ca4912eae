"""--site-types N: the first N atoms of every frame each get their own type (C1, O2, O3, ...)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from lammps_oracle import lammps_available, lammps_unavailable_reason
from test_cli_support import invoke

from fitcore.errors import InputError
from fitcore.io.inputs import assign_site_types
from fitcore.io.xyz import read_structures

MAKE = Path(__file__).parent.parent / "sample_data" / "per_site" / "make.py"


def sample_module():
    spec = importlib.util.spec_from_file_location("per_site_make", MAKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_frames(folder: Path, frames, energies=None) -> list[Path]:
    symbols = ["C", "O", "O"] + ["Cu"] * (len(frames[0]) - 3)
    paths = []
    for k, positions in enumerate(frames):
        comment = f"energy={float(energies[k])!r}" if energies is not None else "CO2 over a Cu patch"
        rows = "".join(f"{s} {float(x)!r} {float(y)!r} {float(z)!r}\n" for s, (x, y, z) in zip(symbols, positions))
        paths.append(folder / f"conf_{k:02d}.xyz")
        paths[-1].write_text(f"{len(symbols)}\n{comment}\n{rows}")
    return paths


def test_site_types_are_element_and_position(tmp_path):
    text = "4\nenergy=-1\nC 0 0 0\nO 0 0 1.2\nO 0 0 -1.2\nCu 0 3 0\n5\nenergy=-2\nC 0 0 0\nO 0 0 1.2\nO 0 0 -1.2\n" \
           "Cu 0 3 0\nCu 0 -3 0\n"
    (tmp_path / "a.xyz").write_text(text)
    dataset = assign_site_types(read_structures(str(tmp_path / "a.xyz")), 3)
    assert dataset.type_names == ("C1", "Cu", "O2", "O3")
    names = [dataset.type_names[t] for t in dataset.type_index]
    assert names == ["C1", "O2", "O3", "Cu", "C1", "O2", "O3", "Cu", "Cu"]
    with pytest.raises(InputError, match="--site-types 5: frame a:0 .* has only 4 atoms"):
        assign_site_types(read_structures(str(tmp_path / "a.xyz")), 5)


@pytest.mark.skipif(not lammps_available(), reason=f"LAMMPS unavailable: {lammps_unavailable_reason()}")
def test_per_site_fit_recovers_the_lammps_parameters(tmp_path):
    """Noise-free LAMMPS energies of the walk-through's sample generator: the fit gets each site's pair back."""
    make = sample_module()
    rng = np.random.default_rng(5)
    surf = make.surface()
    frames = [np.vstack([make.co2(rng, surf), surf]) for _ in range(14)]
    paths = write_frames(tmp_path, frames, make.lammps_energies(frames))
    out = tmp_path / "site.json"
    invoke(["fit", *paths, "--fragment-split", "3", "--interactions", "inter-fragment", "--site-types", "3",
            "--mixing", "none", "-o", out, "-q"])
    pairs = json.loads(out.read_text())["pairs"]
    assert set(pairs) == {"C1-Cu", "Cu-O2", "Cu-O3"}
    for name, (eps, sigma) in make.PAIRS.items():
        a, b = name.split("-")
        entry = pairs.get(name) or pairs[f"{b}-{a}"]
        assert entry["epsilon"] == pytest.approx(eps, rel=1e-6) and entry["sigma"] == pytest.approx(sigma, rel=1e-6)


def test_site_types_need_enough_atoms(tmp_path):
    (tmp_path / "a.xyz").write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    result = invoke(["inspect", tmp_path / "a.xyz", "--site-types", "3"], code=1)
    assert "--site-types 3" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    invoke(["inspect", tmp_path / "a.xyz", "--site-types", "0"], code=2)


def test_readme_walkthrough_on_the_sample(tmp_path):
    """The README's per-site walk-through, as printed: energies table, per-site fit, RASPA files."""
    sample = MAKE.parent
    table = tmp_path / "energies.csv"
    invoke(["energies", sample / "dft" / "*.xyz", "--name-format", "{stem}_extended", "-o", table, "-q"])
    assert table.read_text().splitlines()[:2] == ["name,energy", "conf_00_extended,-0.131497"]
    out = tmp_path / "site.json"
    invoke(["fit", sample / "structures" / "*.xyz", "--energies", table, "--fragment-split", "3",
            "--interactions", "inter-fragment", "--site-types", "3", "--mixing", "none", "-o", out, "-q"])
    truth = json.loads((sample / "truth.json").read_text())["pairs"]
    for name, entry in json.loads(out.read_text())["pairs"].items():
        a, b = name.split("-")
        expected = truth.get(name) or truth[f"{b}-{a}"]
        for kind in ("epsilon", "sigma"):
            assert abs(entry[kind] - expected[kind]) < 3 * entry[f"{kind}_stderr"]  # 1 meV noise: within 3 sigma
    invoke(["export", out, "--to", "raspa", "-o", tmp_path / "forcefield", "--cutoff", "12", "-q"])
    lines = (tmp_path / "forcefield" / "force_field.def").read_text().splitlines()
    assert [line.split()[:2] for line in lines[5:8]] == [["C1", "Cu"], ["Cu", "O2"], ["Cu", "O3"]]
