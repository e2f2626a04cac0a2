#!/bin/bash
# every minute: export the EMA model of each arm's states at multiples of 200 steps to keep/ARM-STEP
R=/work/main/runs/s32; mkdir -p $R/keep
while true; do
  for A in hx1 sl5; do
    for f in $R/$A/checkpoints/state-*.safetensors; do
      [ -f "$f" ] || continue
      n=$((10#$(basename $f .safetensors | sed 's/state-//')))
      [ $((n % 200)) -eq 0 ] || continue
      M=$R/keep/$A-$n.safetensors
      [ -f $M ] && continue
      sleep 5  # let the writer finish (states are written atomically anyway)
      cd /work/main && python3 -c "from pathlib import Path; from tcp_core.training.run import export_ema_model; export_ema_model(Path('$f'), Path('$M'))" 2>/dev/null
    done
  done
  sleep 60
done
