#!/bin/bash
# stage 43: the shipped recipe (taken from the shipped hand-off with --recipe), the EMA carried over;
# ARM SEED MINUTES [extra options]
A=$1; S=$2; M=$3; shift 3
cd /work/main/runs/s43/code2 && PYTHONPATH=$PWD nohup python3 -m tcp_editor.cli --train data/demo/train \
  --out /work/main/runs/s43/$A --init docs/training/s26/tcp-lite-handoff-lt1-2000.safetensors \
  --recipe docs/training/s26/tcp-lite-handoff-lt1-2000.safetensors --threads 1 --checkpoint-every 100 \
  --sample-every 100 --max-minutes $M --precision bf16 --seed $S --steps 20000 "$@" > /work/main/runs/s43/$A.stdout.log 2>&1 &
