#!/bin/bash
# stage 22, first part: measure the two arms' exported models (run from /work/main after both stop)
R=runs/s22
python3 scripts/recon_eval.py $R/ca30/model-ema.safetensors $R/swapae/model-ema.safetensors 2>&1 | grep PSNR | tee $R/recon.txt
for set in eval_regions eval; do python3 scripts/ssd_floor.py $R/ca30/model-ema.safetensors $R/swapae/model-ema.safetensors --pairs data/$set/PAIRS.csv --threads 2 2>&1 | tail -3; done | tee $R/ssd_floor.txt
