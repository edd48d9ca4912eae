"""The README's library example runs as printed and recovers the sample's parameters."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_library_example_runs():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The library"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    probe = code + "\nassert result.converged and result.energy.rmse < 1e-6, result.energy\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Ar.epsilon" in done.stdout
