#!/usr/bin/env bash
# The whole test suite from a bare machine: bootstrap, lint, type-check, tests (with branch
# coverage), the public conformance suites, and a short fuzz run.
# Extra arguments go to pytest (e.g. scripts/test.sh -k base45); they skip the coverage gate,
# the conformance runner and the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --for-tests
# CI builds the compiled fast lane: its tests (the "compiled" half of the lane fixture) must run,
# never skip. VCSDK_REQUIRE_NATIVE=0 allows a machine without a C toolchain (the pure lane only).
export VCSDK_REQUIRE_NATIVE=${VCSDK_REQUIRE_NATIVE:-1}
if [ "$VCSDK_REQUIRE_NATIVE" != 0 ] && ! .venv/bin/python -c 'from vcsdk import _native; raise SystemExit(not _native.available())'; then
  echo "!! the compiled fast lane is not built ($(.venv/bin/python -c 'from vcsdk import _native; print(_native.lane())')):" >&2
  echo "!! VCSDK_REQUIRE_NATIVE=1 requires it (scripts/bootstrap.sh installs the compiler and headers)" >&2
  exit 1
fi
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest (branch coverage)"; .venv/bin/python -m pytest --cov --cov-report= "$@"
[ $# -eq 0 ] || exit 0
echo "== coverage (branches)"
.venv/bin/coverage report --precision=1 | grep '^TOTAL'
# The security core is held at 100 % (docs/fuzzing.md, "Coverage"): codecs, status-list
# decoding, verification and the presentation code (holder side and gate side). The compiled
# lane's loader (verify/native.py) is measured in the total but not held here: which of its
# branches run depends on whether the extension is built on this machine.
.venv/bin/coverage report --precision=1 --show-missing --fail-under=100 \
  --include='vcsdk/codec/*,vcsdk/revocation/bitlist.py,vcsdk/revocation/token.py,vcsdk/verify/*,vcsdk/holder/*' \
  --omit='vcsdk/verify/native.py'
echo "== conformance"
vectors=${VCSDK_CONFORMANCE:-../shared/conformance}
if [ -d "$vectors" ]; then
  .venv/bin/vcsdk conformance --vectors "$vectors"
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! CONFORMANCE NOT CHECKED: $vectors is absent (RFC 9285, RFC 8032, COSE WG,"
  echo "!! IETF status list and Wycheproof suites did not run; their pytest cases were skipped)."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
echo "== fuzz (short budget; long runs: docs/fuzzing.md)"
.venv/bin/python -m fuzz.run --seconds 3
echo "== fuzz the compiled fast lane's C code under AddressSanitizer (20 s; long run: docs/fuzzing.md)"
.venv/bin/python -m fuzz.native --seconds 20
echo "== fuzz the Ed25519 batch verifier's C code under AddressSanitizer (20 s)"
.venv/bin/python -m fuzz.native_batch --seconds 20
