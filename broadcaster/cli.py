"""Command-line entry: `python main.py COMMAND ...`.

Each command lives in `broadcaster/commands/<area>.py`, which has `register(subparsers)` adding its
sub-commands; each sub-command's handler takes the parsed args and returns an exit code. Problems an operator
caused are raised as `BroadcasterError` and printed here, in Vietnamese and English, with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from broadcaster.problems import BroadcasterError

# One module per area; a new area adds one line here.
COMMAND_MODULES = (
    "broadcaster.commands.station",
    "broadcaster.commands.asrun",
    "broadcaster.commands.library",
    "broadcaster.commands.simulate",
    "broadcaster.commands.report",
    "broadcaster.commands.feed",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Đài truyền thanh xã: lập lịch và phát tự động / commune radio scheduling and playout",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.yaml", help="station config (default: config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BroadcasterError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
