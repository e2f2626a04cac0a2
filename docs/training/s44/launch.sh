#!/bin/bash
# stage 44 (second half): ARM SEED MINUTES HANDOFF [extra options]; the recipe from the hand-off itself
A=$1; S=$2; M=$3; H=$4; shift 4
cd /work/main/runs/s44/code && PYTHONPATH=$PWD nohup python3 -m tcp_editor.cli --train data/demo/train \
  --out /work/main/runs/s44/$A --init $H --recipe $H --threads 1 --checkpoint-every 100 \
  --sample-every 100 --max-minutes $M --precision bf16 --seed $S --steps 20000 "$@" > /work/main/runs/s44/$A.stdout.log 2>&1 &
