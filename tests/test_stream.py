"""Training photos streamed from disk: header check with progress, decode on demand, a cache bounded
in bytes, deterministic replacement of a photo that fails to decode later."""

import numpy as np
import pytest
from PIL import Image

from tcp_core.data.stream import PhotoStore, make_batch


def _folder(tmp_path, n=6, size=(700, 600)):
    d = tmp_path / "photos"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(d / f"p{i}.jpg", quality=80)
    return d


def test_header_check_skips_bad_files_and_reports_progress(tmp_path):
    d = _folder(tmp_path, 3)
    (d / "text.jpg").write_text("not a photo")
    Image.new("RGB", (10, 10)).save(d / "tiny.png")
    said = []
    store = PhotoStore([d], 128, progress=said.append, full_check_limit=0)
    assert len(store) == 3 and store.decodes == 0  # nothing decoded yet (a large set)
    assert sorted(p.split("/")[-1] for p, _ in store.skipped) == ["text.jpg", "tiny.png"]
    assert any("found 5 image file" in m for m in said) and any("3 photo(s) to train on" in m for m in said)


def test_decoded_on_demand_downscaled_and_cached_within_budget(tmp_path):
    d = _folder(tmp_path, 6, size=(1600, 1200))
    store = PhotoStore([d], 128, cache_mb=3, full_check_limit=0)  # one 512x682 photo is ~1 MB
    a = store[0]
    assert min(a.shape[:2]) == 512 and a.dtype == np.uint8 and store.decodes == 1
    assert store[0] is a and store.decodes == 1  # cached
    for i in range(6):
        store[i]
    assert store.cached_bytes <= 3 * 2**20 and store.decodes == 6
    store[5]
    assert store.decodes == 6  # the most recent ones stay
    store[0]
    assert store.decodes == 7  # the oldest was dropped


def test_a_photo_that_fails_later_is_replaced_the_same_way_every_time(tmp_path):
    d = _folder(tmp_path, 4)
    store, again = PhotoStore([d], 64, full_check_limit=0), PhotoStore([d], 64, full_check_limit=0)
    bad = store.paths[3]  # step 5 of seed 0 draws photo 3 five times
    bad.write_bytes(bad.read_bytes()[:300])  # truncated after the header check
    b1 = make_batch(store, 0, 0, 5, 8, 64, (0.5, 1.0))
    assert [p for p, _ in store.skipped] == [str(bad)]
    b2 = make_batch(again, 0, 0, 5, 8, 64, (0.5, 1.0))
    assert b1.shape == (8, 3, 64, 64) and np.array_equal(b1.numpy(), b2.numpy())
    assert np.array_equal(store[3], store[0])  # replaced by the next readable photo


def test_batches_from_the_store_match_batches_from_arrays(tmp_path):
    d = _folder(tmp_path, 3)
    store = PhotoStore([d], 64)
    arrays = [store[i] for i in range(len(store))]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        a = make_batch(store, 1, 0, 3, 4, 64, (0.25, 1.0), pool)
    assert np.array_equal(a.numpy(), make_batch(arrays, 1, 0, 3, 4, 64, (0.25, 1.0)).numpy())


def test_nothing_readable_is_a_clear_error(tmp_path):
    d = tmp_path / "photos"
    d.mkdir()
    (d / "a.jpg").write_text("nope")
    with pytest.raises(ValueError, match="could be read"):
        PhotoStore([d], 64)


def test_a_small_set_is_fully_checked_before_training(tmp_path):
    d = _folder(tmp_path, 3)
    good = (d / "p0.jpg").read_bytes()
    (d / "cut.jpg").write_bytes(good[: len(good) // 3])  # a valid header, truncated pixels
    store = PhotoStore([d], 64)
    assert len(store) == 3 and store.decodes == 3  # all decoded up front
    assert [p.split("/")[-1] for p, _ in store.skipped] == ["cut.jpg"]
    assert store[0] is store[0] and store.decodes == 3  # the cache starts warm
