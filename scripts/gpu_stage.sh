#!/usr/bin/env bash
# A campaign stage on a lent GPU machine (the `device` tool; weights/README.md "Training on a GPU"):
# the arms of a stage side by side on the one GPU, each its own process with the same wall-clock
# budget (equal budgets, as on the CPU), from hand-offs; what comes back is each arm's hand-off
# and one archive of configs, logs and sample sheets. Runs ON the device machine, from the
# repository root:
#
#   bash scripts/gpu_stage.sh MINUTES ARM=INIT[:options] ... -- [options for every arm]
#
#   ARM      a name (letters, digits, -): the run folder and the hand-off's name in $OUT
#   INIT     a hand-off or training state (.gpu/tcp-handoff.safetensors)
#   options  comma-separated extra train options of that arm, e.g. tcp:--ca-masks,mixed
#
# e.g.  bash scripts/gpu_stage.sh 7 tcp=.gpu/tcp.safetensors:--ca-masks,mixed \
#           swapae=.gpu/swapae.safetensors:--no-tcp-losses -- --lr 0.001 --seed 15
#
# Inputs travel in .gpu/ (ignored by git: the training photos pre-scaled to the trainer's
# 512 px store size, .gpu/train, and the hand-offs) and .whl/ (the EfficientNet-Lite0 weights
# wheel), both named in the call's `carry`. Fails fast: an arm that dies stops the others, so a
# broken call costs seconds of device time, not the whole budget. Locally, for a dry run:
# OUT=/tmp/gout DEVICE=cpu bash scripts/gpu_stage.sh 0.3 ...
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MINUTES="${1:?minutes}"; shift
ARMS=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ARMS+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
COMMON=("$@")
OUT="${OUT:?OUT must name the folder that comes back}"
DEVICE="${DEVICE:-cuda}"
DATA="${DATA:-.gpu/train}"
RUNS="${RUNS:-/tmp/gpu_runs}"
PY="${PYTHON:-python3}"
# shellcheck source=scripts/campaign_recipe.sh
. "$ROOT/scripts/campaign_recipe.sh"
RECIPE=(--checkpoint-every 500 --sample-every 500 --threads 4 --device "$DEVICE")
T0=$(date +%s)
say() { echo "[gpu_stage +$(( $(date +%s) - T0 ))s] $*"; }

if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { say "wheel install failed"; exit 1; }
    export PYTHONPATH="/tmp/site:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
"$PY" - "$DEVICE" <<'EOF' || { say "environment check failed"; exit 1; }
import sys, torch
from tcp_core.networks import efficientnet
dev = sys.argv[1]
print("torch", torch.__version__, "| cuda available:", torch.cuda.is_available(), "| lite0 weights:", efficientnet.is_available())
if dev.startswith("cuda") and not torch.cuda.is_available():
    sys.exit("no CUDA device")
if not efficientnet.is_available():
    sys.exit("EfficientNet-Lite0 weights missing (carry .whl)")
EOF
mkdir -p "$RUNS" "$OUT"
PIDS=(); NAMES=()
for spec in "${ARMS[@]}"; do
    name="${spec%%=*}"; rest="${spec#*=}"
    init="${rest%%:*}"; opts=""
    [ "$rest" != "$init" ] && opts="${rest#*:}"
    [ -f "$init" ] || { say "no such init file for $name: $init"; exit 1; }
    IFS=',' read -r -a extra <<< "$opts"
    arm_recipe "$init"
    "$PY" -m tcp_core.train "$DATA" --out "$RUNS/$name" --init "$init" "${ARM_RECIPE[@]}" "${RECIPE[@]}" \
        --max-minutes "$MINUTES" "${COMMON[@]}" "${extra[@]}" > "$RUNS/$name.log" 2>&1 &
    PIDS+=($!); NAMES+=("$name")
    say "started $name (pid $!): --init $init ${COMMON[*]} ${extra[*]}"
done

# wait for every arm; one that fails stops the rest (fail fast, keep the device time)
failed=0; last_report=0
while :; do
    running=0
    for i in "${!PIDS[@]}"; do
        pid="${PIDS[$i]}"
        [ -z "$pid" ] && continue
        if kill -0 "$pid" 2>/dev/null; then running=$((running + 1)); continue; fi
        wait "$pid"; rc=$?
        say "${NAMES[$i]} finished, rc $rc"
        PIDS[$i]=""
        if [ "$rc" -ne 0 ]; then failed=1; tail -n 25 "$RUNS/${NAMES[$i]}.log"; fi
    done
    if [ "$failed" -ne 0 ]; then
        for pid in "${PIDS[@]}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
        wait; break
    fi
    [ "$running" -eq 0 ] && break
    now=$(date +%s)
    if [ $((now - last_report)) -ge 60 ]; then
        last_report=$now
        for n in "${NAMES[@]}"; do say "$n: $(grep -a 'step ' "$RUNS/$n.log" | tail -n 1)"; done
        nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null || true
    fi
    sleep 5
done

# what comes back: a hand-off per arm (newest state) and one archive of the small files
for n in "${NAMES[@]}"; do
    state="$(newest_state "$RUNS/$n")"
    if [ -n "$state" ]; then
        "$PY" scripts/handoff_state.py "$state" "$OUT/$n-handoff.safetensors"
    else
        say "$n: no checkpoint"
    fi
    mkdir -p "$RUNS/small/$n"
    cp "$RUNS/$n.log" "$RUNS/small/$n/stdout.log"
    cp "$RUNS/$n"/config.json "$RUNS/$n"/log.csv "$RUNS/small/$n/" 2>/dev/null
    for s in $(ls "$RUNS/$n/samples"/sample-*.png 2>/dev/null | sort | tail -n 2); do cp "$s" "$RUNS/small/$n/"; done
done
tar -czf "$OUT/runs.tgz" -C "$RUNS/small" .
ls -la "$OUT"
say "done (failed=$failed)"
exit "$failed"
