"""Frozen configs, one per concern, with named presets.

`ModelConfig` fully describes the networks; it is stored as JSON in the safetensors metadata so
one weights file is a whole model. `TrainConfig` describes a training run.

Presets:
- `tiny`: a few thousand parameters per part, 32 px; for tests (milliseconds per step).
- `demo128`: the CPU demo model shipped in `weights/` until session 8, 128 px, trains on a 2-core CPU in hours.
- `lite128`: demo128 with E on a frozen ImageNet EfficientNet-Lite0 trunk (`encoder="lite0"`).
- `fine128`: demo128 with e and C on a 32 x 32 grid (two E levels, not three): four times the content
  code, and Eq. 5 composites on 4-pixel cells instead of 8; about the same compute per image.
  The model shipped in `weights/` since session 8.
- `paper256`: the Swapping Autoencoder "channel=32" widths at 256 px (METHOD section 1).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from tcp_core.base.constants import PRIMING_PROFILES
from tcp_core.base.errors import UsageError

# --- ModelConfig bounds (issue #17): a weights file's config is untrusted input -----------------
# Every field must have its type and lie within these limits, far above the presets (paper256: 256 px,
# at most 2048 channels), so a crafted config is refused with a message before anything is built.
MAX_RESOLUTION = 1024
MAX_CHANNELS = 4096
MAX_LEVELS = 8  # entries of one channel tuple
MAX_CROPS = 64
MAX_NAME_CHARS = 200
ENCODERS = ("conv", "lite0", "conv+lite0")
EDIT_STYLES = ("code", "map")


def _check_int(name: str, v, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise UsageError(f"model config field {name} must be an integer, got {type(v).__name__} {v!r:.40}")
    if not lo <= v <= hi:
        raise UsageError(f"model config field {name} must be between {lo} and {hi}, got {v}")


def _check_ints(name: str, v, min_len: int, max_len: int, hi: int = MAX_CHANNELS) -> None:
    if not isinstance(v, tuple):
        raise UsageError(f"model config field {name} must be a list of integers, got {type(v).__name__}")
    if not min_len <= len(v) <= max_len:
        n = f"{min_len}" if min_len == max_len else f"{min_len} to {max_len}"
        raise UsageError(f"model config field {name} must have {n} entries, got {len(v)}")
    for i, x in enumerate(v):
        _check_int(f"{name}[{i}]", x, 1, hi)


def _check_model_fields(c: ModelConfig) -> None:
    if not isinstance(c.name, str) or len(c.name) > MAX_NAME_CHARS:
        raise UsageError(f"model config field name must be a string of at most {MAX_NAME_CHARS} characters")
    _check_int("resolution", c.resolution, 16, MAX_RESOLUTION)
    if c.encoder not in ENCODERS:
        raise UsageError(f"model config field encoder must be one of {', '.join(ENCODERS)}, got {c.encoder!r:.40}")
    if c.edit_style not in EDIT_STYLES:
        raise UsageError(f"model config field edit_style must be one of {', '.join(EDIT_STYLES)}, "
                         f"got {c.edit_style!r:.40}")
    for name in ("enc_stem", "content_channels", "style_dim"):
        _check_int(name, getattr(c, name), 1, MAX_CHANNELS)
    _check_ints("enc_channels", c.enc_channels, 1, MAX_LEVELS)
    _check_ints("style_channels", c.style_channels, 2, 2)
    _check_ints("gen_res_channels", c.gen_res_channels, 1, MAX_LEVELS)
    _check_ints("gen_up_channels", c.gen_up_channels, 1, MAX_LEVELS)
    _check_ints("disc_channels", c.disc_channels, 1, MAX_LEVELS + 2)
    _check_ints("dco_channels", c.dco_channels, 1, MAX_LEVELS)
    _check_int("dco_num_crops", c.dco_num_crops, 1, MAX_CROPS)
    _check_int("dco_crop_size", c.dco_crop_size, 4, MAX_RESOLUTION)
    for name in ("dco_min_scale", "dco_max_scale"):
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= 1:
            raise UsageError(f"model config field {name} must be a number in (0, 1], got {v!r:.40}")
    if c.dco_min_scale > c.dco_max_scale:
        raise UsageError("model config: dco_min_scale must not exceed dco_max_scale")
# --- end of ModelConfig bounds -------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    name: str = "custom"
    resolution: int = 128  # working resolution (square), a power of two
    # Encoder E: 1x1 stem, then one downsampling residual block per entry.
    enc_stem: int = 16
    enc_channels: tuple[int, ...] = (32, 64, 128)
    # E's kind: "conv" (the paper's, learnt from scratch), "lite0" (a trained head over a frozen
    # ImageNet EfficientNet-Lite0 trunk; networks/trunk_encoder.py; enc_stem unused) or "conv+lite0"
    # (the conv E plus that head as a residual branch, grown from a trained conv model).
    encoder: str = "conv"
    # H_c: 1x1 conv + lrelu, 1x1 conv to `content_channels` (no activation), L2-normalised per pixel.
    content_channels: int = 8
    # H_s: two 3x3 stride-2 convs, spatial mean, linear -> style_dim, L2-normalised.
    style_channels: tuple[int, int] = (256, 512)
    style_dim: int = 512
    # G: residual blocks at the content-code resolution, then one upsampling block per E level.
    gen_res_channels: tuple[int, ...] = (128, 128)
    gen_up_channels: tuple[int, ...] = (128, 64, 32)
    # D: StyleGAN2 residual discriminator; channels from full resolution down to 4x4.
    disc_channels: tuple[int, ...] = (16, 32, 64, 128, 128, 128)
    # D_co: co-occurrence patch discriminator.
    dco_channels: tuple[int, ...] = (16, 32, 64, 128)  # trunk, crop_size -> crop_size / 2**(n-1)
    dco_num_crops: int = 8
    dco_min_scale: float = 1 / 8
    dco_max_scale: float = 1 / 4
    dco_crop_size: int = 32  # crops are resampled to this many pixels (half the crop setting)
    # The region edit's style (Eq. 6). "code": the paper's H_s(e_hat), one style code for the whole
    # image. "map": the swap's style H_s(E(I_g)) inside the mask and the photo's S_A outside, blended
    # by the mask on each generator layer's grid (`layers.StyleBlend`), so the style's border is as
    # fine as the generator's last layer instead of the content code's 4-pixel cells. The content
    # code is Eq. 5's mix either way. Both train the same parameters; "map" changes only the edit.
    edit_style: str = "code"

    def __post_init__(self) -> None:
        _check_model_fields(self)  # types and bounds first: a crafted config never reaches torch
        r = self.resolution
        if r < 16 or r & (r - 1):
            raise UsageError(f"resolution must be a power of two >= 16, got {r}")
        n = len(self.enc_channels)
        if len(self.gen_up_channels) != n:
            raise UsageError("gen_up_channels must have one entry per encoder level")
        if r >> n < 4:
            raise UsageError("too many encoder levels for the resolution")
        if len(self.disc_channels) != int(math.log2(r)) - 1:
            raise UsageError(f"disc_channels needs {int(math.log2(r)) - 1} entries (from {r} px to 4 px)")
        if self.dco_crop_size >> (len(self.dco_channels) - 1) < 2:
            raise UsageError("dco_crop_size too small for the D_co trunk depth")

    @property
    def feature_res(self) -> int:
        """Spatial size of the encoder features e and of the content code C."""
        return self.resolution >> len(self.enc_channels)

    @property
    def feature_channels(self) -> int:
        return self.enc_channels[-1]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise UsageError("model config must be a JSON object")
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(raw) - set(names)
        if unknown:
            raise UsageError(f"unknown model config fields: {sorted(unknown)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return cls(**kwargs)


MODEL_PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(
        name="tiny",
        resolution=32,
        enc_stem=4,
        enc_channels=(8, 16),
        content_channels=4,
        style_channels=(16, 32),
        style_dim=32,
        gen_res_channels=(16, 16),
        gen_up_channels=(16, 8),
        disc_channels=(8, 16, 16, 16),
        dco_channels=(8, 16),
        dco_num_crops=4,
        dco_crop_size=8,
    ),
    "demo128": ModelConfig(name="demo128"),
    # demo128 with E on the frozen ImageNet trunk (trains from scratch; needs the backbone package)
    "lite128": ModelConfig(name="lite128", encoder="lite0"),
    # demo128 with e/C at 32 x 32 (SPEC 1: "16 x 16 or finer"): E 16 -> 64 -> 128, G 32 -> 64 -> 128
    "fine128": ModelConfig(name="fine128", enc_channels=(64, 128), gen_up_channels=(64, 32)),
    "paper256": ModelConfig(
        name="paper256",
        resolution=256,
        enc_stem=32,
        enc_channels=(64, 128, 256, 512),
        content_channels=8,
        style_channels=(1024, 2048),
        style_dim=2048,
        gen_res_channels=(256, 512),
        gen_up_channels=(512, 512, 256, 128),
        disc_channels=(128, 256, 512, 512, 512, 512, 512),
        dco_channels=(64, 128, 256, 384, 512),
        dco_crop_size=64,
    ),
}


def model_preset(name: str) -> ModelConfig:
    try:
        return MODEL_PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown model preset {name!r}; choose one of {sorted(MODEL_PRESETS)}") from None


@dataclass(frozen=True)
class LossWeights:
    """Loss weights of METHOD section 2 (SwapAE defaults) plus the TCP terms."""

    rec: float = 1.0
    gan_rec: float = 0.5
    gan_swap: float = 1.0
    cooccur: float = 1.0
    d_real: float = 1.0
    d_rec: float = 0.5
    d_swap: float = 0.5
    r1_gamma: float = 10.0
    r1_gamma_cooccur: float = 1.0
    code_consistency: float = 1.0  # weight of L_CC (Eq. 3)
    cc_lambda: float = 1.0  # lambda inside Eq. 3 (the paper leaves it open; see README)
    content_alignment: float = 1.0  # weight of L_CA (Eq. 7)
    perceptual: float = 0.0  # weight of the multi-scale feature reconstruction loss next to L_rec (0 = off)
    style_stats: float = 0.0  # weight of the swap's feature-statistics style loss against its reference (0 = off)
    swap_content: float = 0.0  # weight of the swap's instance-normalised deep-feature content loss (0 = off)
    rec_recolour: float = 0.0  # weight of L1(G(C of a recoloured photo, S of the photo), photo) (0 = off)
    swap_graded: float = 0.0  # weight of L1(G(C of a photo, S of its random colour grade), the graded photo) (0 = off)
    swap_graded_cross: float = 0.0  # weight of L1(A + G(C_A, S(grade(B))) - G(C_A, S_B), grade(A)) (0 = off)
    colour_stats: float = 0.0  # weight of the swap's pixel colour-statistics loss against its reference (0 = off)
    swap_smooth: float = 0.0  # weight of the swap's edge-aware colour-change smoothness (losses.change_smoothness_loss)
    ca_graded: float = 0.0  # weight of Eq. 7 for a region edit whose swap is the photo's random colour grade (0 = off)
    ca_content: float = 0.0  # weight of the region edit's instance-normalised deep-feature content loss (0 = off)
    ca_colour: float = 0.0  # weight of the region edit's in-mask colour-statistics loss against the reference (0 = off)
    ca_gan: float = 0.0  # weight of the region edit's non-saturating loss against the image critic D (0 = off)
    ca_cooccur: float = 0.0  # weight of the region edit's in-mask crops against the patch critic D_co (0 = off)
    ca_border: float = 0.0  # weight of L_CA on a band around the mask's border (losses.border_alignment_loss; 0 = off)
    ca_interior: float = 0.0  # weight of L_CA's swap term inside the mask (losses.interior_alignment_loss; 0 = off)
    d_edit: float = 0.0  # weight of the region edits as fakes in D's loss (0 = D never sees them)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise UsageError(f"loss weight {f.name} must be a finite number >= 0, got {v!r}")


DISCRIMINATORS = ("stylegan2", "projected")
CA_MASKS = ("strokes", "regions", "mixed")  # kinds of L_CA masks (made by training.masks.training_masks)


@dataclass(frozen=True)
class TrainConfig:
    preset: str = "demo128"
    batch_size: int = 8
    steps: int = 5000
    lr: float = 0.002
    d_lr: float | None = None  # the critics' learning rate (None = lr); Projected GAN uses 0.0002
    betas: tuple[float, float] = (0.0, 0.99)
    r1_every: int = 16
    tcp_every: int = 16  # K of the paper: L_CC and L_CA every K iterations
    tcp_losses: bool = True  # False = the SwapAE baseline (paper Fig. 8)
    ema_beta: float = 0.999
    seed: int = 0
    num_workers: int = 1
    sample_every: int = 250
    checkpoint_every: int = 250
    keep_checkpoints: int = 3
    log_every: int = 10
    scale_jitter: tuple[float, float] = (0.25, 1.0)  # crop side as a fraction of the short side
    # D: "stylegan2" (residual D on pixels, SwapAE) or "projected" (heads on frozen EfficientNet-Lite0
    # features with fixed random projections, Projected GAN)
    discriminator: str = "stylegan2"
    diffaugment: str = ""  # DiffAugment policy for every D input, e.g. "color,translation,cutout"
    diffaugment_cooccur: str = ""  # policy for D_co's crops (colour is the style D_co judges: no "color")
    # L_CA's masks M (Eq. 7): "strokes" (random free-form strokes, the paper's), "regions" (one
    # region of the content photo that follows its content, as a user brushes a sky), "mixed" (half each)
    ca_masks: str = "strokes"
    # D's fakes: False decodes the reconstruction and swap again in phase D;
    # True lets D judge phase G's own outputs of this iteration (one G step old), which skips an E and G
    # forward pass per iteration
    reuse_fakes: bool = False
    # L_CA's region edit re-encodes the global swap (Eq. 5: E(I_g)). False lets L_CA's gradient flow through
    # E(I_g) into the swap, which rewards a weak swap (the edit's outside must match I_A, and a swap close to
    # I_A makes that easy); True encodes the detached swap there, so L_CA trains the region edit to copy the
    # swap, as its target (already detached) says, and leaves the swap to its own losses
    ca_detach_swap: bool = False
    # L_CC's content term (Eq. 3: H_c(E(I_g)) = C_A). False lets its gradient flow through E(I_g) into the swap;
    # the content code carries colour, so that pulls the swap back to I_A's colours. True reads the content code
    # of the detached swap there: E and H_c still learn to encode a swap's content as C_A, G is not pushed by it.
    # The style term (H_s(E(I_g)) = S_B) keeps its path into G. Shares the detached pass with ca_detach_swap.
    cc_detach_content: bool = False
    # Primed swaps (`training.primed`): phase G's swap takes the content code of its photo primed towards its
    # reference (the export's colour priming) within a random ca_masks-kind mask by a random amount up to this
    # (0 = off, the paper's swap; 1 = up to the full Reinhard transfer). One more encoder pass per iteration.
    swap_prime: float = 0.0
    # What the primed swaps' priming follows (PRIMING_PROFILES, as the export's `--priming-profile`): "rows" the
    # reference's rows at the training mask's place (the export's default since stage 38), "global" one Lab mean
    # and spread per region (stage 37's `pr1`).
    swap_prime_profile: str = "rows"
    # The graded swap's grades (weights.swap_graded, `recolour.grade`): the share drawn without a colour cast
    # (GradeRanges.neutral), so the style code learns that a neutral reference brings no cast
    grade_neutral: float = 0.0
    weights: LossWeights = field(default_factory=LossWeights)

    def __post_init__(self) -> None:
        if self.batch_size < 2 or self.batch_size % 2:
            raise UsageError("batch_size must be even and >= 2 (pairs come from the two batch halves)")
        if self.steps < 0:
            raise UsageError("steps must be >= 0")
        if self.tcp_every < 1 or self.r1_every < 1:
            raise UsageError("tcp_every and r1_every must be >= 1")
        if not 0.0 <= self.swap_prime <= 1.0:
            raise UsageError(f"swap_prime must be between 0 and 1, got {self.swap_prime}")
        if not 0.0 <= self.grade_neutral <= 1.0:
            raise UsageError(f"grade_neutral must be between 0 and 1, got {self.grade_neutral}")
        if self.swap_prime_profile not in PRIMING_PROFILES:
            raise UsageError(f"swap_prime_profile must be one of {', '.join(PRIMING_PROFILES)}, "
                             f"got {self.swap_prime_profile!r}")
        if self.ca_masks not in CA_MASKS:
            raise UsageError(f"ca_masks must be one of {', '.join(CA_MASKS)}, got {self.ca_masks!r}")
        if self.discriminator not in DISCRIMINATORS:
            raise UsageError(f"discriminator must be one of {', '.join(DISCRIMINATORS)}, got {self.discriminator!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        raw = json.loads(text)
        w = LossWeights(**raw.pop("weights", {}))
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return cls(weights=w, **kwargs)
