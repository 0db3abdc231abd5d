"""Daemon logging to stdout in the form journald keeps well: one line per event, a `<N>` syslog level prefix.

systemd reads the `<N>` prefix as the priority (SyslogLevelPrefix=, on by default) and adds its own time
stamp, so lines carry no time and no colour. Run by hand, the same lines are readable in a terminal.
"""

from __future__ import annotations

import logging
import sys

_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # Keep one event on one line: journald would split a multi-line traceback into many entries.
            message += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return f"<{_PRIORITY.get(record.levelno, 6)}>{record.name}: {message.replace(chr(10), ' | ')}"


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JournalFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
