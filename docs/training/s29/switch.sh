#!/bin/bash
# stop lt5 at its state 600 and sl3 at 700 (equal totals: 2200), move the worktree to the bf16 speed fix, resume both
R=/work/main/runs/s29
while [ ! -f $R/lt5/checkpoints/state-00000600.safetensors ]; do sleep 5; done
sleep 5; pkill -f "balance.sh lt5 sl3"; kill $(pgrep -f -- "--out $R/lt5 "); echo "lt5 stopped at 600: $(date)"
kill -CONT $(pgrep -f -- "--out $R/sl3 ") 2>/dev/null
while [ ! -f $R/sl3/checkpoints/state-00000700.safetensors ]; do sleep 5; done
sleep 5; kill $(pgrep -f -- "--out $R/sl3 "); echo "sl3 stopped at 700: $(date)"
sleep 5
cd $R/code && git checkout -q --detach a999cc9 && echo "worktree at $(git log --oneline -1)"
PYTHONPATH=$R/code nohup python3 -m tcp_core.train data/demo/train --resume --out $R/lt5 --steps 6000 --threads 1 --max-minutes 150 >> $R/lt5.stdout.log 2>&1 &
PYTHONPATH=$R/code nohup python3 -m tcp_core.train data/demo/train --resume --out $R/sl3 --steps 6000 --threads 1 --max-minutes 150 >> $R/sl3.stdout.log 2>&1 &
sleep 20; cd $R && nohup ./balance.sh lt5 sl3 100 >> balance.log 2>&1 &
echo "resumed: $(date)"
