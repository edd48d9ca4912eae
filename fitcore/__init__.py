"""fitcore: fit Lennard-Jones parameters to reference energies and forces.

The library behind the ``ljfit`` command. Importing it is cheap: torch and scipy
are imported only by the modules that evaluate or fit the model.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ljfit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
