"""Alarms the operator must see: the daemon's log, `log show`, and `paths.state/alarms.json` for the web console.

An alarm is raised when something keeps the station from recording what it does (the disk is full, the as-run
log cannot be written or was found damaged, the break-in folder is not the daemon's) and cleared when that
passes. The file is JSON:

    {"updated": "...", "alarms": [{"kind": "asrun-unwritable", "since": "2026-12-02T10:31:05.120+07:00",
                                   "message_vi": "...", "message_en": "...", "path": "/var/lib/.../asrun.sqlite"}]}

The file is kept at a fixed size (padded with spaces, which JSON readers ignore), reserved when the daemon
starts, and rewritten in place when a new file cannot be made: so an alarm about a full disk still reaches it.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from broadcaster.files import write_atomic

log = logging.getLogger("broadcaster.alarms")

ALARMS_FILE = "alarms.json"
RESERVED_BYTES = 64 * 1024


@dataclass(frozen=True)
class Alarm:
    kind: str
    since: str  # ISO, station zone
    message_vi: str
    message_en: str
    path: str

    def __str__(self) -> str:
        return f"BÁO ĐỘNG/ALARM {self.kind} ({self.path}) từ/since {self.since}: {self.message_vi} / {self.message_en}"


class AlarmBoard:
    def __init__(self, state: Path, zone: tzinfo):
        self.file = Path(state) / ALARMS_FILE
        self.zone = zone
        self._alarms: dict[str, Alarm] = {}
        self._lock = threading.Lock()
        self._unsaved = False

    def reserve(self) -> None:
        """At start: an empty board of the reserved size (a full disk later can still be written into)."""
        self._save()

    def raise_alarm(self, kind: str, message_vi: str, message_en: str, path: str | Path) -> None:
        """Raise (or update the message of) an alarm; logged as an error when it is new."""
        with self._lock:
            old = self._alarms.get(kind)
            if old is not None and (old.message_vi, old.message_en, old.path) == (message_vi, message_en, str(path)):
                return
            since = old.since if old else datetime.now(self.zone).isoformat(timespec="milliseconds")
            self._alarms[kind] = Alarm(kind, since, message_vi, message_en, str(path))
        if old is None:
            log.error("%s", self._alarms[kind])
        self._save()

    def clear(self, kind: str, note: str = "") -> None:
        with self._lock:
            gone = self._alarms.pop(kind, None)
        if gone is not None:
            log.warning("alarm %s cleared / hết báo động%s", kind, f": {note}" if note else "")
            self._save()

    def active(self) -> list[Alarm]:
        with self._lock:
            return list(self._alarms.values())

    def retry(self) -> None:
        """A board that could not be saved is tried again (each tick)."""
        if self._unsaved:
            self._save()

    def _save(self) -> None:
        with self._lock:
            data = {"updated": datetime.now(self.zone).isoformat(timespec="milliseconds"),
                    "alarms": [asdict(a) for a in self._alarms.values()]}
        text = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
        padded = text + b" " * max(0, RESERVED_BYTES - len(text) - 1) + b"\n"
        try:
            write_atomic(self.file, padded)
        except OSError:
            try:
                _overwrite(self.file, padded)
            except OSError as err:
                if not self._unsaved:
                    log.error("cannot write %s: %s / không ghi được tệp báo động", self.file, err)
                self._unsaved = True
                return
        self._unsaved = False


def _overwrite(target: Path, data: bytes) -> None:
    """Write into the file's own blocks: no new space is needed, the file being reserved at its full size."""
    with open(target, "r+b") as out:
        out.write(data)
        out.truncate()


def read_alarms(state: Path) -> list[Alarm]:
    """The alarms the daemon has raised (none if it never wrote the file); unreadable → one alarm saying so."""
    file = Path(state) / ALARMS_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return [Alarm(**a) for a in data.get("alarms", [])]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError) as err:
        return [Alarm("alarms-unreadable", "", "không đọc được tệp báo động", f"alarm file unreadable: {err}",
                      str(file))]
