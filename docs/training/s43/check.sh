#!/bin/bash
# check.sh ARM STEP: tuning-split numbers (network + export) and held-out reconstruction of runs/s43/keep/ARM-STEP
cd /work/main; A=$1; N=$2; M=runs/s43/keep/$A-$N.safetensors
[ -f $M ] || { echo "no $M"; exit 1; }
for P in tune_regions tune_artist; do
  tcp-editor eval --pairs data/$P/PAIRS.csv --weights $M --methods tcp,tcp_final --out runs/s43/ev/$P-$A-$N -q --threads 1 > /dev/null 2>&1
  echo "$P $A-$N: $(grep '^| tcp ' runs/s43/ev/$P-$A-$N/report.md)" >> runs/s43/checks.txt
  echo "$P $A-$N: $(grep '^| tcp_final ' runs/s43/ev/$P-$A-$N/report.md)" >> runs/s43/checks.txt
done
OMP_NUM_THREADS=1 python3 scripts/recon_eval.py $M 2>&1 | grep PSNR | sed "s|^|recon $A-$N: |" >> runs/s43/checks.txt
