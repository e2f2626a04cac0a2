#!/usr/bin/env bash
# Stage 47's measurements of a TCP / SwapAE pair (fp32, one thread each, held-out photos unless named tune*):
#   bash docs/training/s47/check.sh TCP.safetensors SWAPAE.safetensors OUT_DIR
set -euo pipefail
T=$1; S=$2; O=$3
mkdir -p "$O"
export OMP_NUM_THREADS=1
python3 docs/training/s47/graded_eval.py weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors "$T" "$S" \
    > "$O/graded.txt" &
python3 scripts/recon_eval.py "$T" "$S" > "$O/recon.txt" &
wait
for set in eval eval_regions; do   # the paper's ablation: the network's own edit, TCP against SwapAE
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights "$T" --baseline-weights "$S" --methods tcp,swapae \
      --out "$O/ablation_$set" -q --threads 1 --precision fp32 > /dev/null 2>&1 &
done
wait
for set in eval eval_regions eval_artist; do   # the export, against pixel compositing
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights "$T" --methods tcp,tcp_final,pixel \
      --out "$O/new_$set" -q --threads 1 --precision fp32 > /dev/null 2>&1 &
done
wait
cat "$O/graded.txt" "$O/recon.txt"
