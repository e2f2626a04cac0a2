"""tcp_core.data.demo's second kind of source, PyPI wheels (scikit-image's CC0 / public-domain photos).

No network: a fake wheel (a zip file) in a tmp folder stands in for `pip download`, and a failing
pip is a stand-in command; the Debian part is the fake extracted package of test_demo_data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import stat
import sys
import zipfile

import pytest

from tcp_core.data import cli as data_cli
from tcp_core.data import demo
from tcp_core.data.demo import DemoDataError, build_demo_data, load_photo_list

WHEEL_PKG = "fake-image"
WHEEL = "fake_image-1.2.0-cp312-cp312-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
DEB_PKG = "fake-wallpapers"
QUIET = {"log": lambda s: None}


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _write_wheel(path, members: dict[str, bytes], symlinks: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():  # a zip entry marked as a symlink
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


@pytest.fixture
def fake_wheel(tmp_path):
    """A folder with a fake wheel holding two listed photos, a license file and files not listed;
    the photo list that names them (both photos in the train split)."""
    files = {
        "fake/data/coffee.png": b"coffee-bytes",
        "fake/data/rocket.jpg": b"rocket-bytes",
        "fake/data/_fetchers.py": b'def coffee():\n    """CC0 by the photographer."""\n',
        "fake/data/camera.png": b"not listed",
        "fake/__init__.py": b"",
    }
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _write_wheel(wheels / WHEEL, {**files, "../escape.png": b"evil"})

    def entry(pid, rel, lic):
        return {"id": pid, "package": WHEEL_PKG, "path": rel, "sha256": _sha(files[rel]), "author": "A. Photographer",
                "license": lic, "license_note": f"{pid}: fake.data says it is {lic}", "description": f"{pid} photo",
                "kind": "test", "split": "train"}

    doc = {
        "packages": {WHEEL_PKG: {"source": "pypi-wheel", "version": "1.2.0", "wheel": WHEEL,
                                 "extra_license_files": ["fake/data/_fetchers.py"], "note": "sample photos"}},
        "photos": [entry("fake-coffee", "fake/data/coffee.png", "CC0-1.0"),
                   entry("fake-rocket", "fake/data/rocket.jpg", "public-domain")],
    }
    return wheels, doc, files


@pytest.fixture
def mixed(fake_wheel, tmp_path, monkeypatch):
    """fake_wheel's list plus a Debian package (one train, one holdout photo) whose fetching and
    extraction are stubbed by a folder of its files."""
    wheels, doc, files = fake_wheel
    root = tmp_path / "debroot"
    deb_files = {"usr/share/backgrounds/lake.jpg": b"lake-bytes", "usr/share/backgrounds/Path.jpg": b"path-bytes"}
    for rel, data in {**deb_files, f"usr/share/doc/{DEB_PKG}/copyright": b"Files: *\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    doc["packages"][DEB_PKG] = {"version": "1.0-1", "copyright_file": f"usr/share/doc/{DEB_PKG}/copyright"}
    for pid, rel, split in (("deb-lake", "usr/share/backgrounds/lake.jpg", "train"),
                            ("deb-Path", "usr/share/backgrounds/Path.jpg", "holdout")):
        doc["photos"].append({"id": pid, "package": DEB_PKG, "path": rel, "sha256": _sha(deb_files[rel]),
                              "author": "B", "license": "GPL-2+", "description": pid, "split": split})
    monkeypatch.setattr(demo, "check_tools", lambda need_apt: None)
    monkeypatch.setattr(demo, "download_debs", lambda packages, dest: {DEB_PKG: dest / f"{DEB_PKG}_1.0-1_all.deb"})
    monkeypatch.setattr(demo, "deb_field", lambda deb, field: "1.0-1")
    monkeypatch.setattr(demo, "extract_members", lambda deb, members, dest: root)
    return wheels, doc, files


def _failing_pip(monkeypatch, message="ERROR: No matching distribution found for fake-image==1.2.0"):
    """`pip download` replaced by a command that fails the way pip does offline."""
    text = f"WARNING: Retrying ...\n{message}\n"
    cmd = [sys.executable, "-c", f"import sys; sys.stderr.write({text!r}); sys.exit(1)"]
    monkeypatch.setattr(demo, "pip_download_command", lambda *a: cmd)


def test_wheel_photos_are_extracted_verified_and_licensed(fake_wheel, tmp_path):
    wheels, doc, files = fake_wheel
    out = tmp_path / "d" / "train"
    summary = build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)  # no Debian package: no apt needed
    assert summary["train"] == ["fake-coffee.png", "fake-rocket.jpg"] and summary["skipped"] == {}
    assert (out / "fake-coffee.png").read_bytes() == b"coffee-bytes"
    assert (out / "fake-rocket.jpg").read_bytes() == b"rocket-bytes"
    assert sorted(p.name for p in out.iterdir()) == ["LICENSES.md", "MANIFEST.json", "fake-coffee.png",
                                                     "fake-rocket.jpg", "licenses"]  # nothing unlisted
    assert not (tmp_path / "d" / "escape.png").exists() and not (tmp_path / "escape.png").exists()
    assert (out / "licenses" / f"{WHEEL_PKG}._fetchers.py").read_bytes() == files["fake/data/_fetchers.py"]
    man = json.loads((out / "MANIFEST.json").read_text())
    assert man["packages"] == {WHEEL_PKG: {"version": "1.2.0", "source": "pypi-wheel"}}
    row = man["photos"][0]
    assert row["path"] == "fake/data/coffee.png" and row["license"] == "CC0-1.0" and row["package"] == WHEEL_PKG
    lic = (out / "LICENSES.md").read_text()
    assert "PyPI wheels (fake-image)" in lic and "fake-coffee: fake.data says it is CC0-1.0" in lic
    assert "| fake-rocket.jpg | A. Photographer |  | public-domain | fake-image 1.2.0: `fake/data/rocket.jpg` |" in lic
    assert "- fake-image: sample photos" in lic


def test_wrong_sha256_in_a_wheel_writes_nothing(fake_wheel, tmp_path):
    wheels, doc, _ = fake_wheel
    doc["photos"][1]["sha256"] = "0" * 64
    out = tmp_path / "d" / "train"
    with pytest.raises(DemoDataError, match=r"fake-image/fake/data/rocket\.jpg: sha256 mismatch.*fake-image 1\.2\.0"):
        build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)
    assert not out.exists() and not (tmp_path / "d" / "holdout").exists()


def test_wheel_problems_are_clear_errors(fake_wheel, tmp_path):
    wheels, doc, _ = fake_wheel
    out = tmp_path / "d" / "train"
    # a listed file that the wheel lacks, and one that is a symlink there, are reported as missing
    _write_wheel(wheels / WHEEL, {"fake/data/coffee.png": b"coffee-bytes", "fake/data/_fetchers.py": b""},
                 symlinks={"fake/data/rocket.jpg": "coffee.png"})
    with pytest.raises(DemoDataError, match=r"rocket\.jpg: missing"):
        build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)
    # the file that states the licenses must be there
    _write_wheel(wheels / WHEEL, {"fake/data/coffee.png": b"coffee-bytes", "fake/data/rocket.jpg": b"rocket-bytes"})
    with pytest.raises(DemoDataError, match="license file.*fake/data/_fetchers.py"):
        build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)
    (wheels / WHEEL).write_bytes(b"not a zip")
    with pytest.raises(DemoDataError, match="cannot read the wheel"):
        build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)
    (wheels / WHEEL).unlink()
    with pytest.raises(DemoDataError, match=r"no fake_image-1\.2\.0-\*\.whl there"):
        build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)
    with pytest.raises(DemoDataError, match="no such folder"):
        build_demo_data(out, wheels_dir=tmp_path / "nope", photo_list=doc, **QUIET)
    assert not out.exists()
    # any platform's wheel of the listed version will do (the files' sha256 are checked)
    _write_wheel(wheels / "fake_image-1.2.0-py3-none-any.whl",
                 {"fake/data/coffee.png": b"coffee-bytes", "fake/data/rocket.jpg": b"rocket-bytes",
                  "fake/data/_fetchers.py": b""})
    assert build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)["train"] == [
        "fake-coffee.png", "fake-rocket.jpg"]


def test_list_validation_of_wheel_sources(fake_wheel):
    _, doc, _ = fake_wheel
    for bad in ({"wheel": None}, {"wheel": "fake_image-1.3.0-py3-none-any.whl"},
                {"wheel": "other-1.2.0-py3-none-any.whl"}, {"version": None}, {"source": "conda"}):
        d = json.loads(json.dumps(doc))
        for k, v in bad.items():
            d["packages"][WHEEL_PKG][k] = v
        with pytest.raises(DemoDataError, match="source|wheel"):
            demo.validate_photo_list(d)


def test_pip_download_fetches_exactly_the_listed_wheel(tmp_path):
    doc = load_photo_list()
    meta = doc["packages"]["scikit-image"]
    cmd = demo.pip_download_command("scikit-image", meta["version"], meta["wheel"], tmp_path)
    assert cmd[:5] == [sys.executable, "-m", "pip", "download", "--no-deps"] and "--only-binary=:all:" in cmd
    joined = " ".join(cmd)
    assert "--platform manylinux_2_24_x86_64 --platform manylinux_2_28_x86_64" in joined
    assert "--implementation cp --python-version 3.12 --abi cp312" in joined
    assert f"-d {tmp_path}" in joined and cmd[-1] == "scikit-image==0.26.0"
    pure = demo.pip_download_command("fake-image", "1.2.0", "fake_image-1.2.0-py3-none-any.whl", tmp_path)
    assert "--platform" not in pure and pure[-1] == "fake-image==1.2.0"


def test_offline_pip_skips_the_wheel_photos_and_builds_the_rest(mixed, tmp_path, monkeypatch):
    wheels, doc, _ = mixed
    out = tmp_path / "d" / "train"
    build_demo_data(out, wheels_dir=wheels, photo_list=doc, **QUIET)  # first with the wheel: 3 train photos
    assert len(json.loads((out / "MANIFEST.json").read_text())["photos"]) == 3

    _failing_pip(monkeypatch)
    logged: list[str] = []
    summary = build_demo_data(out, photo_list=doc, log=logged.append)
    assert summary["train"] == ["deb-lake.jpg"] and summary["holdout"] == ["deb-Path.jpg"]
    why = summary["skipped"][WHEEL_PKG]
    assert why == "`pip download fake-image==1.2.0` failed: ERROR: No matching distribution found for fake-image==1.2.0"
    assert any(s.startswith(f"SKIPPED the 2 {WHEEL_PKG} photo(s): ") for s in logged)
    man = json.loads((out / "MANIFEST.json").read_text())
    assert [r["file"] for r in man["photos"]] == ["deb-lake.jpg"] and man["skipped"] == {WHEEL_PKG: why}
    assert not (out / "fake-coffee.png").exists()  # the folder holds what its MANIFEST lists
    hold_man = json.loads((tmp_path / "d" / "holdout" / "MANIFEST.json").read_text())
    assert "skipped" not in hold_man and hold_man["photos"][0]["file"] == "deb-Path.jpg"


def test_offline_pip_via_the_command_line_is_a_note_not_a_traceback(mixed, tmp_path, monkeypatch, capsys):
    _, doc, _ = mixed
    _failing_pip(monkeypatch, "WARNING: Retrying (Retry(total=0)) after connection broken by 'NewConnectionError(...)'"
                 "\nERROR: Could not find a version that satisfies the requirement fake-image==1.2.0")
    monkeypatch.setattr(data_cli, "build_demo_data", functools.partial(build_demo_data, photo_list=doc, **QUIET))
    assert data_cli.main(["--out", str(tmp_path / "train")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"note: the {WHEEL_PKG} photos were skipped (")
    assert "Could not find a version" in err and "--wheels DIR" in err and "could not be reached" in err
    assert (tmp_path / "train" / "deb-lake.jpg").is_file()


def test_a_sha256_mismatch_is_not_skipped_even_with_pip_failing_elsewhere(mixed, tmp_path, monkeypatch):
    """Only a failed fetch is skipped; a Debian photo that does not match still stops everything."""
    _, doc, _ = mixed
    _failing_pip(monkeypatch)
    doc["photos"][2]["sha256"] = "1" * 64
    out = tmp_path / "d" / "train"
    with pytest.raises(DemoDataError, match="lake.jpg: sha256 mismatch"):
        build_demo_data(out, photo_list=doc, **QUIET)
    assert not out.exists()


def test_download_wheel_failures_are_one_line_fetch_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "pip_download_command", lambda *a: [str(tmp_path / "no-python"), "-m", "pip"])
    with pytest.raises(demo.WheelFetchError, match="cannot run pip"):
        demo.download_wheel("fake-image", "1.2.0", WHEEL, tmp_path)
    monkeypatch.setattr(demo, "pip_download_command", lambda *a: [sys.executable, "-c", "pass"])  # "succeeds"
    with pytest.raises(demo.WheelFetchError, match=r"wrote no fake_image-1\.2\.0-\*\.whl") as ei:
        demo.download_wheel("fake-image", "1.2.0", WHEEL, tmp_path)
    assert "\n" not in str(ei.value)
