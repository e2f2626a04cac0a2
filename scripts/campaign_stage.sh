#!/usr/bin/env bash
# One stage of the training campaign (weights/README.md), the way every stage since 12 was run:
# a TCP arm and a SwapAE arm (the ablation baseline: the same levers, --no-tcp-losses) with equal
# budgets, side by side on one thread each, evaluated on the held-out split, recorded under
# docs/training/sN/, and shipped as the default models only when they beat the shipped ones.
#
#   bash scripts/campaign_stage.sh start  N TCP_INIT SWAPAE_INIT MINUTES [train options...]
#   bash scripts/campaign_stage.sh eval   N        held-out reconstruction + both pair sets
#   bash scripts/campaign_stage.sh blind  N        blind A/B panels, new TCP vs the shipped default
#   bash scripts/campaign_stage.sh record N        fp16 weights, hand-offs, configs, logs, reports, samples
#   bash scripts/campaign_stage.sh ship   N        make stage N the default models (after its blind A/B)
#
# TCP_INIT / SWAPAE_INIT: a hand-off (docs/training/sM/*-handoff-STEP.safetensors: networks, EMA
# and discriminators) or plain weights. The train options are added to both arms, e.g.
# `--seed 43` (TCP only: put TCP-only options in TCP_ARGS="..."); each arm starts from its file's own
# recipe when the file is a hand-off or a state (`arm_recipe`, scripts/campaign_recipe.sh). Each arm
# stops by itself after MINUTES with a checkpoint. Runs go to $RUNS/sN (default runs/, ignored by
# git); the arms run from a detached worktree ($RUNS/sN/code) so edits to the checkout cannot
# disturb them. Needs the demo data and the pair sets (README: "Evaluation").
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-$ROOT/runs}"
DATA="${DATA:-data/demo/train}"  # the training photos (`tcp-editor data demo --out data/demo/train`)
CMD="${1:-}"; N="${2:-}"
[ -n "$CMD" ] && [ -n "$N" ] || { sed -n 2,20p "$0"; exit 2; }
R="$RUNS/s$N"
D="docs/training/s$N"
PY="${PYTHON:-python3}"
# shellcheck source=scripts/campaign_recipe.sh
. "$ROOT/scripts/campaign_recipe.sh"
RECIPE=(--checkpoint-every 100 --sample-every 100 --threads 1)

last_state() { newest_state "$R/$1"; }  # newest complete training state of an arm
step_of() { basename "$1" .safetensors | sed 's/^state-0*//'; }

case "$CMD" in
start)
    TCP_INIT="$3"; SWAPAE_INIT="$4"; MINUTES="$5"; shift 5
    for f in "$TCP_INIT" "$SWAPAE_INIT"; do [ -f "$f" ] || { echo "no such file: $f" >&2; exit 2; }; done
    # every training photo of the demo list must be there: stage 16 trained on a stale 34-photo
    # folder of an older list without anyone noticing (re-make it with `tcp-editor data demo`)
    "$PY" - "$DATA" <<'EOF2' || exit 2
import sys
from tcp_core.data.demo import missing_photos
if missing := missing_photos(sys.argv[1]):
    sys.exit(f"{sys.argv[1]} lacks {len(missing)} training photos of the demo list (e.g. {missing[0]}): "
             f"run `tcp-editor data demo --out {sys.argv[1]}` first")
EOF2
    mkdir -p "$R"
    [ -d "$R/code" ] || git worktree add -q --detach "$R/code" HEAD
    ln -sfn "$ROOT/data" "$R/code/data"
    TCP_INIT="$(realpath "$TCP_INIT")"; SWAPAE_INIT="$(realpath "$SWAPAE_INIT")"
    cd "$R/code"
    arm_recipe "$TCP_INIT"; TCP_RECIPE=("${ARM_RECIPE[@]}")
    arm_recipe "$SWAPAE_INIT"; SWAPAE_RECIPE=("${ARM_RECIPE[@]}")
    # shellcheck disable=SC2086
    PYTHONPATH="$R/code" nohup "$PY" -m tcp_core.train "$DATA" --out "$R/tcp" --init "$TCP_INIT" "${TCP_RECIPE[@]}" \
        "${RECIPE[@]}" --max-minutes "$MINUTES" "$@" ${TCP_ARGS:-} > "$R/tcp.log" 2>&1 &
    PYTHONPATH="$R/code" nohup "$PY" -m tcp_core.train "$DATA" --out "$R/swapae" --init "$SWAPAE_INIT" \
        "${SWAPAE_RECIPE[@]}" "${RECIPE[@]}" --max-minutes "$MINUTES" --no-tcp-losses "$@" > "$R/swapae.log" 2>&1 &
    echo "stage $N: both arms started (logs $R/tcp.log, $R/swapae.log; code at $(git -C "$R/code" rev-parse --short HEAD))"
    ;;
eval)
    "$PY" scripts/recon_eval.py weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors \
        "$R/tcp/model-ema.safetensors" "$R/swapae/model-ema.safetensors" --json "$R/recon.json" 2>&1 \
        | grep PSNR | tee "$R/recon.txt"
    for set in eval eval_regions; do
        tcp-editor eval --pairs "data/$set/PAIRS.csv" --weights "$R/tcp/model-ema.safetensors" \
            --baseline-weights "$R/swapae/model-ema.safetensors" --methods tcp,tcp_final,swapae,pixel,reinhard \
            --out "$R/ev_$set" -q --threads 2 | tail -n 1
        sed -n 5,12p "$R/ev_$set/report.md"
    done
    ;;
blind)
    "$PY" "$ROOT/../shared/tools/ab_panels.py" data/eval_regions/PAIRS.csv "$R/blind" \
        --a "weights:$R/tcp/model-ema.safetensors" --b default --n 12 --seed 5
    echo "panels and JUDGE.md in $R/blind (key.json stays hidden from the judge); then:"
    echo "  $PY ../shared/tools/ab_panels.py --score $R/blind VERDICTS.txt"
    ;;
record)
    TS="$(last_state tcp)"; SS="$(last_state swapae)"
    [ -n "$TS" ] && [ -n "$SS" ] || { echo "no checkpoints under $R" >&2; exit 2; }
    T="$(step_of "$TS")"; S="$(step_of "$SS")"
    mkdir -p "$D"
    cp "$R/tcp/model-ema.safetensors" "$D/tcp-fine128-s$N-$T.safetensors"
    cp "$R/swapae/model-ema.safetensors" "$D/swapae-fine128-s$N-$S.safetensors"
    "$PY" scripts/handoff_state.py "$TS" "$D/tcp-handoff-$T.safetensors"
    "$PY" scripts/handoff_state.py "$SS" "$D/swapae-handoff-$S.safetensors"
    for arm in tcp swapae; do
        cp "$R/$arm/config.json" "$D/${arm}_config.json"; cp "$R/$arm/log.csv" "$D/${arm}_log.csv"
    done
    [ -f "$R/recon.txt" ] && cp "$R/recon.txt" "$D/recon.txt" && cp "$R/recon.json" "$D/recon_s$N.json"
    [ -f "$R/ev_eval/report.md" ] && cp "$R/ev_eval/report.md" "$D/eval_strokes.md"
    [ -f "$R/ev_eval_regions/report.md" ] && cp "$R/ev_eval_regions/report.md" "$D/eval_regions.md"
    "$PY" - "$R" "$N" "$T" "$S" <<'EOF'
import sys, cv2
r, n, t, s = sys.argv[1:]
for arm, st in (("tcp", int(t)), ("swapae", int(s))):
    im = cv2.imread(f"{r}/{arm}/samples/sample-{st:08d}.png")
    if im is None:
        print(f"no sample sheet at step {st} for {arm}"); continue
    cv2.imwrite(f"docs/figures/samples_{arm}_fine128_s{n}_step{st}.jpg", im, [cv2.IMWRITE_JPEG_QUALITY, 90])
EOF
    echo "recorded stage $N (TCP step $T, SwapAE step $S) in $D"
    ;;
ship)
    T="$(ls "$D"/tcp-fine128-s"$N"-*.safetensors | head -n 1)"; S="$(ls "$D"/swapae-fine128-s"$N"-*.safetensors | head -n 1)"
    cp "$T" weights/tcp-demo128.safetensors; cp "$S" weights/swapae-demo128.safetensors
    # the slider is fitted on the tuning split (training photos, stroke masks; README "Evaluation"),
    # then checked on both held-out pair sets
    [ -f data/tune/PAIRS.csv ] || "$PY" scripts/make_eval_pairs.py --holdout "$DATA" --out data/tune --seed 1
    "$PY" scripts/strength_curve.py --raw --write --pairs data/tune/PAIRS.csv 2>&1 | tail -n 3
    "$PY" scripts/strength_curve.py 2>&1 | tail -n 2
    "$PY" scripts/strength_curve.py --pairs data/eval_regions/PAIRS.csv 2>&1 | tail -n 2
    "$PY" tests/data/golden/make_golden.py
    "$PY" scripts/make_figure.py
    for set in eval eval_regions; do
        suffix=""; [ "$set" = eval_regions ] && suffix="_regions"
        tcp-editor eval --pairs "data/$set/PAIRS.csv" --weights weights/tcp-demo128.safetensors \
            --baseline-weights weights/swapae-demo128.safetensors --out "$R/ship_$set" -q --threads 2 | tail -n 1
        cp "$R/ship_$set/report.md" "docs/eval/report$suffix.md"; cp "$R/ship_$set/report.json" "docs/eval/report$suffix.json"
    done
    "$PY" -c "import cv2,sys; cv2.imwrite('docs/eval/contact_sheet.jpg', cv2.imread(sys.argv[1]), [cv2.IMWRITE_JPEG_QUALITY, 85])" \
        "$R/ship_eval/contact_sheet.png"
    "$PY" scripts/gui_screenshots.py --out "$R/shots" && cp "$R/shots"/*.png docs/screenshots/
    echo "shipped stage $N: update the model card's tables and README's results table by hand from the reports"
    ;;
*)
    sed -n 2,20p "$0"; exit 2
    ;;
esac
