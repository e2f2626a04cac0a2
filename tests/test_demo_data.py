"""tcp_core.data.demo: the demo photo list, sha256 verification, the build; tcp_core.data.cli: its failure modes.

Nothing here needs apt or the network; a fake package folder stands in for the extracted .debs.
The one test that builds a real (tiny) .deb runs only where dpkg-deb exists.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tcp_core.data import cli as data_cli
from tcp_core.data import demo
from tcp_core.data.demo import DemoDataError, build_demo_data, load_photo_list, verify_photos

PKG = "fake-wallpapers"


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def fake_pkg(tmp_path):
    """A fake extracted package with three 'photos' and a copyright file, plus its photo list."""
    root = tmp_path / "pkgroot"
    files = {
        "usr/share/backgrounds/lake.jpg": b"lake-bytes",
        "usr/share/backgrounds/nature/flower.jpg": b"flower-bytes",
        "usr/share/wallpapers/Path/contents/images/2560x1600.jpg": b"path-bytes",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / f"usr/share/doc/{PKG}").mkdir(parents=True)
    (root / f"usr/share/doc/{PKG}/copyright").write_text("Files: *\nLicense: CC0-1.0\n")

    def entry(pid, rel, split, lic="CC0-1.0"):
        return {"id": pid, "package": PKG, "path": rel, "sha256": _sha(files[rel]), "author": "A. Photographer",
                "copyright": "2020, A. Photographer", "license": lic, "description": f"{pid} photo",
                "kind": "test", "split": split}

    doc = {
        "packages": {PKG: {"version": "1.0-1", "copyright_file": f"usr/share/doc/{PKG}/copyright"}},
        "photos": [
            entry("fake-lake", "usr/share/backgrounds/lake.jpg", "train"),
            entry("fake-flower", "usr/share/backgrounds/nature/flower.jpg", "train", "CC-BY-4.0"),
            entry("fake-Path", "usr/share/wallpapers/Path/contents/images/2560x1600.jpg", "holdout"),
        ],
    }
    return root, doc, files


def test_shipped_list_is_photos_only_and_well_formed():
    doc = load_photo_list()
    photos = doc["photos"]
    assert len(photos) == 51
    assert set(doc["packages"]) == {"plasma-workspace-wallpapers", "mate-backgrounds", "lomiri-wallpapers-16.04",
                                    "lxqt-themes", "gnome-backgrounds-3.38", "scikit-image"}
    # packages reserved for independent evaluation are never used for demo data (under any key or version)
    reserved = {"palapeli-data", "lomiri-wallpapers-20.04", "opencv-doc"}
    assert not set(doc["packages"]) & reserved
    assert not {m.get("deb_name") for m in doc["packages"].values()} & reserved
    assert not any(r in m.get("url", "") for m in doc["packages"].values() for r in reserved)
    assert [e["id"] for e in photos] == sorted(e["id"] for e in photos)  # sorted by package prefix, then name
    hold = [e for e in photos if e["split"] == "holdout"]
    # the held-out photos (and the eval pairs made from them) stay fixed when training photos are added
    assert sorted(e["id"] for e in hold) == [
        "lomiri-picosdeeuropa_by_Aitzol_Berasategi", "mate-Storm", "mate-YellowFlower", "plasma-ColdRipple",
        "plasma-FallenLeaf", "plasma-Path", "plasma-summer_1am"]
    # 36 from Debian 12 packages, 5 from gnome-backgrounds 3.38 (Debian 11, pinned URL), 3 from scikit-image's wheel
    assert len(photos) - len(hold) == 44
    assert len({e["package"] for e in hold}) == 3  # held-out photos come from every package
    assert len({e["kind"] for e in hold}) == len(hold)  # ... and are of different kinds
    ids = [e["id"] for e in photos]
    assert len(ids) == len(set(ids))
    paths = " ".join(e["path"] for e in photos)
    for artwork in ("analogpattern", "greentock", "umang", "mate/abstract/", "mate/desktop/",
                    "/Altai/", "/Honeywave/", "/Flow/", "/Shell/", "/Volna/", "/MilkyWay/", "/Autumn/",
                    "origami", "plasma-logo", "plasma_arch", "kde-plasma", "triangles", "waves", "simple_blue",
                    "Valendas", "cloud.png", "Butterfly-Kenneth-Wimer",  # lxqt-themes: artwork; uncredited photos
                    "adwaita", "Acrylic", "Endless-shapes", "Stripes", "Symbolics", "VNC", "gnome/Wood",  # gnome 3.38
                    "Icetwigs"):  # ... a photograph that neither its debian/copyright nor its AUTHORS credits
        assert artwork not in paths
    for e in photos:
        assert len(e["sha256"]) == 64 and int(e["sha256"], 16) >= 0
        assert e["author"] and e["license"] and e["description"]
        if e["package"] == "plasma-workspace-wallpapers":  # the largest image of each wallpaper
            assert e["path"].endswith("/contents/images/2560x1600.jpg")
        if e["package"] == "mate-backgrounds":
            assert e["path"].startswith("usr/share/backgrounds/mate/nature/")
        if e["package"] == "lxqt-themes":  # credited in the package's wallpapers/License, shipped with the set
            assert e["path"].startswith("usr/share/lxqt/wallpapers/") and e["split"] == "train"
            assert e["author"] == "stefonarch" and "CC-BY-SA-3.0" in e["license_note"]
        if e["package"] == "gnome-backgrounds-3.38":  # credited per file in its AUTHORS (copied with it)
            assert e["path"].startswith("usr/share/backgrounds/gnome/") and e["split"] == "train"
            assert e["license"] in ("CC-BY-SA-3.0", "GPL-2+") and e["license_note"].startswith(f"{e['id']}.jpg: ")
            assert Path(e["path"]).name in e["license_note"] and "AUTHORS" in e["license_note"]
        if e["package"] == "scikit-image":  # CC0 / public-domain colour photographs, >= 400 px, training only
            assert e["path"].startswith("skimage/data/") and e["split"] == "train"
            assert e["license"] in ("CC0-1.0", "public-domain") and min(e["size"]) >= 400
            assert e["license_note"].startswith(f"{e['id']}{Path(e['path']).suffix}: skimage.data.")
    assert sorted(e["id"] for e in photos if e["package"] == "scikit-image") == [
        "skimage-astronaut", "skimage-coffee", "skimage-rocket"]
    # scikit-image's other images: grey, synthetic, scientific, too small, or no license stated for them
    for other in ("camera", "chelsea", "motorcycle", "hubble", "retina", "clock", "coins", "moon", "brick", "grass",
                  "gravel", "ihc", "cell", "text", "page", "logo", "horse", "chessboard", "phantom", "color"):
        assert f"skimage/data/{other}" not in paths
    assert sorted(e["id"] for e in photos if e["package"] == "gnome-backgrounds-3.38") == [
        "gnome-ColdWarm", "gnome-Dark_Ivy", "gnome-LightWaves", "gnome-Road", "gnome-SeaSunset"]
    gnome = doc["packages"]["gnome-backgrounds-3.38"]
    assert demo.package_source(doc, "gnome-backgrounds-3.38") == "deb-url"
    assert gnome["url"] == ("http://deb.debian.org/debian/pool/main/g/gnome-backgrounds/"
                            "gnome-backgrounds_3.38.0-1_all.deb") and gnome["deb_name"] == "gnome-backgrounds"
    assert demo.license_files(doc, "gnome-backgrounds-3.38") == [
        ("usr/share/doc/gnome-backgrounds/copyright", "gnome-backgrounds-3.38.copyright"),
        ("usr/share/doc/gnome-backgrounds/AUTHORS", "gnome-backgrounds-3.38.AUTHORS")]
    assert demo.package_source(doc, "scikit-image") == "pypi-wheel"
    assert demo.license_files(doc, "scikit-image") == [("skimage/data/_fetchers.py", "scikit-image._fetchers.py")]
    assert demo.license_files(doc, "lxqt-themes") == [
        ("usr/share/doc/lxqt-themes/copyright", "lxqt-themes.copyright"),
        ("usr/share/lxqt/wallpapers/License", "lxqt-themes.License")]


def test_verify_accepts_good_and_names_each_mismatch(fake_pkg):
    root, doc, _ = fake_pkg
    ok = verify_photos(doc, {PKG: root})
    assert [e["id"] for e, _ in ok] == ["fake-lake", "fake-flower", "fake-Path"]
    assert all(p.is_file() for _, p in ok)

    (root / "usr/share/backgrounds/nature/flower.jpg").write_bytes(b"changed upstream")
    (root / "usr/share/backgrounds/lake.jpg").unlink()
    with pytest.raises(DemoDataError) as ei:
        verify_photos(doc, {PKG: root})
    msg = str(ei.value)
    assert "nature/flower.jpg: sha256 mismatch" in msg and doc["photos"][1]["sha256"] in msg
    assert "1.0-1" in msg  # says which package version the list was made from
    assert "lake.jpg: missing" in msg
    assert "Path" not in msg  # the good one is not reported

    with pytest.raises(DemoDataError, match="not extracted"):
        verify_photos(doc, {})


def test_build_copies_splits_and_writes_manifest_and_licenses(fake_pkg, tmp_path):
    root, doc, files = fake_pkg
    out = tmp_path / "data" / "train"
    summary = build_demo_data(out, photo_list=doc, package_roots={PKG: root}, log=lambda s: None)
    hold = tmp_path / "data" / "holdout"  # default: OUT/../holdout
    assert summary["train"] == ["fake-lake.jpg", "fake-flower.jpg"] and summary["holdout"] == ["fake-Path.jpg"]
    assert (out / "fake-lake.jpg").read_bytes() == b"lake-bytes"
    assert (hold / "fake-Path.jpg").read_bytes() == b"path-bytes"
    assert not (out / "fake-Path.jpg").exists()

    man = json.loads((out / "MANIFEST.json").read_text())
    assert man["split"] == "train"
    row = man["photos"][1]
    assert row["file"] == "fake-flower.jpg" and row["license"] == "CC-BY-4.0"
    assert row["author"] == "A. Photographer" and row["package"] == PKG and row["package_version"] == "1.0-1"
    assert row["path"] == "usr/share/backgrounds/nature/flower.jpg"
    lic = (out / "LICENSES.md").read_text()
    assert "fake-flower.jpg" in lic and "CC-BY-4.0" in lic and "A. Photographer" in lic
    assert (out / "licenses" / f"{PKG}.copyright").read_text().startswith("Files: *")
    assert json.loads((hold / "MANIFEST.json").read_text())["photos"][0]["file"] == "fake-Path.jpg"

    # a photo moved to the holdout split disappears from the train folder on rebuild (no leak)
    doc2 = copy.deepcopy(doc)
    doc2["photos"][0]["split"] = "holdout"
    (out / "my_own_photo.jpg").write_bytes(b"user file")  # files the builder did not write are kept
    build_demo_data(out, photo_list=doc2, package_roots={PKG: root}, log=lambda s: None)
    assert not (out / "fake-lake.jpg").exists()
    assert (hold / "fake-lake.jpg").read_bytes() == b"lake-bytes"
    assert (out / "my_own_photo.jpg").exists()


def test_build_writes_nothing_on_mismatch(fake_pkg, tmp_path):
    root, doc, _ = fake_pkg
    doc["photos"][2]["sha256"] = "0" * 64
    out = tmp_path / "out" / "train"
    with pytest.raises(DemoDataError, match=r"2560x1600\.jpg: sha256 mismatch"):
        build_demo_data(out, photo_list=doc, package_roots={PKG: root}, log=lambda s: None)
    assert not out.exists() and not (tmp_path / "out" / "holdout").exists()


def test_holdout_inside_train_is_refused(fake_pkg, tmp_path):
    root, doc, _ = fake_pkg
    with pytest.raises(DemoDataError, match="holdout"):
        build_demo_data(tmp_path / "t", tmp_path / "t" / "holdout", photo_list=doc, package_roots={PKG: root})
    with pytest.raises(DemoDataError, match="holdout"):
        build_demo_data(tmp_path / "t", tmp_path / "t", photo_list=doc, package_roots={PKG: root})


def test_extra_license_files_are_copied_and_required(fake_pkg, tmp_path):
    """An upstream license file listed in extra_license_files (lxqt-themes' wallpapers/License credits the
    photographer) lands in licenses/<package>.<name>; if the package lacks it, nothing is written."""
    root, doc, _ = fake_pkg
    (root / "usr/share/backgrounds/License").write_text("Credits: A. Photographer\n")
    doc["packages"][PKG]["extra_license_files"] = ["usr/share/backgrounds/License"]
    out = tmp_path / "d" / "train"
    build_demo_data(out, photo_list=doc, package_roots={PKG: root}, log=lambda s: None)
    for folder in (out, tmp_path / "d" / "holdout"):
        assert (folder / "licenses" / f"{PKG}.License").read_text() == "Credits: A. Photographer\n"
        assert (folder / "licenses" / f"{PKG}.copyright").is_file()

    (root / "usr/share/backgrounds/License").unlink()
    out2 = tmp_path / "e" / "train"
    with pytest.raises(DemoDataError, match="usr/share/backgrounds/License"):
        build_demo_data(out2, photo_list=doc, package_roots={PKG: root}, log=lambda s: None)
    assert not out2.exists()

    for bad in ("usr/share/backgrounds/License", ["/etc/passwd"], ["../x"], [""]):
        doc["packages"][PKG]["extra_license_files"] = bad
        with pytest.raises(DemoDataError, match="extra_license_files"):
            build_demo_data(out2, photo_list=doc, package_roots={PKG: root}, log=lambda s: None)


def test_bad_list_is_a_clear_error(tmp_path):
    bad = tmp_path / "list.json"
    bad.write_text(json.dumps({"packages": {"p": {}}, "photos": [{"id": "x", "package": "p"}]}))
    with pytest.raises(DemoDataError, match="lacks path, sha256"):
        load_photo_list(bad)
    bad.write_text("{not json")
    with pytest.raises(DemoDataError, match="cannot read"):
        load_photo_list(bad)


def test_main_without_debian_tools_exits_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(demo.shutil, "which", lambda name: None)
    assert data_cli.main(["--out", str(tmp_path / "train")]) == 2
    err = capsys.readouterr().err
    assert "apt-get" in err and "dpkg-deb" in err
    assert not (tmp_path / "train").exists()
    # with --debs only dpkg-deb is needed, and that is what it says
    assert data_cli.main(["--out", str(tmp_path / "train"), "--debs", str(tmp_path)]) == 2
    assert "dpkg-deb" in capsys.readouterr().err


def test_main_reports_a_missing_debs_folder(tmp_path, capsys):
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not installed")
    assert data_cli.main(["--out", str(tmp_path / "train"), "--debs", str(tmp_path / "nope")]) == 1
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_build_from_a_real_deb(fake_pkg, tmp_path):
    root, doc, _ = fake_pkg
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        f"Package: {PKG}\nVersion: 1.0-2\nArchitecture: all\nMaintainer: t <t@example.org>\n"
        "Description: test\n test package\n")
    (root / "usr/share/backgrounds/link.jpg").symlink_to("lake.jpg")
    (root / "usr/share/backgrounds/License").write_text("Credits: A. Photographer\n")
    doc["packages"][PKG]["extra_license_files"] = ["usr/share/backgrounds/License"]
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(root), str(debs / f"{PKG}_1.0-2_all.deb")],
                   check=True, capture_output=True)
    (debs / "unrelated_1.0_all.deb").write_bytes(b"ignored: other name")
    out = tmp_path / "d" / "train"
    summary = build_demo_data(out, debs_dir=debs, photo_list=doc, log=lambda s: None)
    assert summary["train"] == ["fake-lake.jpg", "fake-flower.jpg"]
    assert (out / "fake-flower.jpg").read_bytes() == b"flower-bytes"
    assert json.loads((out / "MANIFEST.json").read_text())["packages"][PKG]["version"] == "1.0-2"
    assert (out / "licenses" / f"{PKG}.copyright").is_file()
    assert (out / "licenses" / f"{PKG}.License").read_text() == "Credits: A. Photographer\n"  # extracted too

    # a listed path that is a symlink inside the package is not followed: reported as missing
    doc["photos"][0]["path"] = "usr/share/backgrounds/link.jpg"
    with pytest.raises(DemoDataError, match="link.jpg: missing"):
        build_demo_data(tmp_path / "e" / "train", debs_dir=debs, photo_list=doc, log=lambda s: None)


def test_missing_photos_names_what_a_training_folder_lacks(tmp_path):
    from tcp_core.data.demo import missing_photos

    doc = load_photo_list()
    train = sorted(e["id"] for e in doc["photos"] if e["split"] == "train")
    for i in train[1:]:
        (tmp_path / f"{i}.jpg").write_bytes(b"")
    assert missing_photos(tmp_path, doc=doc) == train[:1]
    (tmp_path / f"{train[0]}.png").write_bytes(b"")  # any extension counts
    assert missing_photos(tmp_path, doc=doc) == []
    assert missing_photos(tmp_path / "nowhere", doc=doc) == train
