"""The evaluation's report (`tcp_core.eval.evaluate`): the metrics and their directions, the
Markdown table and the contact sheet."""

from __future__ import annotations

import cv2
import numpy as np

from tcp_core.eval.metrics.image import PSNR_CAP

__all__ = ["BETTER", "MAX_SHEET_ROWS", "METRICS", "THUMB", "contact_sheet", "fmt", "markdown", "metric_labels",
           "thumb"]

METRICS = ("ssim", "rmse", "psnr", "fid", "sifid", "sifid_content", "ssd", "bg_psnr", "style_dist", "seam", "seam_flat")
BETTER = {
    "ssim": "higher", "rmse": "lower", "psnr": "higher", "fid": "lower", "sifid": "lower",
    "sifid_content": "higher", "ssd": "lower", "bg_psnr": "higher", "style_dist": "lower", "seam": "lower",
    "seam_flat": "lower",
}
MAX_SHEET_ROWS = 60
THUMB = 128


def metric_labels(short: str) -> dict[str, str]:
    return {
        "ssim": "SSIM", "rmse": "RMSE", "psnr": "PSNR", "fid": f"FID-{short}", "sifid": f"SIFID-{short}",
        "sifid_content": f"SIFID-{short}(content)", "ssd": f"SSD-{short}", "bg_psnr": "bgPSNR",
        "style_dist": f"StyleDist-{short}", "seam": "Seam", "seam_flat": "Seam(flat)",
    }


def thumb(img: np.ndarray, box: int = THUMB) -> np.ndarray:
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    h, w = img.shape[:2]
    s = box / max(h, w)
    t = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    cell = np.full((box, box, 3), 40, np.uint8)
    y, x = (box - t.shape[0]) // 2, (box - t.shape[1]) // 2
    cell[y:y + t.shape[0], x:x + t.shape[1]] = t
    return cell


def contact_sheet(rows: list[list[np.ndarray | None]], headers: list[str]) -> np.ndarray:
    from PIL import Image, ImageDraw

    pad, head = 4, 18
    ncol = len(headers)
    W = ncol * (THUMB + pad) + pad
    H = head + len(rows) * (THUMB + pad) + pad
    sheet = Image.new("RGB", (W, H), (20, 20, 20))
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(headers):
        draw.text((pad + j * (THUMB + pad) + 2, 3), name, fill=(230, 230, 230))
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            x, y = pad + j * (THUMB + pad), head + i * (THUMB + pad)
            if cell is None:
                draw.rectangle([x, y, x + THUMB - 1, y + THUMB - 1], fill=(90, 30, 30))
                draw.text((x + 4, y + 4), "error", fill=(255, 220, 220))
            else:
                sheet.paste(Image.fromarray(cell), (x, y))
    return np.asarray(sheet)


def fmt(v, key: str) -> str:
    if v is None:
        return "n/a"
    if key in ("psnr", "bg_psnr") and v >= PSNR_CAP:
        return f"{PSNR_CAP:.0f} (cap)"
    if key in ("ssd", "style_dist"):
        return f"{v:.4f}"
    if key in ("ssim",):
        return f"{v:.4f}"
    return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"


def markdown(report: dict) -> str:
    labels = report["metric_labels"]
    arrow = {"higher": "↑", "lower": "↓"}
    lines = [
        "# Region-edit evaluation",
        "",
        f"{report['pairs']} pairs at long side {report['size']} px; model `{report['model']}`"
        + (f", baseline `{report['baseline']}`" if report.get("baseline") else "")
        + f"; feature backbone `{report['backbone']}`"
        + (f"; `tcp_final` colour smoothing {report['final_smoothing']:g}" if report.get("final_smoothing") is not None
           else "")
        + (f", interior {report['final_interior']}" if report.get("final_interior") else "")
        + (f", colour priming {report['pre_transfer']:g}" if report.get("pre_transfer") else "")
        + (f" (spread cap {report['priming_cap']:g})" if report.get("pre_transfer") and report.get("priming_cap")
           else "")
        + (", priming row by row" if report.get("pre_transfer") and report.get("priming_profile") == "rows" else "")
        + (", stretching detail only" if report.get("pre_transfer") and report.get("priming_spread") == "detail"
           else "")
        + (", neutral highlights" if report.get("pre_transfer") and report.get("priming_highlights") == "neutral"
           else "")
        + (f", priming part {report['priming_part']}" if report.get("pre_transfer")
           and report.get("priming_part", "place") != "place" else "")
        + (f", detail gain cap {report['detail_gain']:g}" if report.get("detail_gain") else "")
        + (", the primed photo inside each region (no network there)"
           if report.get("final_interior_fill") == "primed" else "")
        + (", feathered inside the mask" if report.get("final_inside") else "")
        + (", plain feather" if report.get("final_guided_feather") is False else "")
        + (f"; strength {report['strength']:g} (every network method)" if report.get("strength", 1.0) != 1.0 else "")
        + ("; style from the part of each reference that matches its region" if report.get("style_part") == "auto"
           else "") + ".",
        "",
        "| method | " + " | ".join(f"{labels[k]} {arrow[BETTER[k]]}" for k in METRICS) + " |",
        "|---|" + "---:|" * len(METRICS),
    ]
    for name, vals in report["methods"].items():
        lines.append(f"| {name} | " + " | ".join(fmt(vals.get(k), k) for k in METRICS) + " |")
    lines += [
        "",
        "↑ higher is better, ↓ lower is better. SSIM/RMSE/PSNR/SSD/SIFID(content) compare the result "
        "with the content photo; SIFID and StyleDist with the style reference (lower = more of the "
        "style taken); bgPSNR only outside the mask dilated by 4 px (100 dB = untouched); Seam = "
        "extra gradient magnitude on the mask border (gray levels / px), Seam(flat) the same where the photo "
        "has no edge of its own there (new edges only; n/a where the border runs along edges only). "
        "FID is over the whole result set vs the content photos; with few pairs it is a small-sample "
        "estimate, comparable only between runs of the same size.",
        f"Feature metrics use `{report['backbone']}`: compare them only with numbers from the same "
        "backbone, not with the paper's Inception/VGG values.",
    ]
    if report.get("unavailable"):
        lines += ["", "Not run:"] + [f"- `{k}`: {v}" for k, v in report["unavailable"].items()]
    if report.get("skipped"):
        lines += ["", f"Skipped rows ({len(report['skipped'])}):"]
        lines += [f"- line {s['line']}: {s['error']}" for s in report["skipped"]]
    if report.get("errors"):
        lines += ["", f"Method errors ({len(report['errors'])}):"]
        lines += [f"- line {e['line']} `{e['method']}`: {e['error']}" for e in report["errors"][:50]]
    return "\n".join(lines) + "\n"
