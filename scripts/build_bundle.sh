#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle of TCP Editor (dist/tcp-editor/) from editor.spec, then
# smoke-test the bundled program headless:
#   1. `tcp-editor --version`
#   2. `tcp-editor apply` on a test photo with a mask and a style (the bundled model in weights/
#      when there is one; otherwise a tiny model exported to a temp folder and passed as --weights),
#      and a bad photo giving exit code 2 with one line on stderr
#   3. `tcp-editor --train` for 2 steps of the tiny preset (checks the trainer's re-exec in a frozen program)
#   4. the GUI starting offscreen, loading its model and quitting (TCP_EDITOR_SMOKE_QUIT_MS)
#
#   bash scripts/build_bundle.sh              # build (into build/ and dist/, both git-ignored) + smoke tests
#   bash scripts/build_bundle.sh --no-build   # smoke-test an existing dist/tcp-editor
#   PYTHON=python3.11 bash scripts/build_bundle.sh
#
# Prints the bundle size and the build time. Exit code 0 only when the build and every smoke test pass.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="${PYTHON:-python3}"
BUILD=1
[[ "${1:-}" == "--no-build" ]] && BUILD=0

DIST="$ROOT/dist/tcp-editor"
EXE="$DIST/tcp-editor"
[[ -f "$EXE.exe" ]] && EXE="$EXE.exe"

if [[ $BUILD == 1 ]]; then
    if ! "$PY" -m PyInstaller --version >/dev/null 2>&1; then
        echo "installing PyInstaller..."
        "$PY" -m pip install -q "pyinstaller>=6"
    fi
    echo "PyInstaller $("$PY" -m PyInstaller --version), $("$PY" -c 'import torch; print("torch", torch.__version__)')"
    t0=$(date +%s)
    "$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$ROOT/dist" --workpath "$ROOT/build" \
        editor.spec
    t1=$(date +%s)
    BUILD_S=$((t1 - t0))
    EXE="$DIST/tcp-editor"
    [[ -f "$EXE.exe" ]] && EXE="$EXE.exe"
fi
[[ -x "$EXE" ]] || { echo "no bundle at $DIST (build it first)"; exit 1; }
SIZE_MB=$(du -sm "$DIST" | cut -f1)
NFILES=$(find "$DIST" -type f | wc -l)
echo "bundle: $DIST: ${SIZE_MB} MiB in ${NFILES} files${BUILD_S:+, built in ${BUILD_S} s}"

# ------------------------------------------------------------------------------------------------
# smoke tests, in a clean home (no user settings, no autosave, no Hugging Face cache)
SMOKE=$(mktemp -d "${TMPDIR:-/tmp}/tcp-bundle-smoke.XXXXXX")
trap 'rm -rf "$SMOKE"' EXIT
export HOME="$SMOKE/home" XDG_CONFIG_HOME="$SMOKE/config" XDG_DATA_HOME="$SMOKE/data" XDG_CACHE_HOME="$SMOKE/cache"
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1
unset TCP_EDITOR_WEIGHTS_DIR TCP_EDITOR_RESOURCES PYTHONPATH || true
mkdir -p "$HOME"
fail() { echo "SMOKE TEST FAILED: $*"; exit 1; }

# 1. --version
v=$("$EXE" --version) || fail "--version exited $?"
[[ "$v" == tcp-editor* ]] || fail "--version printed '$v'"
echo "ok  --version: $v"

# 2. apply
WARGS=()
if ls "$DIST"/_internal/weights/tcp-demo128.safetensors >/dev/null 2>&1 || \
   ls "$DIST"/weights/tcp-demo128.safetensors >/dev/null 2>&1; then
    echo "    using the bundled model weights/tcp-demo128.safetensors"
else
    "$PY" - "$SMOKE/tiny.safetensors" <<'EOF'
import sys
from tcp_core.networks.checkpoint import save_model
from tcp_core.editing.inference import TCPModel
save_model(sys.argv[1], TCPModel.from_config("tiny", device="cpu").net)
EOF
    WARGS=(--weights "$SMOKE/tiny.safetensors")
    echo "    no bundled model in weights/: using a tiny model file ($SMOKE/tiny.safetensors)"
fi
t0=$(date +%s)
"$EXE" apply tests/data/bad/ok_rgb.jpg --style resources/styles/dune.jpg --mask tests/data/bad/mask_half_size.png \
    --strength 0.9 -o "$SMOKE/out.png" --device cpu "${WARGS[@]}" 2>"$SMOKE/apply.err" \
    || fail "apply exited $?: $(cat "$SMOKE/apply.err")"
"$PY" - "$SMOKE/out.png" tests/data/bad/ok_rgb.jpg <<'EOF' || fail "apply wrote a wrong result"
import sys
import numpy as np
from tcp_core.io.imageio import load_image
out, src = load_image(sys.argv[1]), load_image(sys.argv[2])
assert out.size == src.size == (64, 48), (out.size, src.size)
assert not np.array_equal(out.rgb, src.rgb), "nothing was edited"
EOF
echo "ok  apply: $SMOKE/out.png ($(( $(date +%s) - t0 )) s)"
set +e
"$EXE" apply tests/data/bad/truncated.jpg --style resources/styles/dune.jpg --mask tests/data/bad/mask_full.png \
    -o "$SMOKE/bad.png" "${WARGS[@]}" 2>"$SMOKE/bad.err"
rc=$?
set -e
[[ $rc == 2 && $(grep -c . "$SMOKE/bad.err") == 1 && ! -e "$SMOKE/bad.png" ]] \
    || fail "a truncated photo gave exit code $rc and: $(cat "$SMOKE/bad.err")"
echo "ok  apply on a truncated photo: exit 2, '$(cut -c1-90 "$SMOKE/bad.err")...'"

# 3. --train (2 steps, tiny preset, on two photos and one broken file)
mkdir -p "$SMOKE/photos"
cp tests/data/bad/ok_rgb.png tests/data/bad/ok_rgb.jpg tests/data/bad/truncated.jpg "$SMOKE/photos/"
t0=$(date +%s)
"$EXE" --train "$SMOKE/photos" --out "$SMOKE/run" --preset tiny --steps 2 --batch-size 2 --sample-every 2 \
    --checkpoint-every 2 --log-every 1 --device cpu >"$SMOKE/train.log" 2>&1 \
    || fail "--train exited $?: $(tail -5 "$SMOKE/train.log")"
[[ -s "$SMOKE/run/model-ema.safetensors" ]] || fail "--train wrote no model: $(tail -5 "$SMOKE/train.log")"
grep -q "skipped 1 unreadable" "$SMOKE/train.log" || fail "--train did not list the broken file"
echo "ok  --train: 2 steps, $SMOKE/run/model-ema.safetensors ($(( $(date +%s) - t0 )) s)"

# 4. the GUI: starts offscreen, loads its model (bundled default, or the untrained fallback), quits
t0=$(date +%s)
set +e
TCP_EDITOR_SMOKE_QUIT_MS=1000 timeout 300 "$EXE" >"$SMOKE/gui.log" 2>&1
rc=$?
set -e
[[ $rc == 0 ]] && grep -q "gui smoke: ok" "$SMOKE/gui.log" || fail "GUI exited $rc: $(tail -20 "$SMOKE/gui.log")"
echo "ok  GUI: $(grep 'gui smoke: ok' "$SMOKE/gui.log" | cut -c1-160) ($(( $(date +%s) - t0 )) s)"

echo "bundle smoke tests passed: $DIST (${SIZE_MB} MiB${BUILD_S:+, build ${BUILD_S} s})"
