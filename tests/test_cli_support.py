"""Helpers and fixtures shared by the CLI tests (tests/test_cli*.py); no tests of its own.

The oracle files (tests/data/oracle_*.extxyz) hold LAMMPS lj/cut energies and forces
under Lorentz-Berthelot mixing, cutoff 8.5 Å, ``pair_modify shift yes``.
"""
import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from cli.main import main

DATA = Path(__file__).parent / "data"
CUBIC = DATA / "oracle_cubic.extxyz"
SLAB = DATA / "oracle_slab.extxyz"
ORACLE = ["--cutoff", "8.5", "--shift"]


def invoke(args, code: int = 0, **kwargs) -> Result:
    """Run ``ljfit ARGS`` in-process and assert its exit code (the message shows stderr and any exception)."""
    kwargs.setdefault("prog_name", "ljfit")
    result = CliRunner().invoke(main, [str(a) for a in args], **kwargs)
    detail = f"stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-2000:]}\nexception: {result.exception!r}"
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}\n{detail}"
    return result


def truth() -> dict:
    return json.loads((DATA / "oracle_cubic.truth.json").read_text())


def truth_params(cutoff=8.5, **extra) -> dict:
    """The oracle's parameters as an ljfit-params/1 object (eV, Å)."""
    t = truth()
    data = {"format": "ljfit-params/1", "potential": "lj", "mixing": "lorentz-berthelot", "cutoff": cutoff,
            "shift": t["shift"], "units": {"energy": "eV", "length": "angstrom"},
            "species": {name: dict(entry) for name, entry in t["params"].items()}}
    data.update(extra)
    return data


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, indent=1))
    return path


def frame_blocks(path: Path) -> list[list[str]]:
    """The frames of an XYZ file as lists of lines (count, comment, atoms)."""
    lines = path.read_text().splitlines()
    blocks, k = [], 0
    while k < len(lines) and lines[k].strip():
        n = int(lines[k])
        blocks.append(lines[k:k + 2 + n])
        k += 2 + n
    return blocks


def first_frames(src: Path, n: int, dst: Path, named: bool = False) -> Path:
    """The first ``n`` frames of ``src`` written to ``dst``; ``named`` adds name=<config> to each comment."""
    out = []
    for block in frame_blocks(src)[:n]:
        comment = block[1]
        if named:
            config = re.search(r"config=(\S+)", comment).group(1)
            comment += f" name={config}"
        out += [block[0], comment] + block[2:]
    dst.write_text("\n".join(out) + "\n")
    return dst


def scaled_energies(src: Path, dst: Path, divisor: float) -> Path:
    """``src`` with energy= and the forces columns divided by ``divisor`` (a change of energy unit)."""
    out = []
    for block in frame_blocks(src):
        comment = re.sub(r"energy=(\S+)", lambda m: f"energy={float(m.group(1)) / divisor!r}", block[1])
        atoms = []
        for line in block[2:]:
            f = line.split()
            atoms.append(" ".join(f[:4] + [repr(float(v) / divisor) for v in f[4:7]]))
        out += [block[0], comment] + atoms
    dst.write_text("\n".join(out) + "\n")
    return dst
