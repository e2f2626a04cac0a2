#!/usr/bin/env bash
# The README's start command: install TCP Editor (once) and start it; arguments go to `tcp-editor`.
#
# Which Python installs and runs it, first match wins:
#   1. $PYTHON, e.g. `PYTHON=venv/bin/python bash scripts/run.sh` (the venv need not be active);
#   2. the active virtual environment ($VIRTUAL_ENV);
#   3. ./.venv, if it exists;
#   4. python3 -- unless it is the system's own Python that pip may not install into (Debian,
#      Ubuntu: "externally-managed-environment"); then this script creates ./.venv and uses it.
# pip runs only when needed: when TCP Editor is not installed from this checkout in that Python,
# a dependency is missing, or pyproject.toml changed since the last install. Otherwise the editor
# starts at once. TCP_EDITOR_REINSTALL=1 forces the install.
set -euo pipefail
START_DIR="$PWD"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

venv_python() {  # the interpreter inside a virtual environment folder (Linux/macOS, Windows)
    if [ -x "$1/bin/python" ]; then echo "$1/bin/python"; elif [ -x "$1/Scripts/python.exe" ]; then
        echo "$1/Scripts/python.exe"; fi
}

if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -n "$(venv_python "$VIRTUAL_ENV")" ]; then
    PY="$(venv_python "$VIRTUAL_ENV")"
elif [ -n "$(venv_python .venv)" ]; then
    PY="$(venv_python .venv)"
else
    PY=python3
    if "$PY" - <<'EOF'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
EOF
    then
        echo "run.sh: $(command -v python3) is the system's Python (pip may not install into it);" \
             "creating a virtual environment in $ROOT/.venv" >&2
        if ! python3 -m venv .venv; then
            rm -rf .venv
            echo "run.sh: could not create the virtual environment. On Debian/Ubuntu install the venv module:" >&2
            echo "    sudo apt-get install python3-venv" >&2
            exit 1
        fi
        PY="$(venv_python .venv)"
    fi
fi
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac  # absolute (we cd back)

# Installed from this checkout, with its dependencies, for this pyproject.toml?
mkdir -p build
STAMP="build/run-sh-$(printf '%s' "$PY" | cksum | cut -d' ' -f1).stamp"
WANT="$(cksum < pyproject.toml)"
installed() {
    [ "${TCP_EDITOR_REINSTALL:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] || return 1
    (cd / && "$PY" -I - "$ROOT" <<'EOF'
import importlib.util, os, sys
root = os.path.realpath(sys.argv[1])
spec = importlib.util.find_spec("tcp_editor")
ok = spec is not None and spec.origin is not None and os.path.realpath(spec.origin).startswith(root + os.sep)
ok = ok and all(importlib.util.find_spec(m) for m in ("torch", "PySide6", "cv2", "safetensors", "numpy", "PIL"))
sys.exit(0 if ok else 1)
EOF
    )
}
if ! installed; then
    echo "run.sh: installing TCP Editor and its dependencies into $("$PY" -c 'import sys; print(sys.prefix)')" >&2
    "$PY" -m pip install -q torch==2.13.0 || "$PY" -m pip install -q torch   # CPU build where it is on disk
    "$PY" -m pip install -q -e .
    echo "$WANT" > "$STAMP"
fi

cd "$START_DIR"   # so that relative photo paths work
# `python -m tcp_editor` is `tcp-editor`; it works without activating the environment.
exec "$PY" -m tcp_editor "$@"
