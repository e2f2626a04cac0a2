#!/bin/bash
# usage: check.sh ARM STEP  -> exports the EMA model of runs/s30/ARM state STEP to keep/ARM-STEP, evaluates it
# (network output, --methods tcp) on both held-out pair sets, then colour_bias; appends to checks.txt
R=/work/main/runs/s30; A=$1; S=$(printf %08d $2); M=$R/keep/$A-$2.safetensors
mkdir -p $R/keep $R/ev
cd /work/main
[ -f $M ] || python3 -c "from pathlib import Path; from tcp_core.training.run import export_ema_model; export_ema_model(Path('$R/$A/checkpoints/state-$S.safetensors'), Path('$M'))" || exit 1
for P in eval_regions eval; do
  tcp-editor eval --pairs data/$P/PAIRS.csv --weights $M --methods tcp --out $R/ev/$A-$2-$P -q --threads 1 > /dev/null 2>&1
  echo "$P $A-$2: $(grep '^| tcp ' $R/ev/$A-$2-$P/report.md)" >> $R/checks.txt
done
python3 scripts/colour_bias.py $M 2>/dev/null | tail -1 >> $R/checks.txt
