#!/bin/bash
# Background helpers for a CPU campaign stage whose arms train side by side in RUN (runs/sNN), each
# logging to RUN/ARM.stdout.log and writing RUN/ARM/checkpoints (see weights/README.md, "Reproduce").
#
#   bash scripts/stage_helpers.sh keep RUN ARM...         every minute: the EMA model of each state at a
#                                                         multiple of 200 steps -> RUN/keep/ARM-STEP.safetensors
#   bash scripts/stage_helpers.sh balance RUN TCP SWAPAE [OFF]
#                                                         pause the SwapAE arm while its step is more than
#                                                         OFF+10 ahead of the TCP arm's (OFF: SwapAE total minus
#                                                         TCP total at the start), so both reach equal totals;
#                                                         stops it when the TCP arm ends
#   bash scripts/stage_helpers.sh check RUN ARM STEP      held-out network numbers of RUN/keep/ARM-STEP (both pair
#                                                         sets), the colour gap and the border profile -> RUN/checks.txt
set -u
cmd=$1; R=$(readlink -f "$2"); shift 2
cd "$(dirname "$0")/.."
step_of() { grep -o "^step [0-9]*" "$R/$1.stdout.log" 2>/dev/null | tail -1 | cut -d' ' -f2; }
case $cmd in
keep)
  mkdir -p "$R/keep"
  while true; do
    for A in "$@"; do
      for f in "$R/$A"/checkpoints/state-*.safetensors; do
        [ -f "$f" ] || continue
        n=$((10#$(basename "$f" .safetensors | sed 's/state-//')))
        [ $((n % 200)) -eq 0 ] || continue
        M=$R/keep/$A-$n.safetensors
        [ -f "$M" ] && continue
        python3 -c "from pathlib import Path; from tcp_core.training.run import export_ema_model
export_ema_model(Path('$f'), Path('$M'))" 2>/dev/null
      done
    done
    sleep 60
  done ;;
balance)
  T=$1; S=$2; OFF=${3:-0}
  while pgrep -f -- "--out $R/$T " >/dev/null; do
    l=$(step_of "$T"); s=$(step_of "$S"); p=$(pgrep -f -- "--out $R/$S ")
    if [ -n "$p" ]; then
      if [ $((${s:-0})) -gt $((${l:-0} + OFF + 10)) ]; then kill -STOP $p; else kill -CONT $p; fi
    fi
    sleep 15
  done
  p=$(pgrep -f -- "--out $R/$S "); [ -n "$p" ] && kill -STOP $p
  echo "$T ended; $S stopped at step $(step_of "$S")" ;;
check)
  A=$1; N=$2; M=$R/keep/$A-$N.safetensors
  [ -f "$M" ] || { echo "no $M"; exit 1; }
  mkdir -p "$R/ev"
  for P in eval_regions eval; do
    tcp-editor eval --pairs data/$P/PAIRS.csv --weights "$M" --methods tcp --out "$R/ev/$A-$N-$P" -q --threads 1 \
      > /dev/null 2>&1
    echo "$P $A-$N: $(grep '^| tcp ' "$R/ev/$A-$N-$P/report.md")" >> "$R/checks.txt"
  done
  python3 scripts/colour_bias.py "$M" 2>/dev/null | tail -1 >> "$R/checks.txt"
  python3 docs/training/s30/border_profile.py data/eval_regions/PAIRS.csv "$M" 2>/dev/null | tail -1 >> "$R/checks.txt" ;;
*) echo "usage: see the header of $0"; exit 2 ;;
esac
