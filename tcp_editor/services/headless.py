"""Headless sub-commands, dispatched from the CLI to tcp_core (the service layer is the only
part of tcp_editor allowed to reach tcp_core's torch code)."""

from __future__ import annotations


def run_train(argv: list[str]) -> int:
    from tcp_core.training.cli import main

    return main(argv)


def run(cmd: str, argv: list[str]) -> int:
    if cmd in ("apply", "interpolate"):
        from tcp_core.editing.cli import main as apply_main

        return apply_main([cmd, *argv])
    if cmd == "eval":
        from tcp_core.eval.cli import main as eval_main

        return eval_main(argv)
    if cmd == "data":
        if not argv or argv[0] != "demo":
            print("usage: tcp-editor data demo --out DIR [--holdout-out DIR]")
            return 2
        from tcp_core.data.cli import main as demo_main

        return demo_main(argv[1:])
    raise ValueError(cmd)

