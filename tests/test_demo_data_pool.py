"""tcp_core.data.demo's pinned Debian packages (``"source": "deb-url"``): a .deb of an older Debian
release fetched from its pool URL, its sha256 checked before anything is extracted.

No network: a tiny .deb built here with dpkg-deb stands in for the pool's file, served from a
``--debs`` folder, through a stubbed ``_open_url``, or by an HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import shutil
import socket
import subprocess
import threading
import urllib.error

import pytest

from tcp_core.data import cli as data_cli
from tcp_core.data import demo
from tcp_core.data.demo import DemoDataError, build_demo_data

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")

NAME = "fake-backgrounds"
KEY = "fake-backgrounds-0.9"  # an older version of a package gets a key of its own
URL = f"http://deb.example.org/debian/pool/main/f/{NAME}/{NAME}_0.9-1_all.deb"
QUIET = {"log": lambda s: None}


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _build_deb(root, version: str, files: dict[str, bytes], out):
    """A real (tiny) .deb with ``files`` and a debian/copyright, built with dpkg-deb."""
    for rel, data in {**files, f"usr/share/doc/{NAME}/copyright": b"Files: *\nLicense: CC0-1.0\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        f"Package: {NAME}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.org>\n"
        "Description: test\n test package\n")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(root), str(out)], check=True,
                   capture_output=True)
    return out


def _entry(pid, pkg, rel, data, split="train"):
    return {"id": pid, "package": pkg, "path": rel, "sha256": _sha(data), "author": "A. Photographer",
            "copyright": "2020, A. Photographer", "license": "CC0-1.0", "description": f"{pid} photo",
            "kind": "test", "split": split}


@pytest.fixture
def pinned(tmp_path):
    """A folder with the pinned .deb (named as in its URL), its bytes, and a list with one train and
    one holdout photo from it."""
    files = {"usr/share/backgrounds/fake/Road.jpg": b"road-bytes", "usr/share/backgrounds/fake/Sea.jpg": b"sea-bytes",
             "usr/share/backgrounds/fake/Artwork.png": b"not listed"}
    debs = tmp_path / "debs"
    debs.mkdir()
    deb = _build_deb(tmp_path / "root09", "0.9-1", files, debs / URL.rsplit("/", 1)[-1])
    data = deb.read_bytes()
    doc = {
        "packages": {KEY: {"source": "deb-url", "deb_name": NAME, "version": "0.9-1", "url": URL,
                           "deb_sha256": _sha(data), "copyright_file": f"usr/share/doc/{NAME}/copyright",
                           "note": "an older release"}},
        "photos": [_entry("old-Road", KEY, "usr/share/backgrounds/fake/Road.jpg", b"road-bytes"),
                   _entry("old-Sea", KEY, "usr/share/backgrounds/fake/Sea.jpg", b"sea-bytes", "holdout")],
    }
    return debs, data, doc


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _no_download(*a, **k):
    raise AssertionError("nothing may be downloaded here")


def _served(data: bytes, seen: list | None = None):
    """A stand-in for ``_open_url`` that serves ``data`` (and records the URL and timeout)."""
    def open_url(url, timeout):
        if seen is not None:
            seen.append((url, timeout))
        return io.BytesIO(data)
    return open_url


def test_pinned_deb_from_the_debs_folder(pinned, tmp_path, monkeypatch):
    debs, _, doc = pinned
    monkeypatch.setattr(demo, "_open_url", _no_download)
    real_which = shutil.which
    monkeypatch.setattr(demo.shutil, "which", lambda t: None if t == "apt-get" else real_which(t))  # apt not needed
    out = tmp_path / "d" / "train"
    summary = build_demo_data(out, debs_dir=debs, photo_list=doc, **QUIET)
    assert summary["train"] == ["old-Road.jpg"] and summary["holdout"] == ["old-Sea.jpg"]
    assert (out / "old-Road.jpg").read_bytes() == b"road-bytes"
    assert (tmp_path / "d" / "holdout" / "old-Sea.jpg").read_bytes() == b"sea-bytes"
    assert sorted(p.name for p in out.iterdir()) == ["LICENSES.md", "MANIFEST.json", "licenses", "old-Road.jpg"]
    man = json.loads((out / "MANIFEST.json").read_text())
    assert man["packages"] == {KEY: {"version": "0.9-1", "source": "deb-url", "deb_name": NAME, "url": URL,
                                     "deb_sha256": doc["packages"][KEY]["deb_sha256"]}}
    assert man["photos"][0]["package"] == KEY and man["photos"][0]["package_version"] == "0.9-1"
    lic = (out / "LICENSES.md").read_text()
    assert f"- {KEY}: {NAME} 0.9-1, {URL}" in lic and f"{KEY} 0.9-1: `usr/share/backgrounds/fake/Road.jpg`" in lic
    assert (out / "licenses" / f"{KEY}.copyright").read_text().startswith("Files: *")


def test_pinned_deb_is_downloaded_and_checked(pinned, tmp_path, monkeypatch):
    _, data, doc = pinned
    seen: list = []
    monkeypatch.setattr(demo, "_open_url", _served(data, seen))
    out = tmp_path / "d" / "train"
    logged: list[str] = []
    assert build_demo_data(out, photo_list=doc, log=logged.append)["train"] == ["old-Road.jpg"]
    assert seen == [(URL, demo.DEB_URL_TIMEOUT)] and f"downloading {URL} ..." in logged
    assert (out / "old-Road.jpg").read_bytes() == b"road-bytes"


@pytest.mark.parametrize("via", ["debs", "download"])
def test_sha256_mismatch_stops_before_extracting_or_writing(pinned, tmp_path, monkeypatch, via):
    debs, data, doc = pinned
    other = _build_deb(tmp_path / "other", "0.9-1", {"usr/share/backgrounds/fake/Road.jpg": b"road-bytes",
                                                     "usr/share/backgrounds/fake/Sea.jpg": b"sea-bytes",
                                                     "usr/share/backgrounds/fake/x": b"rebuilt"},
                       tmp_path / "other.deb").read_bytes()  # same photos, another .deb
    monkeypatch.setattr(demo, "extract_members", _no_download)  # nothing is extracted from it
    if via == "debs":
        (debs / URL.rsplit("/", 1)[-1]).write_bytes(other)
        kwargs = {"debs_dir": debs}
    else:
        monkeypatch.setattr(demo, "_open_url", _served(other))
        kwargs = {}
    out = tmp_path / "d" / "train"
    with pytest.raises(DemoDataError, match=f"sha256 mismatch.*expected {doc['packages'][KEY]['deb_sha256']}, "
                                            f"got {_sha(other)}") as ei:
        build_demo_data(out, photo_list=doc, **kwargs, **QUIET)
    assert "\n" not in str(ei.value) and "nothing was extracted" in str(ei.value)
    assert not out.exists() and not (tmp_path / "d" / "holdout").exists()


def test_a_debs_folder_without_the_pinned_file_is_a_clear_error(pinned, tmp_path, monkeypatch):
    debs, _, doc = pinned
    monkeypatch.setattr(demo, "_open_url", _no_download)  # --debs means offline: no fallback download
    (debs / URL.rsplit("/", 1)[-1]).rename(debs / f"{NAME}_0.9-1_all.deb.bak")
    with pytest.raises(DemoDataError, match=rf"no {NAME}_0\.9-1_all\.deb there \(download it from {URL}\)"):
        build_demo_data(tmp_path / "train", debs_dir=debs, photo_list=doc, **QUIET)
    with pytest.raises(DemoDataError, match="no such folder"):
        build_demo_data(tmp_path / "train", debs_dir=tmp_path / "nope", photo_list=doc, **QUIET)
    assert not (tmp_path / "train").exists()


def test_offline_is_a_one_line_error_and_exit_1(pinned, tmp_path, monkeypatch, capsys):
    _, _, doc = pinned

    def refused(url, timeout):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(demo, "_open_url", refused)
    monkeypatch.setattr(data_cli, "build_demo_data", functools.partial(build_demo_data, photo_list=doc, **QUIET))
    assert data_cli.main(["--out", str(tmp_path / "train")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: cannot download {URL} (")
    assert "Connection refused; no network?" in err and "--debs DIR" in err
    assert not (tmp_path / "train").exists()


@pytest.mark.parametrize("failure, said", [
    (urllib.error.HTTPError(URL, 404, "Not Found", None, None), "(HTTP 404 Not Found)"),
    (TimeoutError("timed out"), "(timed out; no network?)"),
    (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer; no network?"),
])
def test_download_failures_are_one_line_errors(pinned, tmp_path, monkeypatch, failure, said):
    _, _, doc = pinned

    def failing(url, timeout):
        raise failure

    monkeypatch.setattr(demo, "_open_url", failing)
    (tmp_path / "dl").mkdir()
    with pytest.raises(DemoDataError) as ei:
        demo.download_deb_url(doc["packages"][KEY], tmp_path / "dl")
    assert said in str(ei.value) and "\n" not in str(ei.value)
    assert list((tmp_path / "dl").iterdir()) == []  # no partial file left


def test_download_over_http(pinned, tmp_path):
    """The real urllib path, against a server on 127.0.0.1; and a port nobody listens on."""
    debs, data, doc = pinned
    handler = functools.partial(_QuietHandler, directory=str(debs))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        meta = {**doc["packages"][KEY], "url": f"http://127.0.0.1:{server.server_address[1]}/{URL.rsplit('/', 1)[-1]}"}
        (tmp_path / "dl").mkdir()
        got = demo.download_deb_url(meta, tmp_path / "dl", timeout=5)
        assert got.name == URL.rsplit("/", 1)[-1] and got.read_bytes() == data
        with pytest.raises(DemoDataError, match=r"\(HTTP 404 "):
            demo.download_deb_url({**meta, "url": meta["url"].replace("0.9-1", "0.8-1")}, tmp_path / "dl", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:  # a free port, closed again: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DemoDataError, match="no network"):
        demo.download_deb_url({**meta, "url": f"http://127.0.0.1:{port}/x_1_all.deb"}, tmp_path / "dl", timeout=5)


def test_an_older_version_next_to_the_listed_one(pinned, tmp_path, monkeypatch):
    """Both versions of a package in one --debs folder: the apt-style entry takes NAME_*.deb (the
    newer file), the pinned one its own file; each photo comes from its own version."""
    debs, _, doc = pinned
    _build_deb(tmp_path / "root10", "1.0-2", {"usr/share/backgrounds/fake/Lake.jpg": b"lake-bytes"},
               debs / f"{NAME}_1.0-2_all.deb")
    doc["packages"][NAME] = {"version": "1.0-2", "copyright_file": f"usr/share/doc/{NAME}/copyright"}
    doc["photos"].append(_entry("new-Lake", NAME, "usr/share/backgrounds/fake/Lake.jpg", b"lake-bytes"))
    monkeypatch.setattr(demo, "_open_url", _no_download)
    out = tmp_path / "d" / "train"
    assert build_demo_data(out, debs_dir=debs, photo_list=doc, **QUIET)["train"] == ["old-Road.jpg", "new-Lake.jpg"]
    man = json.loads((out / "MANIFEST.json").read_text())
    assert man["packages"][NAME] == {"version": "1.0-2"} and man["packages"][KEY]["version"] == "0.9-1"
    assert sorted(p.name for p in (out / "licenses").iterdir()) == sorted([f"{NAME}.copyright", f"{KEY}.copyright"])


def test_debs_folder_picks_the_listed_version_not_the_last_file(tmp_path, monkeypatch):
    """Like plasma-workspace-wallpapers 4:5.27 (NAME_4%3a5.27..., listed) next to 5.20 (pinned): the
    older file sorts last by name, yet the list's version is taken for the apt-style entry."""
    debs = tmp_path / "debs"
    debs.mkdir()
    old_url = f"http://deb.example.org/debian/pool/main/f/{NAME}/{NAME}_5.20-1_all.deb"
    old = _build_deb(tmp_path / "r520", "5.20-1", {"usr/share/wallpapers/Kite.jpg": b"old kite"},
                     debs / f"{NAME}_5.20-1_all.deb")
    _build_deb(tmp_path / "r527", "4:5.27-2", {"usr/share/wallpapers/Kite.jpg": b"new kite"},
               debs / f"{NAME}_4%3a5.27-2_all.deb")
    assert sorted(p.name for p in debs.iterdir())[-1] == old.name
    doc = {"packages": {NAME: {"version": "4:5.27-2"},
                        f"{NAME}-5.20": {"source": "deb-url", "deb_name": NAME, "version": "5.20-1", "url": old_url,
                                         "deb_sha256": _sha(old.read_bytes())}},
           "photos": [_entry("a-new-Kite", NAME, "usr/share/wallpapers/Kite.jpg", b"new kite"),
                      _entry("b-old-Kite", f"{NAME}-5.20", "usr/share/wallpapers/Kite.jpg", b"old kite")]}
    monkeypatch.setattr(demo, "_open_url", _no_download)
    out = tmp_path / "d" / "train"
    build_demo_data(out, debs_dir=debs, photo_list=doc, **QUIET)
    assert (out / "a-new-Kite.jpg").read_bytes() == b"new kite" and (out / "b-old-Kite.jpg").read_bytes() == b"old kite"
    man = json.loads((out / "MANIFEST.json").read_text())["packages"]
    assert man[NAME] == {"version": "4:5.27-2"} and man[f"{NAME}-5.20"]["version"] == "5.20-1"


@pytest.mark.parametrize("bad", [
    {"url": None}, {"deb_sha256": None}, {"deb_sha256": "abc"}, {"deb_name": None}, {"version": None},
    {"url": f"ftp://deb.example.org/{NAME}_0.9-1_all.deb"}, {"url": f"http://deb.example.org/{NAME}_0.9-1_all.tar"},
    {"url": "http://deb.example.org/other_0.9-1_all.deb"}, {"version": "1.0-1"},
])
def test_list_validation_of_deb_url_sources(pinned, bad):
    _, _, doc = pinned
    d = json.loads(json.dumps(doc))
    d["packages"][KEY].update(bad)
    with pytest.raises(DemoDataError, match=f"package {KEY}: a deb-url source needs 'deb_name', 'version', "
                                            "'deb_sha256'.*and 'url'"):
        demo.validate_photo_list(d)
    d["packages"][KEY]["source"] = "deb-ftp"
    with pytest.raises(DemoDataError, match="has source 'deb-ftp'"):
        demo.validate_photo_list(d)


def test_an_epoch_is_not_part_of_the_file_name(pinned):
    _, _, doc = pinned
    d = json.loads(json.dumps(doc))
    d["packages"][KEY]["version"] = "4:0.9-1"  # Debian pool file names leave the epoch out
    assert demo.validate_photo_list(d) is d
