"""One large periodic frame (issue 14, D8): peak memory and wall time of its reduction, in blocks
(ljfit inspect: 2 workers share the frame's blocks) against the whole frame in one process.

    ../.venv/bin/python bench_big_frame.py [--atoms 300763] [--cutoff 10]

The frame: argon at 0.0197 atoms/Å^3 (a jittered cubic lattice, cut to the number of atoms asked
for), written once to bench/data/. Peak memory is that of the process tree (psutil, every 20 ms).
"""
import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

DATA = Path(__file__).parent / "data"
LJFIT = Path(sys.executable).with_name("ljfit")
WHOLE = """
import sys
from fitcore.io.xyz import read_structures
from fitcore.moments import CutoffScheme, compute_moments
m = compute_moments(read_structures(sys.argv[1]), CutoffScheme(float(sys.argv[2])), max_atoms=10 ** 12)
print(int(m.pair_count.sum()))
"""


def frame_file(n_atoms: int, density: float = 0.0197, seed: int = 0) -> Path:
    path = DATA / f"argon_frame_{n_atoms}.extxyz"
    if path.exists():
        return path
    n_side = int(np.ceil(n_atoms ** (1 / 3)))
    box = (n_atoms / density) ** (1 / 3)
    spacing = box / n_side
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n_atoms]
    positions = (grid + 0.5) * spacing + rng.uniform(-0.25, 0.25, grid.shape) * spacing
    DATA.mkdir(exist_ok=True)
    header = f'{n_atoms}\nLattice="{box} 0 0 0 {box} 0 0 0 {box}" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
    body = "\n".join(f"Ar {x:.8f} {y:.8f} {z:.8f}" for x, y, z in positions)
    path.with_suffix(".tmp").write_text(header + body + "\n")
    path.with_suffix(".tmp").rename(path)
    return path


def measure(command: list[str]) -> tuple[float, float, float, str]:
    """Wall time (s), CPU time of all its processes (s), peak RSS of the process tree (MB), stdout."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process] + process.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    out = process.stdout.read()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return wall, used, peak / 2 ** 20, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--atoms", type=int, default=300_763)
    parser.add_argument("--cutoff", type=float, default=10.0)
    args = parser.parse_args()
    path = frame_file(args.atoms)
    blocks = measure([str(LJFIT), "inspect", str(path), "--cutoff", str(args.cutoff), "--format", "json", "-q"])
    whole = measure([sys.executable, "-c", WHOLE, str(path), str(args.cutoff)])
    print(f"one frame of {args.atoms} atoms, cutoff {args.cutoff:g} Å, {int(whole[3])} pairs")
    print("                                  wall      CPU   peak RSS (all processes)")
    for name, (wall, used, peak, _) in (("whole frame, 1 process", whole), ("ljfit inspect, blocks, 2 workers", blocks)):
        print(f"{name:32s} {wall:6.2f} s {used:6.2f} s  {peak:6.0f} MB")


if __name__ == "__main__":
    main()
