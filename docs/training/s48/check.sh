#!/usr/bin/env bash
# Stage 48's measurements of a TCP / SwapAE pair, one after another on one core (fp32; held-out photos):
#   bash docs/training/s48/check.sh TCP.safetensors SWAPAE.safetensors OUT_DIR
# stage 47's graded eval, reconstruction, the ablation and the export on the three held-out sets, plus the
# neutral-reference casts of the network's swap and of the export (neutral_eval.py, neutral_export.py).
set -euo pipefail
T=$1; S=$2; O=$3
mkdir -p "$O"
export OMP_NUM_THREADS=1
python3 docs/training/s47/graded_eval.py weights/tcp-demo128.safetensors "$T" "$S" > "$O/graded.txt"
python3 scripts/recon_eval.py "$T" "$S" > "$O/recon.txt"
python3 docs/training/s48/neutral_eval.py weights/tcp-demo128.safetensors "$T" > "$O/neutral_swap.txt"
python3 docs/training/s48/neutral_export.py weights/tcp-demo128.safetensors "$T" > "$O/neutral_export.txt"
for set in eval eval_regions; do   # the paper's ablation: the network's own edit, TCP against SwapAE
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights "$T" --baseline-weights "$S" --methods tcp,swapae \
      --out "$O/ablation_$set" -q --threads 1 --precision fp32 > /dev/null 2>&1
done
for set in eval eval_regions eval_artist; do   # the export, against pixel compositing
  tcp-editor eval --pairs data/$set/PAIRS.csv --weights "$T" --methods tcp,tcp_final,pixel \
      --out "$O/new_$set" -q --threads 1 --precision fp32 > /dev/null 2>&1
done
for d in "$O"/ablation_eval "$O"/ablation_eval_regions; do cp "$d/report.md" "$d.md"; done
for set in eval eval_regions eval_artist; do cp "$O/new_$set/report.md" "$O/$(basename "$T" .safetensors)_$set.md"; done
cat "$O/graded.txt" "$O/recon.txt" "$O/neutral_swap.txt" "$O/neutral_export.txt"
