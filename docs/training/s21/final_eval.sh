#!/bin/bash
# stage 21 final evaluation (run from /work/main after all arms stop)
set -x
R=runs/s21; K=$R/keep
A=$R/ca30/model-ema.safetensors; B=$R/ca30c4/model-ema.safetensors; S=$K/swapae-2500.safetensors; C=$K/cc32-1300.safetensors
python3 scripts/recon_eval.py $A $B $S $C $K/swapae-1300.safetensors --json $R/recon.json 2>&1 | grep PSNR | tee $R/recon.txt
python3 scripts/colour_bias.py $A $B $S 2>&1 | tail -3 | tee $R/colour_bias.txt
for set in eval eval_regions; do
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $A --baseline-weights $S --methods tcp,tcp_final,swapae,pixel,reinhard --out $R/evA_$set -q --threads 2 | tail -n 1
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $B --methods tcp,tcp_final,pixel --out $R/evB_$set -q --threads 2 | tail -n 1
done
for set in eval_regions eval; do python3 scripts/ssd_floor.py $A $B $S $C $K/swapae-1300.safetensors --pairs data/$set/PAIRS.csv 2>&1 | tail -6; done | tee $R/ssd_floor.txt
