#!/bin/bash
# stage 24 final evaluation, run from /work/main after the arms stop:
#   docs/training/s24/final_eval.sh A B C S
# A, B, C = the TCP arms u5 (control), u6 (--d-edit 1), u7 (--ca-cooccur 1) at one step N (same seed, all from
# tcp-handoff-u4-600); S = s0e (plain SwapAE) at a matched total (u* at N = 7112 + N, s0e at M = 7183 + M).
set -x
R=runs/s24; A=$1; B=$2; C=$3; S=$4; O=$R/ev; mkdir -p $O
python3 scripts/recon_eval.py $A $B $C $S weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors --json $O/recon.json 2>&1 | grep PSNR | tee $O/recon.txt
for set in eval eval_regions; do
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $A --baseline-weights $S --methods tcp,tcp_final,swapae,pixel,reinhard --out $O/evA_$set -q --threads 2 | tail -n 1
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $B --methods tcp,tcp_final --out $O/evB_$set -q --threads 2 | tail -n 1
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights $C --methods tcp,tcp_final --out $O/evC_$set -q --threads 2 | tail -n 1
done
for set in eval_regions eval; do python3 scripts/ssd_parts.py $A $B $C $S --pairs data/$set/PAIRS.csv --threads 2 2>&1 | tail -5; done | tee $O/ssd_parts.txt
python3 scripts/colour_bias.py $A $B $C $S weights/tcp-demo128.safetensors 2>&1 | tail -5 | tee $O/colour_bias.txt
