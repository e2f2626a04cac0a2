#!/bin/bash
# keep sl1 (SwapAE) no more than its due ahead of lt1: sl1 step - 770 <= lt1 step + 10 (equal totals since stage 20)
L=/work/main/runs/s26/lt1.stdout.log; S=/work/main/runs/s26/sl1.stdout.log
while pgrep -f -- "--out /work/main/runs/s26/lt1 " >/dev/null; do
  l=$(grep -o "^step [0-9]*" $L | tail -1 | cut -d' ' -f2); s=$(grep -o "^step [0-9]*" $S | tail -1 | cut -d' ' -f2)
  p=$(pgrep -f -- "--out /work/main/runs/s26/sl1 ")
  if [ -n "$p" ]; then
    if [ $((s - 770)) -gt $((l + 10)) ]; then kill -STOP $p; else kill -CONT $p; fi
  fi
  sleep 15
done
p=$(pgrep -f -- "--out /work/main/runs/s26/sl1 "); [ -n "$p" ] && kill -STOP $p; echo "lt1 ended; sl1 stopped at step $s" 
