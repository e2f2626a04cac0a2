"""scripts/similar_eval.py: Select similar measured against artist-drawn regions (clicks inside them, IoU)."""
import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

_spec = importlib.util.spec_from_file_location(
    "similar_eval", Path(__file__).resolve().parents[1] / "scripts" / "similar_eval.py")
similar_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(similar_eval)


def test_clicks_fall_well_inside_the_region_and_are_seeded():
    mask = np.zeros((100, 150), bool)
    mask[10:60, 20:140] = True
    pts = similar_eval.clicks(mask, 3)
    assert len(pts) == 3 and pts == similar_eval.clicks(mask, 3) and pts != similar_eval.clicks(mask, 4)
    x, y = pts[0]
    assert abs(y - 34.5) <= 1 and 20 + 24 <= x < 140 - 24  # the most interior point: mid-height, away from the ends
    for x, y in pts[1:]:
        assert 20 + 4 <= x < 140 - 4 and 10 + 4 <= y < 60 - 4  # at least 4 % of the short side from the border


def test_the_photos_edge_counts_as_the_regions_border():
    mask = np.zeros((100, 150), bool)
    mask[:40] = True  # a sky along the top of the photo
    x, y = similar_eval.clicks(mask, 0)[0]
    assert abs(y - 19.5) <= 1  # half way down the sky, not on the photo's top row


def test_edge_clicks_fall_just_inside_the_border_with_the_rest_of_the_photo():
    mask = np.zeros((200, 300), bool)
    mask[:80] = True  # a sky along the top: its only border with the photo is row 80
    pts = similar_eval.clicks(mask, 5, "edge")
    assert len(pts) == 3 and pts == similar_eval.clicks(mask, 5, "edge")
    for _x, y in pts:
        assert 80 - 5 <= y <= 80 - 2  # 1-2.5 % of the short side (200 px) inside the border, not at the photo's edge
    assert similar_eval.clicks(np.ones((50, 50), bool), 0, "edge") == []  # no border with the photo: no edge click


def test_scores():
    mask = np.zeros((10, 10), bool)
    mask[:, :5] = True
    sel = np.zeros((10, 10), bool)
    sel[:, 2:7] = True  # half inside, half outside
    iou, precision, recall = similar_eval.scores(sel, mask)
    assert (iou, precision, recall) == (30 / 70, 30 / 50, 30 / 50)
    assert similar_eval.scores(mask, mask) == (1.0, 1.0, 1.0)
    assert similar_eval.scores(np.zeros_like(mask), mask)[0] == 0.0


def test_regions_are_read_once_each_from_a_pair_set(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "photos" / "a.png")
    Image.fromarray(np.full((10, 15), 255, np.uint8)).save(tmp_path / "masks" / "a-sky.png")
    (tmp_path / "PAIRS.csv").write_text("content,style,mask,region\nphotos/a.png,s1.jpg,masks/a-sky.png,sky\n"
                                        "photos/a.png,s2.jpg,masks/a-sky.png,sky\n")
    regs = similar_eval.regions(tmp_path)
    assert [r[0] for r in regs] == ["sky"]
    img, mask = similar_eval.load(regs[0][1], regs[0][2], 60)
    assert img.shape == (40, 60, 3) and mask.shape == (40, 60) and mask.all()
