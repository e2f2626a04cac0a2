"""`tcp-editor` entry point.

    tcp-editor [PHOTO]                       the editor window (bundled default model)
    tcp-editor --train DATA... --out RUN     train / fine-tune (same as `tcp-editor train ...`)
    tcp-editor apply CONTENT --style S --mask M -o OUT
    tcp-editor interpolate A B --what style --steps N -o OUT.png
    tcp-editor eval --pairs PAIRS.csv --weights SPEC --out DIR
    tcp-editor data demo --out DIR           build the demo training set from Debian packages
    tcp-editor --version

Heavy modules (torch, Qt) are imported only by the sub-command that needs them.
"""

from __future__ import annotations

import sys

from . import __version__

USAGE = __doc__


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--version"], ["-V"]):
        print(f"tcp-editor {__version__}")
        return 0
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE.strip())
        return 0
    cmd = argv[0] if argv else ""
    if cmd in ("--train", "train"):
        from .services.headless import run_train

        return run_train(argv[1:])
    if cmd in ("apply", "interpolate", "eval", "data"):
        from .services import headless

        return headless.run(cmd, argv[1:])
    from .app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
