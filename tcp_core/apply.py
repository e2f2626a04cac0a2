"""`python -m tcp_core.apply` (apply, interpolate): entry point only; the CLI is in `tcp_core.editing.cli`."""

import sys

from tcp_core.editing.cli import main

if __name__ == "__main__":
    sys.exit(main())
