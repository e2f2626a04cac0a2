"""Experiment (stage 42): `tcp-editor apply` then, with --x-denoise, non-local-means denoising of the edited region
where the photo is smooth (sky grain and JPEG blocks), blended by the feathered mask times a smoothness weight."""
import subprocess, sys
import numpy as np, cv2
from PIL import Image

args = sys.argv[1:]
on = "--x-denoise" in args
args = [a for a in args if a != "--x-denoise"]
rc = subprocess.run(["/root/.pyenv/shims/tcp-editor", *args]).returncode
if rc or not on or not args or args[0] != "apply":
    sys.exit(rc)
out = args[args.index("-o") + 1]
content, mask = args[1], args[args.index("--mask") + 1]
e = np.asarray(Image.open(out).convert("RGB"))
p = np.asarray(Image.open(content).convert("RGB"))
h, w = e.shape[:2]
if p.shape[:2] != (h, w):
    p = cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA)
m = np.asarray(Image.open(mask).convert("L").resize((w, h), Image.BILINEAR)).astype(np.float32) / 255
g = cv2.cvtColor(p, cv2.COLOR_RGB2GRAY).astype(np.float32)
mu = cv2.blur(g, (9, 9)); sd = np.sqrt(np.maximum(cv2.blur(g * g, (9, 9)) - mu * mu, 0))
smooth = np.clip((6.0 - sd) / 3.0, 0, 1)
wgt = cv2.GaussianBlur(m * smooth, (0, 0), 4)[..., None]
d = cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(e), None, 4, 4, 7, 21)
res = (d.astype(np.float32) * wgt + e.astype(np.float32) * (1 - wgt)).round().clip(0, 255).astype(np.uint8)
Image.fromarray(res).save(out)
