#!/bin/bash
# keep the SwapAE arm ($2) at most OFF+10 steps ahead of the TCP arm ($1). lt5 starts from lt4-800 (total 1600 since
# stage 27's hand-offs), sl3 from sl2-1500 (total 1500), so equal totals = sl3 step = lt5 step + 100.
R=/work/main/runs/s30; T=$1; S=$2; OFF=${3:-100}
while pgrep -f -- "--out $R/$T " >/dev/null; do
  l=$(grep -o "^step [0-9]*" $R/$T.stdout.log | tail -1 | cut -d' ' -f2); s=$(grep -o "^step [0-9]*" $R/$S.stdout.log | tail -1 | cut -d' ' -f2)
  p=$(pgrep -f -- "--out $R/$S ")
  if [ -n "$p" ]; then
    if [ $((s)) -gt $((l + OFF + 10)) ]; then kill -STOP $p; else kill -CONT $p; fi
  fi
  sleep 15
done
p=$(pgrep -f -- "--out $R/$S "); [ -n "$p" ] && kill -STOP $p; echo "$T ended; $S stopped at step $s"
