"""`python -m tcp_core.evaluate`: entry point only. The evaluation command line lives in `tcp_core.eval.evaluate`."""

import sys

from tcp_core.eval.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
