"""The networks' own whole-image swaps G(C_photo, S_reference) at the working size, on held-out photos:
rows = photo, then one row per model; columns = references (the held-out photos themselves).

    python docs/training/s47/swap_sheet.py OUT.jpg MODEL [MODEL ...]
"""
import sys
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from graded_eval import PHOTOS, square  # noqa: E402

from tcp_core.networks.checkpoint import load_net  # noqa: E402


@torch.no_grad()
def main(out, models):
    nets = [load_net(m) for m in models]
    size = nets[0].config.resolution
    x = torch.stack([square(p, size) for p in PHOTOS])
    n = len(x)
    tiles = []
    for content in range(n):  # one block per content photo: the photos, then each model's swaps
        row_blocks = [torch.cat([x[content]] + [x[j] for j in range(n) if j != content], 2)]
        for net in nets:
            torch.manual_seed(0)
            c = net.encode(x[content:content + 1].expand(n - 1, -1, -1, -1)).content
            s = net.encode(torch.stack([x[j] for j in range(n) if j != content])).style
            sw = net.decode(c, s)
            row_blocks.append(torch.cat([x[content]] + list(sw), 2))
        tiles.append(torch.cat(row_blocks, 1))
    sheet = torch.cat(tiles[:4], 1)
    Image.fromarray(((sheet.permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).byte().numpy()).save(out, quality=88)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
