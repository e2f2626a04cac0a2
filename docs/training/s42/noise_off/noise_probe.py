import torch, numpy as np
from PIL import Image
from tcp_core.networks.checkpoint import load_net
from tcp_core.networks.layers import NoiseInjection
net = load_net("weights/tcp-demo128.safetensors").eval()
ws = [(n, float(m.weight)) for n, m in net.named_modules() if isinstance(m, NoiseInjection)]
for n, w in ws: print(n, round(w, 4))
def img(p, s=128):
    im = Image.open(p).convert("RGB"); w, h = im.size; r = s / min(w, h)
    im = im.resize((round(w*r)//32*32, round(h*r)//32*32), Image.BICUBIC)
    return torch.from_numpy(np.asarray(im)).permute(2,0,1)[None].float()/127.5-1
a = img("data/eval_artist/photos/lomiri-picosdeeuropa_by_Aitzol_Berasategi.jpg")
b = img("data/eval_artist/photos/plasma-summer_1am.jpg")
with torch.no_grad():
    ca, cb = net.encode(a), net.encode(b)
    outs = []
    for seed in [0, 1]:
        g = torch.Generator().manual_seed(seed)
        outs.append(net.swap(ca, cb.style, g))
    rec = net.swap(ca, ca.style, torch.Generator().manual_seed(0))
    saved = {}
    for n, m in net.named_modules():
        if isinstance(m, NoiseInjection): saved[n] = m.weight.data.clone(); m.weight.data.zero_()
    z = net.swap(ca, cb.style, torch.Generator().manual_seed(0))
    recz = net.swap(ca, ca.style, torch.Generator().manual_seed(0))
def u8(t): return ((t[0].permute(1,2,0).clamp(-1,1)+1)*127.5).numpy()
d = np.abs(u8(outs[0]) - u8(outs[1])); print("seed diff mean", d.mean(), "max", d.max())
d = np.abs(u8(outs[0]) - u8(z)); print("zero-noise diff mean", d.mean())
def psnr(x, y): return 10*np.log10(255**2/((x-y)**2).mean())
A = u8(a); print("recon psnr noise", psnr(u8(rec), A), "zero", psnr(u8(recz), A))
def hf(x):
    import cv2
    x = x[:40]  # sky rows
    return np.abs(x - cv2.GaussianBlur(x, (0,0), 1.0)).mean()
print("HF sky: photo", hf(A), "swap noise", hf(u8(outs[0])), "swap zero", hf(u8(z)), "rec", hf(u8(rec)), hf(u8(recz)))
Image.fromarray(np.concatenate([u8(outs[0]), u8(z)],1).astype(np.uint8)).resize((2*160*3, 128*3), Image.NEAREST).save("/tmp/look/noise_cmp.png")
