"""The comment-line parse (fitcore/io/comment.py) against the parser it replaced, same run, same lines.

    python bench/bench_comment.py [--repeats 7] [--lines 2000]

Lines: the comment lines of frames written by ase.io.write (a cell, pbc, Properties with
forces, the energy; half of them with name/note/step info keys as well), libAtoms-style
lines with [ ] arrays and quoted keys (which the old parser could not read: timed for
the new one only) and free-text lines. Each parser runs over all lines of a kind, the
two alternating, --repeats times; the fastest pass of each, in microseconds per line. Target: the new
parser no slower than the old one on ASE-written lines (ratio <= 1.0).
"""
import argparse
import io
import re
import time

import numpy as np

from fitcore.io.comment import parse_key_values

# ---------------------------------------------------------------- the parser before issue 11 (commit e7fb644)
_OLD_PAIR = re.compile(
    r"""\s*(?P<key>[^\s="{}]+)
        (?:\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"|\{[^}]*\}|[^\s"{}]+))?
    |(?P<stray>\S)  # what no pair can start with: the comment is not key=value pairs""",
    re.X,
)
_OLD_ESCAPE = re.compile(r"\\(.)")


def old_parse_key_values(text: str) -> dict[str, str | bool] | None:
    pairs: dict[str, str | bool] = {}
    has_value = False
    for key, value, stray in _OLD_PAIR.findall(text):
        if stray:
            return None
        if not value:
            pairs[key] = True
            continue
        has_value = True
        if value.startswith('"'):
            value = _OLD_ESCAPE.sub(r"\1", value[1:-1]) if "\\" in value else value[1:-1]
        elif value.startswith("{"):
            value = value[1:-1]
        pairs[key] = value
    return pairs if has_value else None


# ---------------------------------------------------------------- lines


def ase_lines(n: int) -> list[str]:
    """Comment lines exactly as ase.io.write writes them."""
    import ase.io
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n):
        pbc = [(True, True, True), (True, True, False), (False, False, False)][k % 3]
        atoms = Atoms("Ar2", positions=rng.normal(0, 3, (2, 3)), cell=np.diag(rng.uniform(8, 12, 3)), pbc=pbc)
        if k % 2:
            atoms.info.update(name=f"frame {k}", note="relaxed, PBE", step=k, REF_energy=float(rng.normal()))
        atoms.calc = SinglePointCalculator(atoms, energy=float(rng.normal(-5, 1)), forces=rng.normal(0, 1, (2, 3)))
        frames.append(atoms)
    out = io.StringIO()
    ase.io.write(out, frames, format="extxyz")
    return out.getvalue().splitlines()[1::4]


def libatoms_lines(n: int) -> list[str]:
    return [f'Lattice=[[{k + 4}, 0, 0], [0, 4, 0], [0, 0, 4]] pbc=[T, T, F] "DFT energy"={-k}.5d0 '
            f's_a=[ "a, b", "c]" ] Properties=species:S:1:pos:R:3' for k in range(n)]


def free_lines(n: int) -> list[str]:
    return [f"step {k} Energy: -{k}.25 eV (converged)" for k in range(n)]


def per_line_us(parse, lines: list[str]) -> float:
    start = time.perf_counter()
    for line in lines:
        parse(line)
    return (time.perf_counter() - start) / len(lines) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    kinds = {"ASE-written": ase_lines(args.lines), "libAtoms [ ] arrays": libatoms_lines(args.lines),
             "free text": free_lines(args.lines)}
    assert all(old_parse_key_values(x) == parse_key_values(x) for x in kinds["ASE-written"])
    print(f"{'lines':<20} {'old µs/line':>12} {'new µs/line':>12} {'new/old':>8}")
    for kind, lines in kinds.items():
        old, new = [], []
        for _ in range(args.repeats):
            old.append(per_line_us(old_parse_key_values, lines))
            new.append(per_line_us(parse_key_values, lines))
        o, n = min(old), min(new)  # the least disturbed pass of each (the machine is shared)
        readable = kind != "libAtoms [ ] arrays"  # the old parser misreads these lines (values split into keys)
        print(f"{kind:<20} {o if readable else float('nan'):>12.2f} {n:>12.2f} "
              f"{n / o if readable else float('nan'):>8.2f}")
    print("target: new/old <= 1.0 on ASE-written lines")


if __name__ == "__main__":
    main()
