"""`python -m tcp_core.evaluate`: entry point only. The evaluation command line lives in `tcp_core.eval.cli`."""

import sys

from tcp_core.eval.cli import main

if __name__ == "__main__":
    sys.exit(main())
