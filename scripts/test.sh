#!/usr/bin/env bash
# The whole test suite from a bare machine: bootstrap, lint, type-check, tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -k base45).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest "$@"
