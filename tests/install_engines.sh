#!/usr/bin/env bash
# Install the MD engines that the export tests run the exported files in:
#   OpenMM   PyPI `openmm` into the venv
#   GROMACS  Debian's `gromacs` (gmx, gmx_d) through apt-get
#   RASPA    PyPI `RASPA2` (its `simulate` binary and share folder) into the venv;
#            built from source (about 6 minutes; pip caches the wheel, so later
#            set-ups take seconds), in the background while the others install.
#
# usage:   bash tests/install_engines.sh /path/to/venv/bin/python
# exit:    always 0 unless called wrongly: an engine that cannot be installed
#          (no network, no apt, not root, a failed build) is reported on stderr
#          and the tests that need it skip with the reason.
# Idempotent: an engine already there is left as it is.
set -uo pipefail

OPENMM_VERSION=8.6.1
RASPA_VERSION=2.0.4

warn() { echo "install_engines.sh: WARNING: $*; its export tests will be skipped" >&2; }
log() { echo "install_engines.sh: $*" >&2; }

PY=${1:-}
if [ -z "$PY" ] || [ ! -x "$PY" ]; then
    echo "usage: $0 /path/to/venv/bin/python" >&2
    exit 2
fi

pipi() {
    "$PY" -m pip install --disable-pip-version-check --no-input -q "$@" >&2
}

has() { "$PY" -c "import importlib.metadata as m; m.version('$1')" >/dev/null 2>&1; }

# RASPA first, in the background: its build is the long one. It dies with this
# script (pdeathsig, and the trap for an ordinary exit).
raspa_pid=""
if has RASPA2; then
    log "RASPA2 already installed"
else
    log "pip install RASPA2==$RASPA_VERSION (a source build the first time; in the background)"
    death=()
    command -v setpriv >/dev/null 2>&1 && death=(setpriv --pdeathsig TERM)
    "${death[@]}" "$PY" -m pip install --disable-pip-version-check --no-input -q "RASPA2==$RASPA_VERSION" \
        >/dev/null 2>"${TMPDIR:-/tmp}/ljfit-raspa-install.$$.log" &
    raspa_pid=$!
    trap '[ -n "$raspa_pid" ] && kill "$raspa_pid" 2>/dev/null' EXIT
    trap 'exit 143' TERM INT
fi

if has openmm; then
    log "OpenMM already installed"
else
    log "pip install openmm==$OPENMM_VERSION"
    pipi "openmm==$OPENMM_VERSION" || warn "pip install openmm failed"
fi

if command -v gmx_d >/dev/null 2>&1 || command -v gmx >/dev/null 2>&1; then
    log "GROMACS already installed"
elif ! command -v apt-get >/dev/null 2>&1; then
    warn "apt-get not available: cannot install GROMACS"
else
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
    fi
    if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then
        warn "not root and no passwordless sudo: cannot apt-get install gromacs"
    else
        log "apt-get install gromacs"
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -qq >&2 || log "apt-get update failed (trying the install anyway)"
        $SUDO apt-get install -y -qq --no-install-recommends gromacs >&2 || warn "apt-get install gromacs failed"
    fi
fi

if [ -n "$raspa_pid" ]; then
    log "waiting for the RASPA2 build"
    if wait "$raspa_pid"; then
        log "RASPA2 installed"
    else
        warn "pip install RASPA2 failed ($(tail -n 1 "${TMPDIR:-/tmp}/ljfit-raspa-install.$$.log" 2>/dev/null))"
    fi
    raspa_pid=""
    rm -f "${TMPDIR:-/tmp}/ljfit-raspa-install.$$.log"
fi
exit 0
