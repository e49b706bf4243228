"""`python -m gemchat` is the same as `gemchat`."""

import sys

from gemchat.app import main

if __name__ == "__main__":
    sys.exit(main())
