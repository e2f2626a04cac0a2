#!/bin/bash
# stage 22 (second part) final evaluation, run from /work/main after the arms stop.
# A = t1 (swap-content) at step TA; B = t2 (t1's state 900 + ca-colour) final; S = s1 (SwapAE + swap-content) at TA-486+...
set -x
R=runs/s22b; K=$R/keep
A=$1; B=$2; S=$3; O=$R/ev; mkdir -p $O
python3 scripts/recon_eval.py $A $B $S weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors --json $O/recon.json 2>&1 | grep PSNR | tee $O/recon.txt
for set in eval eval_regions; do
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $A --baseline-weights $S --methods tcp,tcp_final,swapae,pixel,reinhard --out $O/evA_$set -q --threads 2 | tail -n 1
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $B --methods tcp,tcp_final --out $O/evB_$set -q --threads 2 | tail -n 1
done
for set in eval_regions eval; do python3 scripts/ssd_parts.py $A $B $S --pairs data/$set/PAIRS.csv --threads 2 2>&1 | tail -4; done | tee $O/ssd_parts.txt
python3 scripts/colour_bias.py $A $B $S weights/tcp-demo128.safetensors 2>&1 | tail -4 | tee $O/colour_bias.txt
