import csv, sys, numpy as np, cv2, torch
from pathlib import Path
from tcp_core.editing.inference import TCPModel
from tcp_core.editing.apply import apply_regions
from tcp_core.editing.regions import RegionEdit
torch.set_num_threads(1)
pairs = Path(sys.argv[1]); weights = sys.argv[2]; out = Path(sys.argv[3]); idx = [int(i) for i in sys.argv[4].split(",")]
strengths = [float(s) for s in sys.argv[5].split(",")]
model = TCPModel.from_pretrained(None if weights == "default" else weights, device="cpu")
rows = list(csv.DictReader(open(pairs)))
def load(p, long=384):
    im = cv2.cvtColor(cv2.imread(str(pairs.parent / p)), cv2.COLOR_BGR2RGB)
    s = long / max(im.shape[:2]); return cv2.resize(im, (round(im.shape[1]*s), round(im.shape[0]*s)), interpolation=cv2.INTER_AREA)
sheet = []
for i in idx:
    r = rows[i]; c = load(r["content"]); st = load(r["style"])
    m = cv2.imread(str(pairs.parent / r["mask"]), 0); m = cv2.resize(m, (c.shape[1], c.shape[0])) / 255.0
    tiles = []
    show = c.copy(); cnt, _ = cv2.findContours((m > .5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(show, cnt, -1, (255, 0, 255), 2); tiles.append(show)
    tiles.append(cv2.resize(st, (round(st.shape[1] * c.shape[0] / st.shape[0]), c.shape[0])))
    for s in strengths:
        tiles.append(apply_regions(model, c, [RegionEdit(st, m.astype(np.float32), s)]))
    sheet.append(np.concatenate(tiles, 1))
W = max(t.shape[1] for t in sheet)
sheet = np.concatenate([np.pad(t, ((0, 4), (0, W - t.shape[1]), (0, 0)), constant_values=255) for t in sheet], 0)
cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)); print(out)
