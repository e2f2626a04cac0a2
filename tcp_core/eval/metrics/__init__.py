"""Evaluation metrics (paper Tables 1-2, METHOD section 4) plus editor-specific ones.

Pixel metrics (`image`): `ssim`, `rmse`, `psnr`, `bg_psnr`, `seam`, `seam_flat` on HxWx3 uint8 images.
Feature metrics (`frechet`, `features`): `frechet_distance`, `fid`, `sifid`, `ssd`, `style_dist`
on a named backbone (`backbones.load_backbone`). Importing this package does not load any
backbone weights; only `load_backbone` does.
"""

from tcp_core.eval.metrics.backbones import (
    BACKBONES,
    INSTALL_HINT,
    Backbone,
    BackboneError,
    BackboneUnavailable,
    load_backbone,
    supported_backbones,
)
from tcp_core.eval.metrics.features import sample_locations, self_similarity, sifid, ssd, style_dist
from tcp_core.eval.metrics.frechet import feature_stats, fid, frechet_distance
from tcp_core.eval.metrics.image import PSNR_CAP, bg_psnr, psnr, rmse, seam, seam_flat, seams, ssim

__all__ = [
    "BACKBONES", "INSTALL_HINT", "PSNR_CAP", "Backbone", "BackboneError", "BackboneUnavailable",
    "bg_psnr", "feature_stats", "fid", "frechet_distance", "load_backbone", "psnr", "rmse",
    "sample_locations", "seam", "seam_flat", "seams", "self_similarity", "sifid", "ssd", "ssim", "style_dist",
    "supported_backbones",
]
