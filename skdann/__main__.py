"""``python -m skdann``: the same command line as the ``skdann`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
