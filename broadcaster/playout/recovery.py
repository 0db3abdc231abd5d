"""After a crash or power cut: what was on air when the daemon stopped, and the as-run row that says so.

While a run plays the daemon keeps `paths.state/on-air.json` (which run, when it started) and touches
`paths.state/heartbeat` every second. A clean end of the run removes the marker. If the daemon starts and finds
the marker, it stopped mid-run: the item due at the last heartbeat was cut, and unless the engine already logged
it, a `partial` row is appended for it, ending at the last heartbeat (within about a second of the real stop).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from broadcaster.asrun.log import AsRunLog, iso_ms
from broadcaster.files import write_atomic
from broadcaster.model import DayPlan
from broadcaster.planning.runs import due_at

INTERRUPTED = ("bị ngắt: trạm dừng đột ngột (mất điện hoặc lỗi) / "
               "interrupted: the daemon stopped unexpectedly (power cut or crash)")


@dataclass(frozen=True)
class OnAirMarker:
    run_key: str
    started_at: datetime  # when the daemon handed the run to the engine


class OnAirState:
    def __init__(self, state_dir: Path):
        self.folder = Path(state_dir)
        self.marker = self.folder / "on-air.json"
        self.heartbeat = self.folder / "heartbeat"

    def begin(self, run_key: str, now: datetime) -> None:
        write_atomic(self.marker, json.dumps({"run_key": run_key, "started_at": iso_ms(now)}))
        self.beat()

    def beat(self) -> None:
        self.heartbeat.touch()

    def end(self) -> None:
        self.marker.unlink(missing_ok=True)

    def left_over(self) -> tuple[OnAirMarker, datetime] | None:
        """The marker of a run that never ended, and the last heartbeat (as a zone-aware instant)."""
        try:
            data = json.loads(self.marker.read_text(encoding="utf-8"))
            started = datetime.fromisoformat(data["started_at"])
            beat = datetime.fromtimestamp(self.heartbeat.stat().st_mtime, started.tzinfo)
        except (OSError, ValueError, KeyError):
            return None
        return OnAirMarker(data["run_key"], started), max(beat, started)


def record_interruption(log: AsRunLog, plans: list[DayPlan], marker: OnAirMarker, stopped_at: datetime
                        ) -> dict | None:
    """Append the `partial` row for the item cut by a crash, unless the log already has that item's row.

    Returns the row's fields (for the daemon's log line), or None when nothing was cut."""
    due = due_at(plans, stopped_at)
    if due is None or due.run.key != marker.run_key:
        return None
    item = due.item
    planned = iso_ms(item.start)
    if any(e.planned_start == planned and e.slot == item.slot for e in log.iter_entries()):
        return None
    actual_start = max(item.start, marker.started_at)
    log.append(planned_start=item.start, actual_start=actual_start, actual_end=stopped_at, status="partial",
               slot=item.slot, category=item.category, title=item.title, file=item.file, sha256=item.sha256,
               level=item.level, reason=INTERRUPTED)
    return {"title": item.title, "planned_start": planned, "stopped_at": iso_ms(stopped_at)}
