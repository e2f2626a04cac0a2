"""scripts/make_gallery.py: the README gallery's rows are every pair of the chosen photo and region, none picked out."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "make_gallery", Path(__file__).resolve().parents[1] / "scripts" / "make_gallery.py")
make_gallery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_gallery)


def test_rows_are_every_pair_of_the_first_matching_photo_and_region(tmp_path):
    (tmp_path / "PAIRS.csv").write_text(
        "content,style,mask,region\n"
        "photos/a-Mountain.jpg,photos/s1.jpg,masks/a-sky.png,sky\n"
        "photos/a-Mountain.jpg,photos/s2.jpg,masks/a-meadow.png,meadow\n"
        "photos/b-Lake.jpg,photos/s3.jpg,masks/b-sky.png,sky\n"
        "photos/a-Mountain.jpg,photos/s4.jpg,masks/a-sky.png,sky\n"
        "photos/b-Lake.jpg,photos/s5.jpg,masks/b-sky.png,sky\n"
        "photos/c-Path.jpg,photos/s6.jpg,masks/c-floor.png,forest floor\n")
    assert [r["style"] for r in make_gallery.rows_of(tmp_path, "sky")] == ["photos/s1.jpg", "photos/s4.jpg"]
    assert [r["style"] for r in make_gallery.rows_of(tmp_path, "lake sky")] == ["photos/s3.jpg", "photos/s5.jpg"]
    assert [r["style"] for r in make_gallery.rows_of(tmp_path, "forest floor")] == ["photos/s6.jpg"]
    assert [r["style"] for r in make_gallery.rows_of(tmp_path, "path forest floor")] == ["photos/s6.jpg"]
    with pytest.raises(SystemExit, match="fog"):
        make_gallery.rows_of(tmp_path, "fog")
