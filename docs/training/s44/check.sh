#!/bin/bash
# check.sh ARM STEP: stage 43's check (tuning-split numbers, held-out reconstruction) on runs/s44/keep/ARM-STEP
STAGE=s44 exec bash /work/main/docs/training/s43/check.sh "$@"
