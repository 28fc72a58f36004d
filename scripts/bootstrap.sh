#!/usr/bin/env bash
# Set up everything vcsdk needs on a bare machine: system packages, a virtualenv in .venv,
# the package in editable mode and the dev dependency group. Safe to run again: it only
# reinstalls when pyproject.toml changed.
#   --for-tests         also install what only the tests need: the PostgreSQL server binaries and
#                       Chromium with a CJK font (scripts/test.sh passes it; the demo does not)
set -euo pipefail
for_tests=""
for arg in "$@"; do
  case "$arg" in
    --for-tests|--with-postgresql) for_tests=1 ;;
    *) echo "usage: scripts/bootstrap.sh [--for-tests]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------
apt_needed=()
command -v python3 >/dev/null 2>&1 || apt_needed+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_needed+=(python3-venv)
# zbar (QR scanning via pyzbar) and cairo (SVG rasterising in the tests)
ldconfig -p 2>/dev/null | grep -q 'libzbar\.so\.0' || apt_needed+=(libzbar0)
ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2' || apt_needed+=(libcairo2)
# the compiled fast lane (vcsdk/_native, built by cffi): a C compiler, Python's headers, and
# libsodium and zlib with their headers. Without them the package still installs (pure lane).
command -v cc >/dev/null 2>&1 || apt_needed+=(gcc libc6-dev)
python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  2>/dev/null || apt_needed+=(python3-dev)
[ -f /usr/include/sodium.h ] || apt_needed+=(libsodium-dev)
[ -f /usr/include/zlib.h ] || apt_needed+=(zlib1g-dev)
# PostgreSQL server binaries: the registry tests start a throwaway cluster of their own
if [ -n "$for_tests" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_needed+=(postgresql)
  # Chromium for the browser tests of the web pages (driven by Playwright, never its own download)
  # and a CJK font so that Hangul renders in their screenshots
  [ -x /usr/bin/chromium ] || apt_needed+=(chromium)
  ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || apt_needed+=(fonts-noto-cjk)
fi
# npm: the web pages' static assets (KRDS, axe-core) come from the npm registry
command -v npm >/dev/null 2>&1 || apt_needed+=(npm)
if ((${#apt_needed[@]})); then
  log "installing system packages: ${apt_needed[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  # Install without starting services (no init system here; the tests start what they need).
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${apt_needed[@]}"
  [ -z "$created_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

# --- Python environment ----------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.vcsdk-installed
# pyproject.toml, setup.py and the C sources of vcsdk/_native: an edited .c rebuilds the extension
# (and whether its headers are there: installing them later rebuilds a module that failed before)
want=$( (cat pyproject.toml setup.py $(ls vcsdk/_native/*.c vcsdk/_native/*.h vcsdk/_native/build_*.py 2>/dev/null)
         ls /usr/include/sodium.h /usr/include/zlib.h 2>/dev/null) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing vcsdk and its dev dependencies into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e . --group dev
  echo "$want" > "$stamp"
fi
# One line on the fast lane: compiled, or pure Python and why (a failed C build is not an error)
log "fast lane: $(.venv/bin/python -c 'from vcsdk import _native; print(_native.lane())' 2>&1 | tail -n 1)"

# --- web assets (npm registry): KRDS served by the web pages, axe-core for their browser tests --
assets=vcsdk/service/web/assets
web_stamp=$assets/node_modules/.vcsdk-installed
web_want=$(sha256sum "$assets/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_want" ]; then
  log "installing web assets (krds-uiux, axe-core) with npm ci"
  (cd "$assets" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$web_want" > "$web_stamp"
fi
