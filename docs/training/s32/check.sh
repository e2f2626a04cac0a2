#!/bin/bash
# usage: check.sh ARM STEP -> evaluates keep/ARM-STEP (network output, --methods tcp) on both held-out pair sets,
# colour_bias and the border profile; appends to checks.txt
R=/work/main/runs/s32; A=$1; M=$R/keep/$A-$2.safetensors
mkdir -p $R/ev; cd /work/main
[ -f $M ] || { echo "no $M"; exit 1; }
for P in eval_regions eval; do
  tcp-editor eval --pairs data/$P/PAIRS.csv --weights $M --methods tcp --out $R/ev/$A-$2-$P -q --threads 1 > /dev/null 2>&1
  echo "$P $A-$2: $(grep '^| tcp ' $R/ev/$A-$2-$P/report.md)" >> $R/checks.txt
done
python3 scripts/colour_bias.py $M 2>/dev/null | tail -1 >> $R/checks.txt
python3 docs/training/s30/border_profile.py data/eval_regions/PAIRS.csv $M 2>/dev/null | tail -1 >> $R/checks.txt
