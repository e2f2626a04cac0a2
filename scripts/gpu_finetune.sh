#!/usr/bin/env bash
# One prepared device run: fine-tune BOTH demo models (TCP and the SwapAE baseline) side by side on
# one CUDA GPU with the same budget, starting from the shipped weights, and collect what a session
# needs to ship them (exported EMA weights, logs, the last sample sheets) in one folder.
#
#   bash scripts/gpu_finetune.sh [MINUTES] [OUT_DIR]        (defaults: 7 minutes, $OUT or runs/gpu)
#
# Needs the demo data at data/demo/train (tcp-editor data demo --out data/demo/train; 20 MB, so it
# can travel with the working tree). Runs from the source tree with PYTHONPATH (nothing to install:
# the trainer needs torch, numpy, opencv, safetensors and pillow only). Environment overrides:
# DEVICE (default cuda), BATCH (default 16), SEED (default 2), TCP_EVERY (default 4, as the shipped
# runs), EXTRA (more trainer arguments for both runs), PRESET (e.g. lite128: train both from scratch
# with that preset instead of fine-tuning the shipped weights; e.g. EXTRA="--perceptual 1"). Exit code 0 only when both runs exported a model.
# OUT_DIR receives 8 files (two models, training logs, log.csv files and last sample sheets), which is
# what the device tool brings back from $OUT. A device call, for example:
#   run(command="bash scripts/gpu_finetune.sh 7", carry=["data/demo/train"], timeout_s=540)
#
# Afterwards, on the development machine: copy OUT/tcp-demo128.safetensors and
# OUT/swapae-demo128.safetensors into weights/, then re-run the evaluation, scripts/make_figure.py
# and scripts/gui_screenshots.py and update weights/README.md (README, "Results").
set -uo pipefail
cd "$(dirname "$0")/.."
MIN="${1:-7}"
OUTDIR="${2:-${OUT:-runs/gpu}}"
DEVICE="${DEVICE:-cuda}"
BATCH="${BATCH:-16}"
SEED="${SEED:-2}"
TCP_EVERY="${TCP_EVERY:-4}"
DATA=data/demo/train
mkdir -p "$OUTDIR"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"

[[ -d "$DATA" ]] || { echo "no $DATA: run 'tcp-editor data demo --out $DATA' first" >&2; exit 2; }
"$PY" - "$DEVICE" <<'EOF' 2>&1
import sys, torch
dev = sys.argv[1]
print("torch", torch.__version__, "| cuda available:", torch.cuda.is_available())
if dev.startswith("cuda"):
    if not torch.cuda.is_available():
        sys.exit("CUDA requested but torch sees no GPU")
    print("device:", torch.cuda.get_device_name(), "| memory GiB:",
          round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1))
EOF
[[ $? == 0 ]] || exit 2

pids=()
for m in tcp swapae; do
    flags=()
    [[ $m == swapae ]] && flags+=(--no-tcp-losses)
    rm -rf "runs/gpu-$m"
    # shellcheck disable=SC2086
    if [[ -n "${PRESET:-}" ]]; then start=(--preset "$PRESET"); else start=(--init "weights/$m-demo128.safetensors"); fi
    "$PY" -m tcp_core.train "$DATA" --out "runs/gpu-$m" "${start[@]}" --device "$DEVICE" \
        --max-minutes "$MIN" --steps 1000000 --batch-size "$BATCH" --seed "$SEED" --tcp-every "$TCP_EVERY" \
        --sample-every 500 --checkpoint-every 1000 --log-every 50 "${flags[@]}" ${EXTRA:-} \
        > "$OUTDIR/$m-train.log" 2>&1 &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done

for m in tcp swapae; do
    run="runs/gpu-$m"
    if [[ -f "$run/model-ema.safetensors" ]]; then
        cp "$run/model-ema.safetensors" "$OUTDIR/$m-demo128.safetensors"
        cp "$run/log.csv" "$OUTDIR/$m-log.csv" 2>/dev/null
        last=$(ls "$run"/samples/*.png 2>/dev/null | tail -1)
        [[ -n "$last" ]] && cp "$last" "$OUTDIR/$m-samples.png"
        if [[ -f "$run/log.csv" ]]; then
            echo "$m: last log row (step,time_s,img_per_s,rec): $(tail -1 "$run/log.csv" | cut -d, -f1-4)"
        else
            echo "$m: exported ($(grep -o 'stopping at step [0-9]*' "$OUTDIR/$m-train.log" || echo 'no log rows'))"
        fi
    else
        echo "$m: no exported model; see $OUTDIR/$m-train.log" >&2
        tail -5 "$OUTDIR/$m-train.log" >&2
        rc=1
    fi
done
exit $rc
