#!/bin/bash
# stage 24 final evaluation, run from /work/main after the arms stop:
#   docs/training/s24/final_eval.sh A B S T
# A = u8 (--rec-recolour 5) and B = u5 (its control, same seed and start) at the same step;
# S = s1r (SwapAE with --rec-recolour 5) and T = s0e (its control) at the same step.
set -x
R=runs/s24; A=$1; B=$2; S=$3; T=$4; O=$R/ev; mkdir -p $O
python3 scripts/recon_eval.py $A $B $S $T weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors --json $O/recon.json 2>&1 | grep PSNR | tee $O/recon.txt
for set in eval eval_regions; do
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $A --baseline-weights $S --methods tcp,tcp_final,swapae,pixel,reinhard --out $O/evA_$set -q --threads 2 | tail -n 1
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $B --baseline-weights $T --methods tcp,tcp_final,swapae --out $O/evB_$set -q --threads 2 | tail -n 1
done
python3 scripts/colour_bias.py $A $B $S $T weights/tcp-demo128.safetensors 2>&1 | tail -n 5 | tee $O/colour_bias.txt
