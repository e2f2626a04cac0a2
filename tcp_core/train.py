"""`python -m tcp_core.train`: entry point only. Training command line lives in `tcp_core.training.train`."""

import sys

from tcp_core.training.train import main

if __name__ == "__main__":
    sys.exit(main())
