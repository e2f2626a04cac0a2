#!/bin/bash
# stage 23 final evaluation, run from /work/main after the arms stop:
#   docs/training/s23/final_eval.sh A B S
# A = u3 (--ca-gan) at its last checkpoint; B = u2 (its matched control, same seed) at the same step;
# S = s0c (plain SwapAE) at the same total iteration count (step + 329).
set -x
R=runs/s23; A=$1; B=$2; S=$3; O=$R/ev; mkdir -p $O
python3 scripts/recon_eval.py $A $B $S weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors --json $O/recon.json 2>&1 | grep PSNR | tee $O/recon.txt
for set in eval eval_regions; do
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $A --baseline-weights $S --methods tcp,tcp_final,swapae,pixel,reinhard --out $O/evA_$set -q --threads 2 | tail -n 1
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $B --methods tcp,tcp_final --out $O/evB_$set -q --threads 2 | tail -n 1
done
for set in eval_regions eval; do python3 scripts/ssd_parts.py $A $B $S --pairs data/$set/PAIRS.csv --threads 2 2>&1 | tail -4; done | tee $O/ssd_parts.txt
python3 scripts/colour_bias.py $A $B $S weights/tcp-demo128.safetensors 2>&1 | tail -4 | tee $O/colour_bias.txt
