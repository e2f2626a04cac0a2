"""Tuning-split numbers of several models side by side, from `tcp-editor eval` report.json files.

    python docs/training/s47/tune_table.py runs/s47/ev   # folders NAME_SET/report.json
"""
import json
import sys
from pathlib import Path

COLS = [("tcp", "ssd"), ("tcp", "style_dist"), ("tcp", "bg_psnr"), ("tcp_final", "ssim"), ("tcp_final", "ssd"),
        ("tcp_final", "style_dist"), ("tcp_final", "seam"), ("pixel", "seam")]


def metric(rep, method, name):
    return rep["methods"][method][name]


root = Path(sys.argv[1])
runs = sorted(root.glob("*_*/report.json"))
print("| model | set | " + " | ".join(f"{m} {n}" for m, n in COLS) + " |")
print("|---|---|" + "---:|" * len(COLS))
for p in runs:
    name, _, sset = p.parent.name.partition("_")
    rep = json.loads(p.read_text())
    vals = []
    for m, n in COLS:
        try:
            vals.append(f"{metric(rep, m, n):.4g}")
        except (KeyError, TypeError):
            vals.append("-")
    print(f"| {name} | {sset} | " + " | ".join(vals) + " |")
