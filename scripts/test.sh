#!/usr/bin/env bash
# Install the project with its test extras and run the test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q torch==2.13.0
python3 -m pip install -q -e ".[test]"
export QT_QPA_PLATFORM=offscreen
python3 -m pytest -q "$@"
