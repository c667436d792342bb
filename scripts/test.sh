#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest (slow and engine tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
