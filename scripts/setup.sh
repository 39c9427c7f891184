#!/usr/bin/env bash
# Install everything Scellé needs on a fresh Debian machine, idempotently:
#   system packages (the reference `age` tool for interop tests, libfaketime
#   for the clock-jump fault tests, nginx for the transfer benchmark, Debian's
#   chromium for the browser tests, the DejaVu fonts the PDF letters embed, gcc
#   and the Python headers for the scanner's C loop), the
#   Python virtualenv from the hashed lock file, the web UI's browser bundle
#   (web/: npm ci + esbuild, from web/package-lock.json), and the npm packages
#   the tus interop and SSO tests run.
# Usage: scripts/setup.sh [--runtime-only]
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_only=0
[ "${1:-}" = "--runtime-only" ] && runtime_only=1

log() { printf '==> %s\n' "$*" >&2; }

need_apt=()
if [ "$runtime_only" = 0 ]; then
    command -v age >/dev/null 2>&1 || need_apt+=(age)
    command -v faketime >/dev/null 2>&1 || need_apt+=(faketime)
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
    [ -x /usr/bin/chromium ] || need_apt+=(chromium)
fi
# node and npm build the web UI's bundle, which the server itself serves.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The scanner's inner loop is C (src/scelle/subjects/_fastscan.c): a compiler and
# the headers of the Python that makes .venv.
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
"${PYTHON:-python3}" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || need_apt+=(python3-dev)
# The PDF letters and notices embed DejaVu Sans (French accents and the rest of Unicode).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing system packages: ${need_apt[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq </dev/null
        apt-get install -y -qq --no-install-recommends "${need_apt[@]}" </dev/null >/dev/null
    else
        log "missing system packages: ${need_apt[*]} (install them with your package manager)"
        exit 1
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$PY" -m venv .venv
fi
lock=requirements/dev.lock
[ "$runtime_only" = 1 ] && lock=requirements/runtime.lock
stamp=.venv/.installed-$(sha256sum "$lock" pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    log "installing Python dependencies from $lock (hash-checked)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock" </dev/null
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . </dev/null
    rm -f .venv/.installed-*
    touch "$stamp"
fi
# The editable install compiles the C loop; compile it again when its source changed.
built=$(ls src/scelle/subjects/_fastscan*.so 2>/dev/null | head -n 1 || true)
if [ -z "$built" ] || [ src/scelle/subjects/_fastscan.c -nt "$built" ] || [ setup.py -nt "$built" ]; then
    log "compiling the scanner's C loop (src/scelle/subjects/_fastscan.c)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . </dev/null
fi

# The web UI bundle: installed from the lock (no scripts run beyond esbuild's own
# binary package) and rebuilt every time (under a second), so it matches web/src.
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    log "installing the web UI's npm packages (web/package-lock.json)"
    (cd web && npm ci --silent --no-audit --no-fund </dev/null)
fi
log "building the web UI bundle (src/scelle/server/static/app.js)"
(cd web && npm run --silent build </dev/null)

if [ "$runtime_only" = 0 ] && [ -f tests/integration/js/package-lock.json ] && [ ! -d tests/integration/js/node_modules ]; then
    log "installing npm packages for the tus-js-client interop test"
    (cd tests/integration/js && npm ci --silent --no-audit --no-fund </dev/null)
fi
if [ "$runtime_only" = 0 ] && [ -f tests/integration/oidc/package-lock.json ] && [ ! -d tests/integration/oidc/node_modules ]; then
    log "installing the OpenID Connect provider (oidc-provider) for the SSO tests"
    (cd tests/integration/oidc && npm ci --silent --no-audit --no-fund </dev/null)
fi
log "setup done"
