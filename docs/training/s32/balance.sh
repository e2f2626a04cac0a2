#!/bin/bash
# keep the SwapAE arm ($2) at most OFF+10 steps ahead of the TCP arm ($1): hx1 starts from lt1-2000, sl5 from sl1-2770 (equal totals, 11753), so OFF = 0
R=/work/main/runs/s32; T=$1; S=$2; OFF=${3:-0}
while pgrep -f -- "--out $R/$T " >/dev/null; do
  l=$(grep -o "^step [0-9]*" $R/$T.stdout.log | tail -1 | cut -d' ' -f2); s=$(grep -o "^step [0-9]*" $R/$S.stdout.log | tail -1 | cut -d' ' -f2)
  p=$(pgrep -f -- "--out $R/$S ")
  if [ -n "$p" ]; then
    if [ $((s)) -gt $((l + OFF + 10)) ]; then kill -STOP $p; else kill -CONT $p; fi
  fi
  sleep 15
done
p=$(pgrep -f -- "--out $R/$S "); [ -n "$p" ] && kill -STOP $p; echo "$T ended; $S stopped at step $s"
