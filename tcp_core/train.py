"""`python -m tcp_core.train`: entry point only. The training command line is `tcp_core.training.cli`."""

import sys

from tcp_core.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
