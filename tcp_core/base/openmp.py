"""How torch's CPU threads wait between operations, for the editor and the commands (not training).

torch's OpenMP threads wait for the next operation by spinning: libgomp's default is about 3 ms
per wait. On cores shared with another job (a training run, a browser), a thread spins through the
time its partner waits for a core, and a network of many small operations stalls: the stage-26
model with the ImageNet branch took 6.1 s per region edit instead of 64-72 ms next to a 2-thread
training job. Not spinning at all (`OMP_WAIT_POLICY=PASSIVE`) removes the stall (104-135 ms) but
doubles the idle time (148-161 ms), since every operation then wakes its threads through the
kernel. A short spin (`GOMP_SPINCOUNT`, libgomp: the Linux wheels) keeps most of both: 3000 spins
(~30 us) gave 81-92 ms idle and 173-219 ms loaded; 1000 gave 135 / 113-175, 10000 gave 75-77 /
319-333 (128 px, 2 threads, bf16, a 2-core Intel Xeon; BENCHMARKS.md). Other OpenMP runtimes
ignore `GOMP_SPINCOUNT` and get PASSIVE.

The variables are read once, when torch loads OpenMP: call `short_openmp_waits()` before the first
`import torch` of the process. A setting of the user's own always wins.
"""

from __future__ import annotations

import os

__all__ = ["SPIN_COUNT", "short_openmp_waits"]

SPIN_COUNT = 3000  # libgomp spins ("about 100000 per ms"): ~30 us, then the thread sleeps


def short_openmp_waits(environ=None) -> None:
    """Ask OpenMP for short waits (in `environ`, default os.environ) unless the user chose a wait
    policy or a spin count. Too late to matter once torch is loaded."""
    env = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" in env or "GOMP_SPINCOUNT" in env:
        return  # the user's choice
    env["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    env["OMP_WAIT_POLICY"] = "PASSIVE"  # libgomp: GOMP_SPINCOUNT wins over it; other runtimes: no spinning
