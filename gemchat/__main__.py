"""`python -m gemchat` is the same as `gemchat`."""

import sys

from gemchat.cli import main

if __name__ == "__main__":
    sys.exit(main())
