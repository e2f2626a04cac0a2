#!/bin/bash
# stop lt2 at 800 (the control point) and start lt4 from lt2's state 400 with --ca-detach-swap (code at 15c42be)
R=/work/main/runs/s28
while [ ! -f $R/lt2/checkpoints/state-00000800.safetensors ]; do sleep 5; done
sleep 3; pkill -f "balance.sh lt2 sl2"; p=$(pgrep -f -- "--out $R/lt2 "); kill $p; echo "lt2 stopped at 800: $(date)"
p=$(pgrep -f -- "--out $R/sl2 "); kill -CONT $p
. /work/main/scripts/campaign_recipe.sh; cd $R/code2
PYTHONPATH=$R/code2 nohup python3 -m tcp_core.train data/demo/train "${CAMPAIGN_RECIPE[@]}" --checkpoint-every 100 --sample-every 100 --threads 1 --rec-weight 10 --colour-stats 2 --seed 44 --batch-size 8 --max-minutes 60 --steps 6000 --lr 0.0005 --out $R/lt4 --init $R/lt2/checkpoints/state-00000400.safetensors --ca-masks mixed --cc-weight 16 --ca-weight 30 --ca-content 6 --ca-gan 1 --rec-recolour 20 --ca-detach-swap > $R/lt4.stdout.log 2>&1 &
echo "lt4 started: $(date)"
