"""The frozen executable's entry point: the same `main` as the `gemchat` script and `python -m gemchat`."""

import sys

from gemchat.cli import main

if __name__ == "__main__":
    sys.exit(main())
