"""fit and predict start their workers before this process imports torch (so by fork, and while torch
loads): an import of the torch-side library ahead of load() in the command bodies would undo both."""
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "oracle_cubic.extxyz"
SPY = """
import sys, cli.loading
def spy(*args, **kwargs):
    print('torch' in sys.modules)
    raise SystemExit(0)
cli.loading.load = spy
from cli.main import main
main(sys.argv[1:])
"""


def test_command_bodies_import_no_torch():
    code = "import sys, cli.fitting, cli.predicting, cli.config, cli.loading, cli.render; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]


def test_torch_is_not_loaded_before_load(tmp_path):
    params = tmp_path / "p.json"
    params.write_text('{"format": "ljfit-params/1", "cutoff": 8.5, "species": {"Ar": {"epsilon": 0.01, "sigma": 3.4},'
                      ' "Kr": {"epsilon": 0.014, "sigma": 3.65}, "Xe": {"epsilon": 0.019, "sigma": 3.95}}}')
    for argv in (["fit", str(DATA), "--cutoff", "8.5"], ["predict", str(DATA), "--params", str(params)]):
        done = subprocess.run([sys.executable, "-c", SPY, *argv], capture_output=True, text=True)
        assert done.stdout.split() == ["False"], (argv, done.stderr)
