"""Errors the user can fix, and the one rule the command lines follow for them.

A `UserError` (a missing or damaged file, a bad argument or setting, a diverged run) is reported as
one line on stderr and exits with status 2. Any other exception is a bug: it is not caught, so its
traceback shows. Each library error class derives from `UserError` and from the built-in class
callers caught before (ValueError, FileNotFoundError, RuntimeError), so both keep working.
"""

from __future__ import annotations

import sys

EXIT_USER_ERROR = 2


class UserError(Exception):
    """An error the user can fix; its message says what to do."""


class UsageError(UserError, ValueError):
    """A bad argument, setting or input file for the requested operation."""


def report(error: UserError, prog: str | None = None) -> int:
    """Print `error` as one line on stderr (prefixed with `prog: error:` unless it already names the
    program) and return the exit status for it."""
    msg = str(error).replace("\n", " ")
    if prog and not msg.startswith(prog):
        msg = f"{prog}: error: {msg}"
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()
    return EXIT_USER_ERROR
