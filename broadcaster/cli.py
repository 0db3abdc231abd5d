"""Command-line entry: `python main.py COMMAND ...`.

Each command lives in `broadcaster/commands/<area>.py`, which has `register(subparsers)` adding its
sub-commands; each sub-command's handler takes the parsed args and returns an exit code. Problems an operator
caused are raised as `BroadcasterError` and printed here, in Vietnamese and English, with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from broadcaster.problems import BroadcasterError

# One module per area; a new area adds one line here.
COMMAND_MODULES = (
    "broadcaster.commands.station",
    "broadcaster.commands.asrun",
    "broadcaster.commands.run",
    "broadcaster.commands.library",
    "broadcaster.commands.simulate",
    "broadcaster.commands.report",
    "broadcaster.commands.feed",
    "broadcaster.commands.web",
    "broadcaster.commands.bulletin",
)

# Commands that must start fast import only their own module: the daemon has to be back on air within 2 s of a
# restart, and the library's loudness analysis (scipy) alone takes 1.5-3 s to import.
FAST_COMMANDS = {"run": "broadcaster.commands.run", "play-now": "broadcaster.commands.run"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Đài truyền thanh xã: lập lịch và phát tự động / commune radio scheduling and playout",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.yaml", help="station config (default: config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    first = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    for name in (FAST_COMMANDS[first],) if first in FAST_COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # inside the try: a reader gone before the last line is a closed pipe too
        return code
    except BrokenPipeError:
        return closed_pipe()
    except BroadcasterError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a program ended by SIGPIPE, as `ls | head` ends


def closed_pipe() -> int:
    """The reader of our output went away (`log show | head`): end quietly, as ls and git log do.

    Python ignores SIGPIPE so sockets get an error instead; stdout is pointed at /dev/null so the interpreter's
    own flush at exit does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return SIGPIPE_EXIT


if __name__ == "__main__":
    sys.exit(main())
