"""Commune radio station command line: `python main.py --help`."""

import sys

from broadcaster.cli import main

if __name__ == "__main__":
    sys.exit(main())
