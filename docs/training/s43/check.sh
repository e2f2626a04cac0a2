#!/bin/bash
# check.sh ARM STEP: tuning-split numbers (network + export) and held-out reconstruction of runs/$STAGE/keep/ARM-STEP
# (STAGE defaults to s43; later stages call this script with their own)
cd /work/main; S=${STAGE:-s43}; A=$1; N=$2; M=runs/$S/keep/$A-$N.safetensors
[ -f $M ] || { echo "no $M"; exit 1; }
for P in tune_regions tune_artist; do
  tcp-editor eval --pairs data/$P/PAIRS.csv --weights $M --methods tcp,tcp_final --out runs/$S/ev/$P-$A-$N -q --threads 1 > /dev/null 2>&1
  echo "$P $A-$N: $(grep '^| tcp ' runs/$S/ev/$P-$A-$N/report.md)" >> runs/$S/checks.txt
  echo "$P $A-$N: $(grep '^| tcp_final ' runs/$S/ev/$P-$A-$N/report.md)" >> runs/$S/checks.txt
done
OMP_NUM_THREADS=1 python3 scripts/recon_eval.py $M 2>&1 | grep PSNR | sed "s|^|recon $A-$N: |" >> runs/$S/checks.txt
