"""`tcp-editor` entry point.

    tcp-editor [PHOTO] [--weights SPEC] [--device DEV] [--precision P]   the editor window (bundled default model)
    tcp-editor --train DATA... --out RUN     train / fine-tune (same as `tcp-editor train ...`)
    tcp-editor apply CONTENT --style S --mask M -o OUT
    tcp-editor interpolate A B --what style --steps N -o OUT.png
    tcp-editor eval --pairs PAIRS.csv --weights SPEC --out DIR
    tcp-editor data demo --out DIR           build the demo training set (Debian packages, scikit-image)
    tcp-editor --version

Heavy modules (torch, Qt) are imported only by the sub-command that needs them.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__

COMMANDS = """\
other commands (each has its own --help):
  tcp-editor --train DATA... --out RUN      train or fine-tune a model on your photos
  tcp-editor apply PHOTO --style S --mask M -o OUT   edit without the window (also folders)
  tcp-editor interpolate A B --what style|content --steps N -o OUT.png
  tcp-editor eval --pairs PAIRS.csv --weights SPEC --out DIR   measure a model
  tcp-editor data demo --out DIR            build the demo training set
  tcp-editor --version
"""


def editor_parser() -> argparse.ArgumentParser:
    """The editor window's options (no Qt or torch needed to build it, so --help is instant)."""
    p = argparse.ArgumentParser(
        prog="tcp-editor", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="TCP Editor: brush regions of a photo and restyle each one towards a style photo.",
        epilog=COMMANDS)
    p.add_argument("photo", nargs="?", help="photo or .tcpproj project to open")
    p.add_argument("--weights", default=None, metavar="SPEC",
                   help="model to use: a .safetensors path, hf://OWNER/REPO/FILE.safetensors[@REV], or "
                        "'default' (the bundled demo model; also when omitted)")
    p.add_argument("--device", default=None, choices=["auto", "cpu", "cuda", "mps"],
                   help="where the network runs (default: the last device that worked, else auto: "
                        "CUDA, then Apple MPS, then the CPU)")
    p.add_argument("--precision", default=None, choices=["auto", "bf16", "fp32"],
                   help="what the network computes in (default: the last choice, else auto: bf16 where the "
                        "device runs it natively, else fp32)")
    p.add_argument("--version", action="version", version=f"tcp-editor {__version__}")
    p.add_argument("--preset", default=None, help=argparse.SUPPRESS)  # untrained preset (demos, tests)
    p.add_argument("--autosave-interval", type=int, default=None, help=argparse.SUPPRESS)
    return p


USAGE = editor_parser().format_help()


def _start_gui(argv: list[str]) -> int:
    from .syscheck import import_error_message, qt_startup_problem

    problem = qt_startup_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        from .app import run_gui
    except ImportError as e:  # a system library Qt's own libraries need (libEGL, libfontconfig, ...)
        print(import_error_message(e), file=sys.stderr)
        return 1
    return run_gui(argv)


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
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE.strip())
        return 0
    return _start_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
