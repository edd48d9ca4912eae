"""Target 4: `ljfit --help` (and each command's --help) under 0.3 s; none of them imports torch.

    python bench/bench_startup.py [--repeats 10]

Whole-process wall times (median), with `python -c pass` measured in the same run as
the floor of any Python command.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

LJFIT = Path(sys.executable).parent / "ljfit"


def median_wall(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    floor = median_wall([sys.executable, "-c", "pass"], args.repeats)
    print(f"python -c pass            {floor * 1e3:6.0f} ms")
    worst = 0.0
    for command in ([], ["inspect"], ["fit"], ["predict"], ["export"]):
        t = median_wall([str(LJFIT), *command, "--help"], args.repeats)
        worst = max(worst, t)
        print(f"ljfit {' '.join(command + ['--help']):20s} {t * 1e3:6.0f} ms")
    probe = subprocess.run([sys.executable, "-c", "import sys; from cli.main import main\n"
                            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
                            "print('torch' in sys.modules)"], capture_output=True, text=True, check=True)
    print(f"torch imported by --help: {probe.stdout.strip().splitlines()[-1]}")
    print(f"target < 300 ms: {'met' if worst < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
