"""Prototype: refine the style code at edit time so the swap's frozen-trunk feature statistics inside
the region match the reference's (the style term of Eq. 3 / AdaIN's style loss, optimised per edit).

    python -c "import sys; sys.path.insert(0, 'docs/training/s46'); import refine_proto as R; \
               R.SCALES = (1, 2); R.SDW = 0.0; R.sheet('data/tune_artist/PAIRS.csv', 'out.jpg', 8, 20, 0.03, 0.5)"

Each row of the sheet: the photo at the working size, the reference, the swap G(C_A, S_B) inside the region, the
swap with the refined code. 20 Adam steps on S (2-4 s a pair on one core). Judged by eye only (section 2 of the
stage notes): the refined swaps take more of the reference's colour but draw bands and blotches along the region's
edges, so the lever went no further."""
import sys, time
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F, cv2
from tcp_core.editing.inference import load_model, RegionEdit

SCALES = None
SDW = 1.0

def stats(f, m):
    # f [1,C,h,w], m [1,1,h,w] weights -> mean, std [C]
    f = f.float(); w = m / m.sum().clamp_min(1e-6)
    mu = (f * w).sum((2, 3))
    var = ((f - mu[..., None, None]) ** 2 * w).sum((2, 3))
    return mu, (var + 1e-5).sqrt()

def refine(model, content, style, mask, steps=20, lr=0.05, reg=0.0, scales=(0, 1, 2)):
    scales = SCALES or scales
    net = model.net; trunk = net.E.branch.trunk
    img = content; size = model._work_size(img.shape[:2])
    codes, key, t = model._encode_image(img, size)
    s_b, _ = model._style_code(style)
    ref_t, _ = model._to_tensor(style, model._work_size(style.shape[:2]))
    with torch.no_grad():
        fr = trunk(ref_t)
        tgt = [stats(fr[i], torch.ones_like(fr[i][:, :1])) for i in scales]
    m = model._mask_tensor(mask, img.shape[:2], size)
    s = s_b.detach().clone().float().requires_grad_(True)
    opt = torch.optim.Adam([s], lr=lr * float(s_b.float().std()))
    hist = []
    for k in range(steps):
        i_g = net.decode(codes.content.detach(), s, model._noise())
        f = trunk(i_g)
        loss = 0
        for j, i in enumerate(scales):
            mk = F.interpolate(m, size=f[i].shape[-2:], mode="area")
            mu, sd = stats(f[i], mk)
            mu_t, sd_t = tgt[j]
            sc = sd_t.mean().clamp_min(1e-3)
            loss = loss + ((mu - mu_t).abs().mean() + SDW * (sd - sd_t).abs().mean()) / sc
        loss = loss / len(scales)
        if reg:
            loss = loss + reg * (s - s_b).pow(2).mean() / s_b.float().var()
        opt.zero_grad(); loss.backward(); opt.step()
        hist.append(float(loss.detach()))
    return s.detach(), hist

if __name__ == "__main__":
    model = load_model(None, device="cpu", precision="fp32")
    print(model.source)

def sheet(pairs_csv, out, n=8, steps=20, lr=0.05, reg=0.0):
    import csv
    from tcp_core.io.imageio import load_image
    root = Path(pairs_csv).parent
    rows = list(csv.DictReader(open(pairs_csv)))[:n]
    model = load_model(None, device="cpu", precision="fp32")
    tiles = []
    for r in rows:
        c = load_image(root / r["content"]).rgb8; s = load_image(root / r["style"]).rgb8
        m = cv2.imread(str(root / r["mask"]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
        lo = cv2.resize(c, (model._work_size(c.shape[:2])[1], model._work_size(c.shape[:2])[0]), interpolation=cv2.INTER_AREA)
        slo = cv2.resize(s, (192, int(192 * s.shape[0] / s.shape[1])), interpolation=cv2.INTER_AREA)
        mlo = cv2.resize(m, (lo.shape[1], lo.shape[0]), interpolation=cv2.INTER_AREA)
        t0 = time.perf_counter()
        with torch.enable_grad():
            s_ref, hist = refine(model, lo, slo, mlo, steps, lr, reg)
        dt = time.perf_counter() - t0
        with torch.no_grad():
            codes, key, _ = model._encode_image(lo)
            s_b, _ = model._style_code(slo)
            base = model._to_image(model.net.decode(codes.content, s_b, model._noise()), lo.shape[:2])
            ref = model._to_image(model.net.decode(codes.content, s_ref, model._noise()), lo.shape[:2])
        print(r["content"][-30:], r["style"][-25:], f"loss {hist[0]:.3f} -> {hist[-1]:.3f}  {dt:.2f}s", flush=True)
        h = 160
        def fit(x): return cv2.resize(x, (int(h * x.shape[1] / x.shape[0]), h), interpolation=cv2.INTER_AREA)
        mm = (mlo[..., None] > 0.5)
        tiles.append(np.concatenate([fit(lo), fit(slo), fit(np.where(mm, base, lo)), fit(np.where(mm, ref, lo))], 1))
    wmax = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 4), (0, wmax - t.shape[1]), (0, 0)), constant_values=255) for t in tiles]
    cv2.imwrite(out, cv2.cvtColor(np.concatenate(tiles, 0), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
