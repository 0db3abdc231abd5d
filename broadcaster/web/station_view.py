"""What the console reads about the station, for views: the station itself, its plans (kept while the inputs
are unchanged, as the daemon does), and the live state the daemon leaves in the state folder."""

from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings

from broadcaster.model import DayPlan, PlannedItem
from broadcaster.station.config import Station, load_station

ALARM_FILES = ("alarms.json", "status.json")  # written by the daemon's fault handling, when it has any


_loaded: dict[str, tuple[int, Station]] = {}


def station() -> Station:
    """The station as config.yaml says now (read again only when the file changed)."""
    path = settings.STATION_CONFIG
    stamp = _mtime(path)
    cached = _loaded.get("station")
    if cached is None or cached[0] != stamp or not stamp:
        _loaded["station"] = (stamp, load_station(path))
    return _loaded["station"][1]


def topics(request) -> dict:
    """Context processor: topic display names (category → words) for every template."""
    from broadcaster.problems import BroadcasterError

    try:
        return {"topics": station().topics}
    except BroadcasterError:
        return {"topics": {}}


def now(st: Station) -> datetime:
    return datetime.now(st.zone)


class _PlanMemo:
    """Plans per (day, inputs' change times): a week view or a dashboard refresh re-plans only after an edit."""

    def __init__(self):
        self._lock = threading.Lock()
        self._plans: dict[tuple, DayPlan] = {}

    def plans(self, st: Station, first: date, days: int) -> list[DayPlan]:
        from broadcaster.planning.inputs import planner_inputs, watched_inputs
        from broadcaster.planning.planner import Catalogue, plan_day

        stamp = tuple(_mtime(p) for p in watched_inputs(st)) + (_tree_mtime(st.paths.playlists),)
        wanted = [first + timedelta(days=n) for n in range(days)]
        with self._lock:
            missing = [d for d in wanted if (d, stamp, st.file) not in self._plans]
            if missing:
                playlists, items = planner_inputs(st)
                catalogue = Catalogue(items)
                if len(self._plans) > 400:
                    self._plans.clear()
                for day in missing:
                    self._plans[(day, stamp, st.file)] = plan_day(st, playlists, catalogue, day)
            return [self._plans[(d, stamp, st.file)] for d in wanted]


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _tree_mtime(folder: Path) -> int:
    """Latest change among the playlists (editing a file in place does not touch its folder)."""
    try:
        return max([_mtime(folder)] + [_mtime(p) for p in folder.glob("*.yaml")])
    except OSError:
        return 0


PLANS = _PlanMemo()
_read_playlists: dict[str, tuple[tuple, dict]] = {}


def playlists(st: Station) -> dict:
    """The station's playlists by id, read again only when a file in playlists/ changed (the plan page shows each
    item's placing rule on every request; parsing the YAML each time cost more than the page's plans)."""
    from broadcaster.station.playlists import load_playlists

    folder = st.paths.playlists
    stamp = (str(folder), _mtime(folder), tuple(sorted((p.name, _mtime(p)) for p in folder.glob("*.y*ml"))))
    cached = _read_playlists.get("playlists")
    if cached is None or cached[0] != stamp:
        _read_playlists["playlists"] = cached = (stamp, load_playlists(st))  # a broken file raises, nothing kept
    return cached[1]


def plans(st: Station, first: date, days: int = 1) -> list[DayPlan]:
    return PLANS.plans(st, first, days)


@dataclass
class LiveState:
    """The dashboard's facts, each None when unknown."""

    now: datetime
    on_air: PlannedItem | None = None
    on_air_since: str | None = None
    next_item: PlannedItem | None = None
    heartbeat_age: float | None = None  # seconds since the daemon last ticked
    last_sync: str | None = None
    free_bytes: int | None = None
    total_bytes: int | None = None
    alarms: list[dict] = field(default_factory=list)
    recent: list = field(default_factory=list)  # the last as-run rows


def live_state(st: Station, today: list[DayPlan]) -> LiveState:
    from broadcaster.playout.daemon import ALIVE_FILE

    moment = now(st)
    state = LiveState(moment)
    items = [i for p in today for i in p.items]
    state.on_air = next((i for i in items if i.start <= moment < i.end), None)
    state.next_item = next((i for i in items if i.start > moment), None)
    alive = st.paths.state / ALIVE_FILE
    if alive.exists():
        state.heartbeat_age = max(0.0, time.time() - alive.stat().st_mtime)
    try:
        usage = shutil.disk_usage(st.paths.state)
        state.free_bytes, state.total_bytes = usage.free, usage.total
    except OSError:
        pass
    state.alarms = read_alarms(st.paths.state)
    state.last_sync = last_feed_sync(st)
    state.recent = recent_rows(st, 8)
    if state.recent and state.recent[0].status == "playing":
        state.on_air_since = state.recent[0].actual_start
    return state


def read_alarms(folder: Path) -> list[dict]:
    """Alarms from the daemon's status file(s), if any: a list of {message...} dicts, or {"alarms": [...]}."""
    found: list[dict] = []
    for name in ALARM_FILES:
        path = folder / name
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            found.append({"message": f"{name}: {err}"})
            continue
        entries = data.get("alarms", []) if isinstance(data, dict) else data
        found.extend(a if isinstance(a, dict) else {"message": str(a)} for a in entries or [])
    return found


def last_feed_sync(st: Station) -> str | None:
    import sqlite3

    from broadcaster.feed.state import STATE_FILE

    path = st.paths.state / STATE_FILE
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT max(at) FROM (SELECT max(accepted_at) AS at FROM accepted "
                             "UNION ALL SELECT max(updated) FROM clips)").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def recent_rows(st: Station, count: int) -> list:
    """The last `count` as-run rows, newest first (by row id: cheap on a year of log)."""
    import sqlite3

    from broadcaster.asrun.log import AsRunEntry

    path = st.paths.asrun_log
    if not path.exists():
        return []
    names = [f for f in AsRunEntry.__dataclass_fields__ if f != "id"]
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute(f"SELECT id, {', '.join(names)} FROM asrun ORDER BY id DESC LIMIT ?",
                              (count,)).fetchall()
    except sqlite3.Error:
        return []
    return [AsRunEntry(id=r[0], **dict(zip(names, r[1:]))) for r in rows]
