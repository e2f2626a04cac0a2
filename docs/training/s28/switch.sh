#!/bin/bash
# at step 400 of both arms: stop them and resume on the 44-photo training set (same flags, --resume)
R=/work/main/runs/s28
pkill -f "balance.sh lt2 sl2"
for a in lt2 sl2; do
  while [ ! -f $R/$a/checkpoints/state-00000400.safetensors ]; do sleep 5; done
  sleep 3; p=$(pgrep -f -- "--out $R/$a "); kill -CONT $p 2>/dev/null; kill $p; echo "$a stopped at 400: $(date)"
done
sleep 10
. /work/main/scripts/campaign_recipe.sh; cd $R/code
PYTHONPATH=$R/code nohup python3 -m tcp_core.train data/demo/train "${CAMPAIGN_RECIPE[@]}" --checkpoint-every 100 --sample-every 100 --threads 1 --rec-weight 10 --colour-stats 2 --seed 41 --batch-size 8 --max-minutes 95 --steps 6000 --lr 0.0005 --out $R/lt2 --resume --ca-masks mixed --cc-weight 16 --ca-weight 30 --ca-content 6 --ca-gan 1 --rec-recolour 20 >> $R/lt2.stdout.log 2>&1 &
PYTHONPATH=$R/code nohup python3 -m tcp_core.train data/demo/train "${CAMPAIGN_RECIPE[@]}" --checkpoint-every 100 --sample-every 100 --threads 1 --rec-weight 10 --colour-stats 2 --seed 42 --batch-size 8 --max-minutes 95 --steps 7000 --lr 0.0005 --out $R/sl2 --resume --no-tcp-losses --rec-recolour 20 >> $R/sl2.stdout.log 2>&1 &
sleep 20
cd $R && nohup bash /work/main/docs/training/s28/balance.sh lt2 sl2 > $R/balance_lt2b.log 2>&1 &
echo "resumed on 44 photos: $(date)"
