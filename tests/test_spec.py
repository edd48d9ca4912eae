"""The CLI's choice lists (fitcore.spec, free of numpy) name exactly what the library accepts."""
import subprocess
import sys

from fitcore import spec
from fitcore.potential import MIXING_ALIASES, MIXING_RULES


def test_mixing_choices_are_the_potential_rules():
    assert set(spec.MIXING_CHOICES) == set(MIXING_RULES) | {"arithmetic"}
    assert set(MIXING_ALIASES) - {"lb"} <= set(spec.MIXING_CHOICES)


def test_spec_imports_no_numpy():
    code = "import sys, fitcore.spec; print('numpy' in sys.modules, 'torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "False"]
