#!/bin/bash
# keep the SwapAE arm ($2) no more than 10 steps ahead of the TCP arm ($1): both started at step 0 from
# stage-27 hand-offs with equal totals (12853 since stage 20), so equal steps = equal totals.
# usage: balance.sh RUN_TCP RUN_SWAPAE (run folders under /work/main/runs/s28)
R=/work/main/runs/s28; T=$1; S=$2
while pgrep -f -- "--out $R/$T " >/dev/null; do
  l=$(grep -o "^step [0-9]*" $R/$T.stdout.log | tail -1 | cut -d' ' -f2); s=$(grep -o "^step [0-9]*" $R/$S.stdout.log | tail -1 | cut -d' ' -f2)
  p=$(pgrep -f -- "--out $R/$S ")
  if [ -n "$p" ]; then
    if [ $((s)) -gt $((l + 10)) ]; then kill -STOP $p; else kill -CONT $p; fi
  fi
  sleep 15
done
p=$(pgrep -f -- "--out $R/$S "); [ -n "$p" ] && kill -STOP $p; echo "$T ended; $S stopped at step $s"
