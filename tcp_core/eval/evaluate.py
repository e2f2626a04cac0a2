"""Region-edit evaluation, run by `tcp-editor eval --pairs PAIRS.csv --weights SPEC --out DIR`
(the command line is `tcp_core.eval.cli`; the report's table and sheet `tcp_core.eval.report`).

PAIRS.csv has the columns `content,style,mask` (paths relative to the CSV's folder, or absolute).
A mask is a grayscale image (white = the region to restyle; an alpha channel, if it has real
transparency, is the mask), resized to the content image (`tcp_core.io.imageio.load_mask`: a mask
painted for another aspect ratio is refused). Rows whose files are missing or unreadable are
listed under `skipped` in the report, not fatal.

Every pair is evaluated at a fixed size (content and style resized so the long side is `--size`,
256 by default). Methods:

- `tcp`: `TCPModel.region_edit` (paper Eq. 5-6): the network output resized to the content size,
  no pixel blend.
- `tcp_final`: the export path `tcp_core.editing.apply.apply_regions` (network edit on a crop
  around the region + full-resolution feathered blend), run on the content at the eval size: `tcp-editor
  apply`'s defaults (the feather across the mask's edge); `--final-inside` feathers inside the mask, as the
  editor's export does.
- `pixel`: Eq. 4, the global swap `TCPModel.swap` pasted into the content with the hard mask.
- `swapae`: the `--baseline-weights` checkpoint (a SwapAE model) through the same `region_edit`.
- `reinhard`: classic colour transfer (Reinhard et al. 2001): the Lab mean/std of the masked
  content matched to those of the style image, hard mask.
- `identity`: the content unchanged (sanity row: SSIM 1, RMSE 0, PSNR and bg_psnr at the cap).

Metrics per method, averaged over pairs (FID over the whole set); key, report label, better:

- `ssim` SSIM up, `rmse` RMSE down, `psnr` PSNR up: result vs content, whole image, 0-255.
- `fid` FID-<bb> down: result set vs the set of content photos (backbone pooled features).
- `sifid` SIFID-<bb> down: result vs style reference (lower = took the style's statistics).
- `sifid_content` SIFID-<bb>(content) up: result vs content, the paper's reading of SIFID
  (higher = more style change).
- `ssd` SSD-<bb> down: self-similarity distance, result vs content (structure kept).
- `bg_psnr` bgPSNR up: PSNR outside the mask dilated by 4 px (edit leaking out); 100 dB cap.
- `style_dist` StyleDist-<bb> down: early-feature mean/std distance, masked result vs style.
- `seam` Seam down: excess gradient magnitude on a 3 px band along the mask border.
- `seam_flat` Seam(flat) down: the same on the band's pixels where the photo has no edge (new edges only).

The paper reports SIFID with an up arrow while SPEC defines it against the style reference (where
lower means closer to the style); both are reported, with the direction that makes sense for each.
Feature metrics use a named backbone (default ImageNet MobileNetV2, so e.g. `FID-mnv2`): they are
comparable only with numbers from the same backbone, never with the paper's Inception/VGG values.

Outputs in DIR: `report.json`, `report.md` (a table with arrows) and `contact_sheet.png` (rows =
pairs, columns = content, style, mask and each method's result).
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from tcp_core.base.constants import (
    DEFAULT_SMOOTHING,
    MAX_STRENGTH,
)
from tcp_core.base.errors import UserError
from tcp_core.colour.priming import reinhard_lab
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.regions import EditModel, RegionEdit
from tcp_core.eval.metrics import backbones as _bb
from tcp_core.eval.metrics import features as _feat
from tcp_core.eval.metrics.frechet import fid as _fid
from tcp_core.eval.metrics.image import PSNR_CAP, bg_psnr, binarize_mask, psnr, rmse, seams, ssim
from tcp_core.eval.report import BETTER, MAX_SHEET_ROWS, METRICS, contact_sheet, markdown, metric_labels, thumb

ALL_METHODS = ("tcp", "tcp_final", "pixel", "swapae", "reinhard", "identity")


class EvalError(UserError, RuntimeError):
    """The evaluation cannot run at all (bad arguments, unreadable CSV, missing component)."""


# --------------------------------------------------------------------------------------------
# pairs


@dataclass
class PairRow:
    line: int  # 1-based line in the CSV (header = line 1)
    content: Path
    style: Path
    mask: Path


@dataclass
class Pair:
    row: PairRow
    content: np.ndarray  # HxWx3 uint8 at the evaluation size
    style: np.ndarray
    mask: np.ndarray  # HxW float32 in [0, 1], the content's size


def read_pairs(csv_path: str | os.PathLike) -> tuple[list[PairRow], list[dict]]:
    """Rows of PAIRS.csv (paths resolved against the CSV's folder) and problems with rows."""
    p = Path(csv_path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise EvalError(f"cannot read the pairs file {p}: {e}") from e
    reader = csv.DictReader(text.splitlines())
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    if not {"content", "style", "mask"} <= set(cols):
        raise EvalError(f"{p} must have a header with the columns content,style,mask (got {cols or 'none'})")
    reader.fieldnames = cols
    base = p.resolve().parent
    rows: list[PairRow] = []
    problems: list[dict] = []
    for rec in reader:
        i = reader.line_num
        vals = {k: (rec.get(k) or "").strip() for k in ("content", "style", "mask")}
        if not any(vals.values()) or vals["content"].startswith("#"):
            continue
        missing = [k for k, v in vals.items() if not v]
        if missing:
            problems.append({"line": i, **vals, "error": f"empty column(s): {', '.join(missing)}"})
            continue
        rows.append(PairRow(i, *(base / Path(vals[k]).expanduser() for k in ("content", "style", "mask"))))
    return rows, problems


def resize_long_side(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = size / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    if (nh, nw) == (h, w):
        return img
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)


def load_pair(row: PairRow, size: int) -> Pair:
    from tcp_core.io.imageio import load_image, load_mask

    content = resize_long_side(load_image(row.content).rgb8, size)
    style = resize_long_side(load_image(row.style).rgb8, size)
    h, w = content.shape[:2]
    if min(h, w) < 16:
        raise ValueError(f"the content image is too small at the evaluation size ({w}x{h}); need >= 16 px")
    mask = load_mask(row.mask, size=(w, h))
    return Pair(row, content, style, np.ascontiguousarray(mask, dtype=np.float32))


# --------------------------------------------------------------------------------------------
# methods that need no network


def hard_mask(mask: np.ndarray) -> np.ndarray:
    return binarize_mask(mask, mask.shape[:2])


def pixel_composite(content: np.ndarray, edited: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Eq. 4 with a hard mask: edited pixels inside, content outside."""
    m = hard_mask(mask)[:, :, None]
    return np.where(m, edited, content).astype(np.uint8)


def reinhard_transfer(content: np.ndarray, style: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reinhard et al. 2001 colour transfer inside the hard mask: the per-channel CIE Lab mean and
    standard deviation of the masked content pixels are matched to those of the whole style image
    (`tcp_core.colour.priming.reinhard_lab`, the export's colour priming). Pixels outside the mask are
    unchanged."""
    m = hard_mask(mask)
    if not m.any():
        return content.copy()
    return np.where(m[:, :, None], reinhard_lab(content, style, m.astype(np.float32)), content)


# --------------------------------------------------------------------------------------------
# models


STYLE_PARTS = ("whole", "auto")


def _part(model, p: Pair, style_part: str) -> dict:
    """kw for the model's edit: {} for the whole reference, or {"style_mask": the part of the reference
    that matches the pair's region} (`TCPModel.match_style_part`, the editor's `--style-mask auto`)."""
    if style_part == "whole":
        return {}
    match = getattr(model, "match_style_part", None)
    if match is None:
        raise EvalError("--style-part auto needs a network model")
    return {"style_mask": match(p.content, p.mask, p.style)}


def _export_record(export: ExportConfig) -> dict:
    """The report's record of tcp_final's export settings (the keys reports have always had, `report.markdown`'s)."""
    return {
        "final_smoothing": float(DEFAULT_SMOOTHING if export.smoothing is None else export.smoothing),
        "final_interior": export.interior,
        "final_interior_fill": export.interior_fill,
        "pre_transfer": float(export.priming),
        "final_inside": export.inside,
        "final_guided_feather": export.guided_feather,
        "priming_cap": None if export.priming_cap is None else float(export.priming_cap),
        "priming_profile": export.priming_profile,
        "priming_spread": export.priming_spread,
        "priming_highlights": export.priming_highlights,
        "priming_part": export.priming_part,
        "detail_gain": None if export.detail_gain is None else float(export.detail_gain),
    }


def _final_method(model: EditModel, export: ExportConfig, style_part: str = "whole",
                  strength: float = 1.0) -> Callable[[Pair], np.ndarray]:
    try:
        from tcp_core.editing.apply import apply_regions
    except ImportError as e:
        raise EvalError(
            f"method 'tcp_final' needs tcp_core.editing.apply.apply_regions (the editor's export path), "
            f"which cannot be imported: {e}") from e

    def run(p: Pair) -> np.ndarray:
        # the photo here is the content at the evaluation size, so this measures the export path at that size
        part = _part(model, p, style_part).get("style_mask")
        region = RegionEdit(p.style, p.mask, strength, part)
        return np.asarray(apply_regions(model, p.content, [region], export))

    return run


def build_methods(model, baseline, requested: Sequence[str] | None, style_part: str = "whole",
                  strength: float = 1.0, export: ExportConfig | None = None) -> tuple[dict, dict]:
    """{name: fn(Pair) -> image} for the requested methods (None = all that can run) and
    {name: why not} for default methods that cannot run. Explicitly requested methods that
    cannot run raise `EvalError`. style_part "auto": the network methods take the style from the
    part of the reference that matches the region (each model matches for itself). export: how method tcp_final
    renders (`apply_regions`' config; None: today's export, which feathers across the mask's edge as `tcp-editor
    apply` and the editor do)."""
    if style_part not in STYLE_PARTS:
        raise EvalError(f"--style-part must be one of {', '.join(STYLE_PARTS)}, not {style_part!r}")
    if not 0.0 <= strength <= MAX_STRENGTH:
        raise EvalError(f"--strength must be between 0 and {MAX_STRENGTH:g}")
    export = ExportConfig.resolve(export)
    explicit = requested is not None
    names = list(requested) if explicit else list(ALL_METHODS)
    unknown = [n for n in names if n not in ALL_METHODS]
    if unknown:
        raise EvalError(f"unknown method(s) {unknown}; choose from {', '.join(ALL_METHODS)}")
    out: dict[str, Callable[[Pair], np.ndarray]] = {}
    unavailable: dict[str, str] = {}
    for n in names:
        if n == "tcp":
            out[n] = lambda p: model.region_edit(p.content, p.style, p.mask, strength=strength,
                                                 **_part(model, p, style_part))
        elif n == "tcp_final":
            try:
                out[n] = _final_method(model, export, style_part, strength)
            except EvalError as e:
                if explicit:
                    raise
                unavailable[n] = str(e)
        elif n == "pixel":
            out[n] = lambda p: pixel_composite(
                p.content, model.swap(p.content, p.style, strength, **_part(model, p, style_part)), p.mask)
        elif n == "swapae":
            if baseline is None:
                if explicit:
                    raise EvalError("method 'swapae' needs --baseline-weights (a SwapAE checkpoint)")
                unavailable[n] = "no --baseline-weights given"
            else:
                out[n] = lambda p: baseline.region_edit(p.content, p.style, p.mask, strength=strength,
                                                        **_part(baseline, p, style_part))
        elif n == "reinhard":
            out[n] = lambda p: reinhard_transfer(p.content, p.style, p.mask)
        elif n == "identity":
            out[n] = lambda p: p.content.copy()
    return out, unavailable


# --------------------------------------------------------------------------------------------
# evaluation


@dataclass
class EvalResult:
    report: dict
    out_dir: Path
    files: dict = field(default_factory=dict)


def _finite(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _samples(fmap) -> np.ndarray:
    """[C, h, w] feature map -> [h*w, C] float64 samples."""
    return fmap.reshape(fmap.shape[0], -1).T.double().cpu().numpy()


def score_pair(p: Pair, results: dict[str, np.ndarray], bb, n_loc: int = 1024, seed: int = 0,
               batch: int = 8) -> tuple[dict[str, dict], dict[str, np.ndarray], np.ndarray]:
    """Per-pair metrics of each method's result: ({method: {metric: value}}, {method: pooled
    features}, the content's pooled features). The content and all results go through the
    backbone together in batches (one pass for early + hypercolumn features, one for pooling)."""
    c, m = p.content, p.mask
    names = list(results)
    imgs = [c] + [results[n] for n in names]
    idx = _feat.sample_locations(c.shape[0], c.shape[1], n_loc, seed)
    early, hyper, pooled = [], [], []
    for i in range(0, len(imgs), batch):
        chunk = imgs[i:i + batch]
        e, h = bb.early_and_hypercolumn(chunk, idx)
        early.append(e)
        hyper.append(h)
        pooled.append(bb.pool(chunk).double().cpu().numpy())
    early_t = torch.cat(early)
    hyper_t = torch.cat(hyper)
    pooled_np = np.concatenate(pooled)
    style_early = bb.early(p.style)[0]
    style_samples = _samples(style_early)
    style_moments = _feat.masked_moments(style_early, None)
    content_samples = _samples(early_t[0])
    content_ss = _feat.self_similarity(hyper_t[0])
    wts = _feat.mask_weights(m, c.shape[:2], tuple(early_t.shape[-2:]))
    out: dict[str, dict] = {}
    for j, n in enumerate(names, start=1):
        r = results[n]
        e = early_t[j]
        smp = _samples(e)
        seam, seam_flat = seams(r, c, m)
        sc = {
            "ssim": ssim(r, c),
            "rmse": rmse(r, c),
            "psnr": psnr(r, c),
            "sifid": _feat.sifid_from_samples(smp, style_samples),
            "sifid_content": _feat.sifid_from_samples(smp, content_samples),
            "ssd": _feat.ssd_from_matrices(_feat.self_similarity(hyper_t[j]), content_ss),
            "bg_psnr": bg_psnr(r, c, m),
            "style_dist": float("nan"),
            "seam": seam,
            "seam_flat": seam_flat,
        }
        if wts.sum() > 1e-8:
            mu_r, sd_r = _feat.masked_moments(e, wts)
            sc["style_dist"] = _feat.style_distance_from_moments(mu_r, sd_r, *style_moments)
        out[n] = sc
    return out, {n: pooled_np[j] for j, n in enumerate(names, start=1)}, pooled_np[0]


OUTPUT_NAMES = ("report.json", "report.md", "contact_sheet.png")


def _refuse_outputs_on_inputs(out: Path, inputs: Sequence[Path]) -> None:
    """The report files must never replace the pairs file or a photo/mask it lists (compared by
    device and inode, so links and other spellings of a name are caught)."""
    from tcp_core.io.files import file_id

    ids = {file_id(p): p for p in inputs if file_id(p) is not None}
    for name in OUTPUT_NAMES:
        hit = ids.get(file_id(out / name)) if file_id(out / name) is not None else None
        if hit is not None:
            raise EvalError(f"refusing to write {out / name}: it is an input of this evaluation ({hit}); "
                            "choose another --out folder so the inputs stay intact")


def evaluate(
    pairs_csv: str | os.PathLike,
    model,
    out_dir: str | os.PathLike,
    *,
    baseline=None,
    backbone=None,
    methods: Sequence[str] | None = None,
    size: int = 256,
    ssd_locations: int = 1024,
    seed: int = 0,
    model_name: str | None = None,
    baseline_name: str | None = None,
    log: Callable[[str], None] | None = None,
    style_part: str = "whole",
    strength: float = 1.0,
    export: ExportConfig | None = None,
) -> EvalResult:
    """Run the evaluation (see the module docstring); returns the report and writes DIR/report.json,
    DIR/report.md and DIR/contact_sheet.png. `backbone`: a `Backbone` or None for the default
    `mobilenet_v2` (raises `BackboneUnavailable` naming the install command if it is missing). `export`: how method
    tcp_final renders (None: today's export)."""
    log = log or (lambda s: None)
    t0 = time.perf_counter()
    if size < 32:
        raise EvalError("--size must be at least 32")
    export = ExportConfig.resolve(export)
    rows, skipped = read_pairs(pairs_csv)
    _refuse_outputs_on_inputs(Path(out_dir),
                              [Path(pairs_csv), *(f for r in rows for f in (r.content, r.style, r.mask))])
    fns, unavailable = build_methods(model, baseline, methods, style_part, strength, export)
    if not fns:
        raise EvalError("no method to evaluate")
    bb = backbone if backbone is not None else _bb.load_backbone("mobilenet_v2", device="cpu")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    names = list(fns)
    per_pair: list[dict] = []
    errors: list[dict] = []
    pooled: dict[str, list[np.ndarray]] = {n: [] for n in names}
    pooled_real: list[np.ndarray] = []
    sheet_rows: list[list[np.ndarray | None]] = []
    times = {n: 0.0 for n in names}
    t_metrics = 0.0

    for k, row in enumerate(rows):
        try:
            p = load_pair(row, size)
        except Exception as e:  # noqa: BLE001 - a bad row is reported, never fatal
            skipped.append({"line": row.line, "content": str(row.content), "style": str(row.style),
                            "mask": str(row.mask), "error": f"{type(e).__name__}: {e}"})
            log(f"[{k + 1}/{len(rows)}] line {row.line}: skipped ({e})")
            continue
        rec = {"line": row.line, "content": str(row.content), "style": str(row.style), "mask": str(row.mask),
               "metrics": {}}
        cells: list[np.ndarray | None] = [thumb(p.content), thumb(p.style),
                                          thumb((np.clip(p.mask, 0, 1) * 255).astype(np.uint8))]
        results: dict[str, np.ndarray] = {}
        for n in names:
            ts = time.perf_counter()
            try:
                res = np.asarray(fns[n](p))
                if res.shape != p.content.shape or res.dtype != np.uint8:
                    raise ValueError(
                        f"method returned {res.shape} {res.dtype}, expected {p.content.shape} uint8")
                results[n] = res
            except Exception as e:  # noqa: BLE001 - one failing method must not stop the others
                errors.append({"line": row.line, "method": n, "error": f"{type(e).__name__}: {e}"})
            times[n] += time.perf_counter() - ts
            cells.append(thumb(results[n]) if n in results else None)
        tm = time.perf_counter()
        scores, feats, real_feat = score_pair(p, results, bb, ssd_locations, seed + row.line)
        t_metrics += time.perf_counter() - tm
        pooled_real.append(real_feat)
        for n in results:
            pooled[n].append(feats[n])
            rec["metrics"][n] = {kk: _finite(v) for kk, v in scores[n].items()}
        per_pair.append(rec)
        if len(sheet_rows) < MAX_SHEET_ROWS:
            sheet_rows.append(cells)
        log(f"[{k + 1}/{len(rows)}] line {row.line}: done")

    summary: dict[str, dict] = {}
    real = np.stack(pooled_real) if pooled_real else None
    for n in names:
        vals: dict[str, float | None] = {}
        for key in METRICS:
            if key == "fid":
                continue
            xs = [r["metrics"][n][key] for r in per_pair if n in r["metrics"]]
            xs = [x for x in xs if x is not None]
            vals[key] = float(np.mean(xs)) if xs else None
        vals["fid"] = _finite(_fid(np.stack(pooled[n]), real)) if pooled[n] and real is not None else None
        vals["n"] = sum(1 for r in per_pair if n in r["metrics"])
        summary[n] = {key: vals[key] for key in (*METRICS, "n")}

    report = {
        "pairs": len(per_pair),
        "backbone": bb.name,
        "size": int(size),
        "style_part": style_part,
        "strength": float(strength),
        **_export_record(export),
        "model": model_name or getattr(model, "source", type(model).__name__),
        "baseline": (baseline_name or getattr(baseline, "source", None)) if baseline is not None else None,
        "methods": summary,
        "metric_labels": metric_labels(bb.short),
        "better": dict(BETTER),
        "psnr_cap_db": PSNR_CAP,
        "unavailable": unavailable,
        "skipped": skipped,
        "errors": errors,
        "per_pair": per_pair,
        "timing_s": {"total": round(time.perf_counter() - t0, 3), "metrics": round(t_metrics, 3),
                     **{f"method_{n}": round(v, 3) for n, v in times.items()}},
    }
    files = {"json": out / "report.json", "md": out / "report.md", "sheet": out / "contact_sheet.png"}
    _write_text(files["json"], json.dumps(report, indent=2, allow_nan=False) + "\n")
    _write_text(files["md"], markdown(report))
    if sheet_rows:
        from tcp_core.io.imageio import save_image

        save_image(files["sheet"], contact_sheet(sheet_rows, ["content", "style", "mask", *names]))
    else:
        files.pop("sheet")
    return EvalResult(report, out, files)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
