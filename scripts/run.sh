#!/usr/bin/env bash
# The README's start command: install TCP Editor and open it on the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -m pip install -q torch==2.13.0 || "$PY" -m pip install -q torch   # CPU build where it is on disk
"$PY" -m pip install -q -e .
exec tcp-editor "$@"
