"""The numpy API used by the GUI service layer, the CLI and the evaluation.

Images: HxWx3 uint8 RGB arrays. Masks: HxW float32 in [0, 1] (uint8 0..255 and bool accepted)
of the content image's size. Outputs have the content image's size; internally each image is
resized (aspect kept, short side = model resolution, long side at most twice that, sides
multiples of 2**levels) to its working size. `tcp_core.editing.fullres` turns the low-resolution result
into a full-resolution one.

Encodings, global swaps and E(I_g) are cached (small LRU keyed by the working-size pixels), so
repeated edits of the same photo and style only run the parts that changed: a new mask costs
H_c, H_s and one G pass.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from tcp_core.base.config import ModelConfig, model_preset
from tcp_core.base.lru import LRU
from tcp_core.editing import similar
from tcp_core.editing.matching import (
    DEFAULT_MATCH,
    MatchConfig,
    match_histogram,
    part_from_histogram,
    unit_features,
    upsample_part,
)
from tcp_core.editing.regions import RegionEdit
from tcp_core.editing.similar import click_weights, photo_lab, refine_selection
from tcp_core.io.hub import resolve_weights
from tcp_core.networks.checkpoint import load_net, read_metadata
from tcp_core.networks.device import describe, pick_device
from tcp_core.networks.model import Codes, TCPNet, blend_styles
from tcp_core.networks.precision import Precision, channels_last


def size_multiple(cfg: ModelConfig) -> int:
    """The step of the working long side: a quarter of the resolution (32 px for demo128), at least
    2**levels. Coarse steps mean few distinct input shapes (5 per orientation), so oneDNN's
    per-shape kernel caches stop growing early in a session (BENCHMARKS.md, soak); the aspect is
    kept to within half a step (the result is resized back to the input's size)."""
    return max(1 << len(cfg.enc_channels), cfg.resolution // 4)


def working_size(h: int, w: int, resolution: int, multiple: int) -> tuple[int, int]:
    """(height, width) for the network: short side = resolution, aspect kept up to 2:1."""
    short, long_ = min(h, w), max(h, w)
    scale = resolution / short
    long_px = min(round(long_ * scale), 2 * resolution)
    long_px = max(multiple, int(round(long_px / multiple)) * multiple)
    return (resolution, long_px) if h <= w else (long_px, resolution)


SIMILAR_SIZE = 224  # short side Select similar reads the trunk's features at (a multiple of 16)
SIMILAR_NEIGHBOURS = 1  # the clicked feature is a weighted mean over the (2 n + 1)^2 cells around the click


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(image).__name__}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"{what} must be HxWx3 RGB, got shape {image.shape}")
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if image.dtype == np.uint16:
        image = (image.astype(np.uint32) * 255 + 32767) // 65535
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating):
            image = np.clip(image * 255 + 0.5, 0, 255)
        image = image.astype(np.uint8)
    if min(image.shape[:2]) < 1:
        raise ValueError(f"{what} is empty ({image.shape})")
    return np.ascontiguousarray(image)


def check_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask must be a numpy array, got {type(mask).__name__}")
    if mask.ndim == 3:
        mask = mask[:, :, 0]
    if mask.ndim != 2:
        raise ValueError(f"mask must be HxW, got shape {mask.shape}")
    if tuple(mask.shape) != tuple(shape):
        raise ValueError(
            f"mask size {mask.shape[1]}x{mask.shape[0]} does not match the photo size {shape[1]}x{shape[0]}")
    if mask.dtype == bool:
        return mask.astype(np.float32)
    if mask.dtype == np.uint8:
        return mask.astype(np.float32) / 255.0
    m = mask.astype(np.float32)
    if not np.isfinite(m).all():
        raise ValueError("mask contains NaN or infinite values")
    return np.clip(m, 0.0, 1.0)


def strength_exponent_of(meta: dict) -> float:
    """The weights' `strength_exponent` metadata (see TCPModel.code_weight); 1 when absent or unusable."""
    try:
        v = float(meta.get("strength_exponent", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return v if 0.1 <= v <= 10 else 1.0


class TCPModel:
    def __init__(self, net: TCPNet, device: torch.device, noise_seed: int = 0, source: str = "",
                 precision: str | None = "auto") -> None:
        self.precision = Precision.resolve(precision, device)  # 'bf16' or 'fp32' (see tcp_core.networks.precision)
        self.net = channels_last(net.to(device).eval())
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.device = device
        self.noise_seed = noise_seed
        self.source = source
        self._codes = LRU(16)
        self._swaps = LRU(16)
        self._own = LRU(4)  # own-style edits (export references), keyed by photo and mask
        self._multiple = size_multiple(net.config)
        # The strength slider is even when the change it makes grows linearly with it; the change
        # grows faster than linearly in the style-code blend weight, so strength t blends the codes
        # with weight t ** strength_exponent (measured per model by scripts/strength_curve.py and
        # stored in the weights' metadata; 1 = a plain linear blend).
        self.strength_exponent = 1.0

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, spec=None, device: str | torch.device | None = "auto",
                        precision: str | None = "auto") -> TCPModel:
        """spec: None (bundled default), a local path, or hf://OWNER/REPO/FILE.safetensors[@REV].
        precision: 'auto' (bf16 where the device runs it natively, else fp32), 'bf16' or 'fp32'."""
        dev = device if isinstance(device, torch.device) else pick_device(device)
        path = resolve_weights(spec)
        model = cls(load_net(path, "cpu"), dev, source=str(path), precision=precision)
        model.strength_exponent = strength_exponent_of(read_metadata(path))
        return model

    @classmethod
    def from_config(cls, config: ModelConfig | str, device: str | torch.device | None = "cpu", seed: int = 0,
                    precision: str | None = "auto"):
        """A randomly initialised model (tests, untrained demos)."""
        cfg = model_preset(config) if isinstance(config, str) else config
        dev = device if isinstance(device, torch.device) else pick_device(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = TCPNet(cfg)
        return cls(net, dev, source=f"untrained {cfg.name}", precision=precision)

    @property
    def config(self) -> ModelConfig:
        return self.net.config

    @property
    def device_name(self) -> str:
        return self.device.type

    @property
    def device_description(self) -> str:
        return describe(self.device)

    @property
    def precision_name(self) -> str:
        """'bf16' or 'fp32': what the network computes in."""
        return self.precision.name

    def clear_cache(self) -> None:
        self._codes.clear()
        self._swaps.clear()
        self._own.clear()

    # conversions --------------------------------------------------------------------------
    def _work_size(self, shape: tuple[int, int]) -> tuple[int, int]:
        return working_size(shape[0], shape[1], self.config.resolution, self._multiple)

    def _to_tensor(self, image: np.ndarray, size: tuple[int, int]) -> tuple[torch.Tensor, bytes]:
        img = check_image(image)
        h, w = size
        if img.shape[:2] != (h, w):
            interp = cv2.INTER_AREA if img.shape[0] > h else cv2.INTER_LINEAR
            img = cv2.resize(img, (w, h), interpolation=interp)
        key = hashlib.blake2b(img.tobytes(), digest_size=16).digest() + bytes(str(img.shape), "ascii")
        t = torch.from_numpy(img).to(self.device).permute(2, 0, 1)[None].float() / 127.5 - 1
        return channels_last(t), key  # [1, 3, h, w] in [-1, 1]

    @staticmethod
    def _to_image(t: torch.Tensor, shape: tuple[int, int]) -> np.ndarray:
        img = ((t[0].float().clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        if img.shape[:2] != tuple(shape):
            img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
        return img

    def _mask_tensor(self, mask: np.ndarray, shape, size) -> torch.Tensor:
        m = check_mask(mask, shape)
        if m.shape != size:
            m = cv2.resize(m, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(np.ascontiguousarray(m)).to(self.device)[None, None]

    def _noise(self) -> torch.Generator:
        g = torch.Generator(device=self.device)
        g.manual_seed(self.noise_seed)
        return g

    def _autocast(self):
        return self.precision.autocast()

    # cached network pieces ----------------------------------------------------------------
    def _encode(self, t: torch.Tensor, key: bytes) -> Codes:
        return self._codes.get_or(key, lambda: self.net.encode(t))

    def _encode_image(self, image: np.ndarray, size=None) -> tuple[Codes, bytes, torch.Tensor]:
        img = check_image(image)
        size = size or self._work_size(img.shape[:2])
        t, key = self._to_tensor(img, size)
        return self._encode(t, key), key, t

    def code_weight(self, strength: float) -> float:
        """The style-code blend weight of a slider strength (0 -> 0, 1 -> 1, monotonic)."""
        t = float(strength)
        return t ** self.strength_exponent if 0.0 < t < 1.0 else t

    def _style_code(self, style: np.ndarray, style_mask: np.ndarray | None = None) -> tuple[torch.Tensor, bytes]:
        """S of a style reference, from the whole photo or (masked pooling in H_s) from the part of it
        `style_mask` selects (HxW of the style photo's size). Cached like the encodings."""
        if style_mask is None:
            codes, key, _ = self._encode_image(style)
            return codes.style, key
        img = check_image(style, "style")
        m_np = check_mask(style_mask, img.shape[:2])
        ys, xs = np.nonzero(m_np > 0)
        if ys.size == 0:
            raise ValueError("the style mask is empty: brush the part of the style photo to take the style from")
        # H_s pools a coarse grid (3x3 at the working size), so the reference is first cropped to the
        # mask's box (plus a little context): the pooling grid then covers the chosen part finely.
        h, w = m_np.shape
        pad_y, pad_x = max(2, (ys.max() - ys.min()) // 8), max(2, (xs.max() - xs.min()) // 8)
        y0, y1 = max(0, ys.min() - pad_y), min(h, ys.max() + 1 + pad_y)
        x0, x1 = max(0, xs.min() - pad_x), min(w, xs.max() + 1 + pad_x)
        img, m_np = np.ascontiguousarray(img[y0:y1, x0:x1]), np.ascontiguousarray(m_np[y0:y1, x0:x1])
        size = self._work_size(img.shape[:2])
        t, key = self._to_tensor(img, size)
        m = self._mask_tensor(m_np, img.shape[:2], size)
        key = key + b"|m" + hashlib.blake2b(np.ascontiguousarray(m_np).tobytes(), digest_size=16).digest()
        return self._codes.get_or(key, lambda: self.net.encode(t, style_mask=m)).style, key

    def _swap_and_encode(self, codes_a: Codes, key_a: bytes, s_b: torch.Tensor, key_b: bytes, strength: float):
        def make():
            s = blend_styles(codes_a.style, s_b, self.code_weight(strength))
            i_g = self.net.swap(codes_a, s, self._noise())
            return i_g, self.net.E(i_g)

        return self._swaps.get_or((key_a, key_b, round(float(strength), 4)), make)

    def _swap_features(self, codes_a: Codes, key_a: bytes, s_b: torch.Tensor, key_b: bytes, strength: float,
                       keyframe_step: float | None = None) -> torch.Tensor:
        """E(I_g) for I_g = G(C_A, S_mix(strength)) (Eq. 5's edited features), [1, C_e, h, w].

        keyframe_step (interactive previews, e.g. a strength-slider drag): E(I_g) is interpolated
        linearly between exact key frames at multiples of the step, which stay cached, so each new
        strength costs the region-edit G pass only instead of a swap G pass, E and the edit G pass.
        Exact at the key frames; on the demo model the edit differs from the exact one by
        >= 40 dB PSNR at step 0.25 (BENCHMARKS.md). None: exact."""
        t = float(strength)
        if not keyframe_step or keyframe_step <= 0:
            return self._swap_and_encode(codes_a, key_a, s_b, key_b, t)[1]
        pos = t / keyframe_step
        lo = math.floor(pos + 1e-6)
        frac = pos - lo
        e_lo = self._swap_and_encode(codes_a, key_a, s_b, key_b, lo * keyframe_step)[1]
        if frac < 1e-6:
            return e_lo
        e_hi = self._swap_and_encode(codes_a, key_a, s_b, key_b, (lo + 1) * keyframe_step)[1]
        return torch.lerp(e_lo, e_hi, float(frac))

    # public API ---------------------------------------------------------------------------
    @torch.no_grad()
    def reconstruct(self, image: np.ndarray) -> np.ndarray:
        img = check_image(image)
        with self._autocast():
            codes, _, _ = self._encode_image(img)
            out = self.net.decode(codes.content, codes.style, self._noise())
        return self._to_image(out, img.shape[:2])

    @torch.no_grad()
    def encode_style(self, image: np.ndarray) -> np.ndarray:
        """The style code S of an image as a float32 vector."""
        codes, _, _ = self._encode_image(image)
        return codes.style[0].float().cpu().numpy()

    @torch.no_grad()
    def swap(self, content: np.ndarray, style: np.ndarray, strength: float = 1.0,
             style_mask: np.ndarray | None = None) -> np.ndarray:
        """Global transfer G(C_A, S_mix), S_mix = (1 - w) S_A + w S_B, w = code_weight(strength)."""
        img = check_image(content, "content")
        with self._autocast():
            codes_a, key_a, _ = self._encode_image(img)
            s_b, key_b = self._style_code(style, style_mask)
            i_g, _ = self._swap_and_encode(codes_a, key_a, s_b, key_b, strength)
        return self._to_image(i_g, img.shape[:2])

    @torch.no_grad()
    def region_edit(self, content: np.ndarray, style: np.ndarray, mask: np.ndarray, strength: float = 1.0,
                    keyframe_step: float | None = None, style_mask: np.ndarray | None = None):
        """Region-wise transfer by Eq. 5-6. keyframe_step: fast approximate strengths for
        interactive previews (see `_swap_features`); None (default) is exact. style_mask: take the
        style from that part of the style photo only."""
        return self.edit_regions(content, [RegionEdit(style, mask, strength, style_mask)], keyframe_step=keyframe_step)

    @torch.no_grad()
    def own_style_edit(self, content: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The Eq. 5-6 region edit at strength 0, i.e. with the photo's own style code S_A (it does
        not depend on the style reference). The export path measures what an edit changed against
        this, not against the photo, so the network's reconstruction error never reaches the photo
        and strength 0 leaves it unchanged. Cached per photo and mask (slider drags re-use it)."""
        img = check_image(content, "content")
        shape = img.shape[:2]
        size = self._work_size(shape)
        with self._autocast():
            codes, key, _ = self._encode_image(img, size)
            m_np = check_mask(mask, shape)
            mkey = hashlib.blake2b(np.ascontiguousarray(m_np).tobytes(), digest_size=16).digest()

            def make():
                e_g = self._swap_and_encode(codes, key, codes.style, key, 0.0)[1]
                m = self._mask_tensor(m_np, shape, size)
                return self.net.region_edit(codes, e_g, m, self._noise()).clamp(-1, 1)

            out = self._own.get_or((key, mkey, m_np.shape), make)
        return self._to_image(out, shape)

    @torch.no_grad()
    def edit_regions(self, content: np.ndarray, regions: Sequence[RegionEdit],
                     keyframe_step: float | None = None) -> np.ndarray:
        """Successive region edits (paper Fig. 5): each region edits the previous result."""
        img = check_image(content, "content")
        shape = img.shape[:2]
        size = self._work_size(shape)
        with self._autocast():
            codes, key, cur = self._encode_image(img, size)
            for i, r in enumerate(regions):
                m = self._mask_tensor(r.mask, shape, size)
                if i > 0:
                    key = hashlib.blake2b(cur.float().cpu().numpy().tobytes(), digest_size=16).digest()
                    codes = self._encode(cur, key)
                s_b, key_b = self._style_code(r.style, r.style_mask)
                e_g = self._swap_features(codes, key, s_b, key_b, r.strength, keyframe_step)
                cur = self.net.region_edit(codes, e_g, m, self._noise()).clamp(-1, 1)
            if not regions:
                cur = self.net.decode(codes.content, codes.style, self._noise())
        return self._to_image(cur, shape)

    def _match_features(self, image: np.ndarray, size: int) -> torch.Tensor:
        """Unit features for matching (see `tcp_core.editing.matching`): the frozen ImageNet trunk's
        strides 8 and 16 when the model carries it, else E's own features. -> [1, C, h, w]"""
        h, w = working_size(*image.shape[:2], size, 16)  # (16: the trunk's stride)
        t, _ = self._to_tensor(image, (h, w))
        enc = self.net.E
        trunk = getattr(getattr(enc, "branch", None), "trunk", None) or getattr(enc, "trunk", None)
        with self._autocast():
            maps = trunk(t)[1:] if trunk is not None else [enc(t)]
        return unit_features(maps, tuple(maps[0].shape[-2:]))

    @torch.no_grad()
    def match_style_part(self, content: np.ndarray, mask: np.ndarray, style: np.ndarray,
                         config: MatchConfig = DEFAULT_MATCH) -> np.ndarray:
        """The part of `style` that matches the region `mask` of `content` (the automatic style
        part): HxW float32 in [0, 1] of the style photo's size, for `RegionEdit.style_mask`."""
        img = check_image(content, "content")
        ref = check_image(style, "style")
        m = check_mask(mask, img.shape[:2])
        if not np.any(m > 0):
            raise ValueError("the region is empty: brush it before matching the style photo to it")
        f_a = self._match_features(img, config.size)
        f_b = self._match_features(ref, config.size)
        grid = f_a.shape[-2:]
        m_grid = cv2.resize(m, (grid[1], grid[0]), interpolation=cv2.INTER_AREA)
        if not np.any(m_grid > 0):  # a sliver thinner than a grid cell: take its strongest cell
            m_grid = np.zeros(grid, np.float32)
            y, x = np.unravel_index(int(np.argmax(m)), m.shape)
            m_grid[min(y * grid[0] // m.shape[0], grid[0] - 1), min(x * grid[1] // m.shape[1], grid[1] - 1)] = 1
        m_t = torch.from_numpy(np.ascontiguousarray(m_grid, np.float32)).to(f_a.device)[None, None]
        hist = match_histogram(f_a, m_t, f_b, config.tau).cpu().numpy()
        part = part_from_histogram(hist, config.mass, config.min_area)
        return upsample_part(part, ref.shape[:2], config.feather)

    @torch.no_grad()
    def interpolate(self, a: np.ndarray, b: np.ndarray, what: str = "style", steps: int = 5) -> list[np.ndarray]:
        """Linear blends of style codes (content of `a` kept) or content codes (style of `a` kept)."""
        if what not in ("style", "content", "both"):
            raise ValueError("what must be 'style', 'content' or 'both'")
        if steps < 2:
            raise ValueError("steps must be >= 2")
        img = check_image(a, "a")
        size = self._work_size(img.shape[:2])
        with self._autocast():
            ca, _, _ = self._encode_image(img, size)
            c_b = self._encode_image(b, size)[0].content  # B's content on A's grid
            s_b = self._encode_image(b)[0].style  # B's style from B at its own working size (as in swap)
            out = []
            for t in np.linspace(0.0, 1.0, steps):
                t = float(t)
                c = blend_styles(ca.content, c_b, t) if what in ("content", "both") else ca.content
                s = blend_styles(ca.style, s_b, t) if what in ("style", "both") else ca.style
                out.append(self._to_image(self.net.decode(c, s, self._noise()), img.shape[:2]))
        return out

    @torch.no_grad()
    def content_similarity(self, image: np.ndarray, x: int, y: int) -> np.ndarray:
        """Cosine similarity of every position's content code to the code at pixel (x, y), in [0, 1]."""
        img = check_image(image)
        h, w = img.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"point ({x}, {y}) is outside the {w}x{h} image")
        codes, _, _ = self._encode_image(img)
        c = codes.content[0].float()  # [C_c, h', w'], unit vectors per pixel
        ch, cw = c.shape[-2:]
        py, px = min(int(y * ch / h), ch - 1), min(int(x * cw / w), cw - 1)
        sim = (c * c[:, py, px][:, None, None]).sum(0).clamp(0, 1).cpu().numpy()
        return cv2.resize(sim, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)

    @staticmethod
    def _click_feature(img: np.ndarray, f: torch.Tensor, x: int, y: int) -> torch.Tensor:
        """The unit feature of a click at (x, y) of `img` (HxWx3 uint8) on the unit feature map f [C, h', w']: the
        mean of the (2n + 1)^2 cells around it, each weighted by how like the clicked spot its colour is
        (`similar.click_weights`: the click's side of an edge), the cells as alike as that mean counting fully."""
        h, w = img.shape[:2]
        fh, fw = f.shape[-2:]
        py, px = min(int(y * fh / h), fh - 1), min(int(x * fw / w), fw - 1)
        n = SIMILAR_NEIGHBOURS
        y0, y1, x0, x1 = max(0, py - n), min(fh, py + n + 1), max(0, px - n), min(fw, px + n + 1)
        cells = f[:, y0:y1, x0:x1]  # [C, k, l]
        lab = cv2.resize(photo_lab(img), (fw, fh), interpolation=cv2.INTER_AREA)[y0:y1, x0:x1]  # cells' mean colours
        r = max(1, round(max(h, w) * similar.CLICK_SPOT))  # the clicked spot: the pixels around it
        spot = photo_lab(img[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]).reshape(-1, 3)
        wgt = torch.from_numpy(click_weights(lab, spot)).to(f.device)

        def mean(weights: torch.Tensor) -> torch.Tensor:
            m = (cells * weights).sum((1, 2)) / weights.sum().clamp_min(1e-6)
            return m / m.norm().clamp_min(1e-6)

        ref = mean(wgt)
        return mean(torch.maximum(wgt, ((cells * ref[:, None, None]).sum(0) >= similar.CLICK_ALIKE).to(wgt.dtype)))

    @torch.no_grad()
    def similar_region(self, image: np.ndarray, x: int, y: int, tolerance: float = 0.3,
                       size: int = SIMILAR_SIZE) -> np.ndarray:
        """Select similar (the editor's tool): HxW float32 in [0, 1], how much each pixel belongs to the part of
        the photo clicked at (x, y), on the tolerance slider's scale (`tcp_core.editing.similar`): the frozen
        ImageNet trunk's features (E's own without it) at `size` px, then a GrabCut that follows the photo's
        edges, seeded at `tolerance` (0..1)."""
        img = check_image(image)
        h, w = img.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"point ({x}, {y}) is outside the {w}x{h} image")
        f = self._match_features(img, size)[0].float()  # [C, h', w'] unit vectors
        ref = self._click_feature(img, f, x, y)
        s = (f * ref[:, None, None]).sum(0).clamp(0, 1).cpu().numpy()
        s = cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        return refine_selection(np.ascontiguousarray(img), s, int(x), int(y), float(tolerance))


def load_model(spec: str | None = None, device: str | torch.device | None = "auto", precision: str | None = "auto",
               *, preset: str | None = None) -> TCPModel:
    """The one way the command lines get a model. spec: None or 'default' (the bundled weights), a
    local path, hf://OWNER/REPO/FILE.safetensors[@REV], or `random:PRESET[:SEED]` (an untrained
    model, for smoke tests). `preset` (the hidden --preset of apply) is `random:PRESET` on the CPU
    unless a device is given."""
    if preset:
        return TCPModel.from_config(preset, device="cpu" if device == "auto" else device, precision=precision)
    if spec is not None and str(spec).startswith("random:"):
        parts = str(spec).split(":")
        name = parts[1] if len(parts) > 1 and parts[1] else "tiny"
        seed = int(parts[2]) if len(parts) > 2 else 0
        return TCPModel.from_config(name, device=device, seed=seed, precision=precision)
    return TCPModel.from_pretrained(None if spec in (None, "", "default") else spec, device=device,
                                    precision=precision)
