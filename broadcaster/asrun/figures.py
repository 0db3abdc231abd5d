"""Report figures from the as-run log alone: per topic, per day, online-learning compliance, failures, integrity.

Pure reading: the log is opened read-only, so making a report can never alter the evidence. Aggregation runs
inside SQLite: one pass folds the period's rows into a small in-memory table keyed by (day, item, category,
listed row), and plays, distinct items, minutes, per-day and per-sub-period figures are summed from those
few thousand groups in Python; a second pass collects the (day, slot) pairs that make sessions. Large logs are
split into id ranges read by parallel threads (sqlite3 releases the GIL while a statement runs). Only rows that
failed or overlap a blackout span are returned one by one. The plan is never consulted: what did not reach the
log did not air. The hash chain is verified (AsRunLog.verify) in a thread alongside the scans.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.asrun.log import AsRunLog, without_ticket_tag
from broadcaster.model import SOUNDED, Level, Status
from broadcaster.station.config import Identity, Station, topic_name

PERIODS = ("all", "day", "week", "month")
_UNIX_EPOCH_JD = 2440587.5
_ORDINAL_TO_JDN = 1721425  # date.toordinal() + this = Julian day number of that date
_PARALLEL_FROM_ROWS = 200_000  # below this, one thread is as fast as several
_BELOW_A_MILLISECOND = 0.4e-3 / 86400  # in days


@dataclass(frozen=True)
class TopicFigures:
    """One topic (category): số lượt phát, số tin bài, tổng thời lượng. Partial plays are counted apart."""

    category: str
    plays: int
    items: int
    minutes: float
    partial_plays: int = 0
    partial_minutes: float = 0.0


@dataclass(frozen=True)
class DayFigures:
    day: date
    sessions: int  # distinct slots with audio that day (emergency break-ins without a slot are not sessions)
    plays: int
    minutes: float
    by_topic: dict[str, tuple[int, float]] = field(default_factory=dict)  # category -> (plays, minutes)


@dataclass(frozen=True)
class SubPeriod:
    label: str
    first: date
    last: date
    topics: list[TopicFigures]

    @property
    def plays(self) -> int:
        return sum(t.plays for t in self.topics)

    @property
    def minutes(self) -> float:
        return sum(t.minutes for t in self.topics)


@dataclass(frozen=True)
class BlackoutException:
    """Audio that sounded inside an online-learning window: an emergency break-in, or a fault."""

    id: int
    blackout: str
    actual_start: str
    actual_end: str
    seconds: float  # the part inside the window
    category: str
    title: str
    level: str
    status: str
    reason: str

    @property
    def kind(self) -> str:
        return "emergency" if self.level == Level.EMERGENCY else "fault"


@dataclass(frozen=True)
class Failure:
    """A row that did not air in full: failed, skipped (planned but not aired) or partial."""

    id: int
    planned_start: str | None
    actual_start: str | None
    actual_end: str | None
    slot: str
    category: str
    title: str
    status: str
    level: str
    reason: str


@dataclass(frozen=True)
class QuotaMiss:
    """A broadcast day on which a topic aired fewer times than its playlists' daily minimum."""

    day: date
    category: str
    aired: int
    minimum: int


@dataclass(frozen=True)
class AiredBulletin:
    """A commune bulletin that aired in the period, with who approved it (the report's appendix)."""

    bulletin_id: int
    title: str
    plays: int
    minutes: float
    first_aired: str  # YYYY-MM-DD HH:MM:SS, station time
    last_aired: str
    approved_by: str
    approved_at: str
    emergency: bool = False


@dataclass(frozen=True)
class Integrity:
    ok: bool
    rows: int
    first_bad_id: int | None
    message: str


@dataclass
class Report:
    station: Identity
    first: date
    last: date  # inclusive
    period: str
    ref: str | None
    topics: list[TopicFigures]
    days: list[DayFigures]
    sub_periods: list[SubPeriod]
    items: int  # distinct items over all topics
    blackout_seconds: float
    exceptions: list[BlackoutException]
    failures: list[Failure]
    integrity: Integrity
    timezone: str = "Asia/Ho_Chi_Minh"
    quota_misses: list[QuotaMiss] = field(default_factory=list)
    topic_names: dict[str, str] = field(default_factory=dict)  # the station's `topics:` when the report was made
    slot_names: dict[str, str] = field(default_factory=dict)  # slot id -> name, for the documents
    blackout_names: dict[str, str] = field(default_factory=dict)  # blackout id -> name
    bulletins: list[AiredBulletin] = field(default_factory=list)  # from the approval record, joined by sha256

    def topic(self, category: str) -> str:
        """The name a reader sees for a category (its slug if the station has not named it)."""
        return topic_name(self.topic_names, category)

    @property
    def plays(self) -> int:
        return sum(t.plays for t in self.topics)

    @property
    def partial_plays(self) -> int:
        return sum(t.partial_plays for t in self.topics)

    @property
    def minutes(self) -> float:
        return sum(t.minutes for t in self.topics)

    @property
    def sessions(self) -> int:
        return sum(d.sessions for d in self.days)

    @property
    def days_on_air(self) -> int:
        return sum(1 for d in self.days if d.plays)

    @property
    def empty(self) -> bool:
        """Nothing sounded in the period (failed or skipped rows may still exist)."""
        return not any(t.plays or t.partial_plays for t in self.topics)

    def to_json(self) -> dict:
        """The stable JSON interface (docs/cli.md, "Reports")."""
        return {
            "period": {"from": self.first.isoformat(), "to": self.last.isoformat(), "split": self.period,
                       "ref": self.ref},
            "station": {"id": self.station.id, "name": self.station.name, "commune": self.station.commune,
                        "district": self.station.district, "province": self.station.province},
            "totals": {"plays": self.plays, "items": self.items, "minutes": round(self.minutes, 2),
                       "partial_plays": self.partial_plays, "sessions": self.sessions,
                       "days_on_air": self.days_on_air},
            "topics": [self._topic_json(t) for t in self.topics],
            "days": [{"date": d.day.isoformat(), "sessions": d.sessions, "plays": d.plays,
                      "minutes": round(d.minutes, 2),
                      "topics": {c: {"plays": p, "minutes": round(m, 2), "name": self.topic(c)}
                                 for c, (p, m) in d.by_topic.items()}}
                     for d in self.days],
            "sub_periods": [{"label": s.label, "from": s.first.isoformat(), "to": s.last.isoformat(),
                             "plays": s.plays, "minutes": round(s.minutes, 2),
                             "topics": [self._topic_json(t) for t in s.topics]} for s in self.sub_periods],
            "blackout_seconds": round(self.blackout_seconds, 3),
            "exceptions": [{"id": e.id, "kind": e.kind, "blackout": e.blackout, "actual_start": e.actual_start,
                            "actual_end": e.actual_end, "seconds": round(e.seconds, 3), "category": e.category,
                            "category_name": self.topic(e.category), "title": e.title, "level": e.level,
                            "status": e.status, "reason": e.reason}
                           for e in self.exceptions],
            "failures": [{"id": f.id, "status": f.status, "planned_start": f.planned_start,
                          "actual_start": f.actual_start, "actual_end": f.actual_end, "slot": f.slot,
                          "category": f.category, "category_name": self.topic(f.category), "title": f.title,
                          "level": f.level, "reason": f.reason}
                         for f in self.failures],
            "quota_misses": [{"date": q.day.isoformat(), "category": q.category,
                              "category_name": self.topic(q.category), "aired": q.aired, "minimum": q.minimum}
                             for q in self.quota_misses],
            "bulletins": [{"id": b.bulletin_id, "title": b.title, "plays": b.plays, "minutes": round(b.minutes, 2),
                           "first_aired": b.first_aired, "last_aired": b.last_aired, "approved_by": b.approved_by,
                           "approved_at": b.approved_at, "emergency": b.emergency} for b in self.bulletins],
            "log_integrity": {"ok": self.integrity.ok, "rows": self.integrity.rows,
                              "first_bad_id": self.integrity.first_bad_id, "message": self.integrity.message},
        }

    def _topic_json(self, t: TopicFigures) -> dict:
        return {"category": t.category, "name": self.topic(t.category), "plays": t.plays, "items": t.items,
                "minutes": round(t.minutes, 2), "partial_plays": t.partial_plays,
                "partial_minutes": round(t.partial_minutes, 2)}


# ---------------------------------------------------------------------------------------------- local time in SQL


def julian(moment: datetime) -> float:
    return moment.timestamp() / 86400 + _UNIX_EPOCH_JD


class LocalTimeSql:
    """SQL expressions that turn a Julian day number into the station's local date and clock time.

    A zone with one UTC offset over the period (Asia/Ho_Chi_Minh has had +07:00 since 1975) uses SQLite's own
    date functions; a zone that changes offset inside the period falls back to a Python function per row."""

    def __init__(self, zone: ZoneInfo, first: date, last: date):
        self.zone = zone
        offsets = {datetime.combine(first + timedelta(days=i), time(12), zone).utcoffset()
                   for i in range((last - first).days + 2)}
        self.fixed = offsets.pop() / timedelta(days=1) if len(offsets) == 1 else None

    def install(self, db: sqlite3.Connection) -> None:
        if self.fixed is None:
            db.create_function("local_day", 1, self._day, deterministic=True)
            db.create_function("local_day_number", 1, self._day_number, deterministic=True)
            db.create_function("local_clock", 1, self._clock, deterministic=True)

    def day_number(self, jd: str) -> str:
        """The local date as an integer Julian day number: cheaper to group on than text, and date() allocates
        (SQLite's allocator lock then serialises parallel readers)."""
        if self.fixed is not None:
            return f"CAST({jd} + {self.fixed!r} + 0.5 AS INTEGER)"
        return f"local_day_number({jd})"

    def day(self, jd: str) -> str:
        return f"date({jd} + {self.fixed!r})" if self.fixed is not None else f"local_day({jd})"

    def clock(self, jd: str) -> str:
        return f"strftime('%H:%M:%S', {jd} + {self.fixed!r})" if self.fixed is not None else f"local_clock({jd})"

    def _moment(self, jd: float | None) -> datetime | None:
        # rounded to the log's millisecond, as SQLite does: a float Julian day is a few microseconds off
        return None if jd is None else datetime.fromtimestamp(round((jd - _UNIX_EPOCH_JD) * 86400, 3), self.zone)

    def _day(self, jd: float | None) -> str | None:
        moment = self._moment(jd)
        return moment.date().isoformat() if moment else None

    def _day_number(self, jd: float | None) -> int | None:
        moment = self._moment(jd)
        return moment.date().toordinal() + _ORDINAL_TO_JDN if moment else None

    def _clock(self, jd: float | None) -> str | None:
        moment = self._moment(jd)
        return moment.strftime("%H:%M:%S") if moment else None


# ---------------------------------------------------------------------------------------------- reading the log


def open_read_only(log_path: Path) -> sqlite3.Connection:
    """An in-memory scratch database with the log attached read-only as `log`."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("ATTACH DATABASE ? AS log", (Path(log_path).resolve().as_uri() + "?mode=ro",))
    return db


def period_bounds(zone: ZoneInfo, first: date, last: date) -> tuple[float, float]:
    """Julian day numbers of local midnight at the start of `first` and the end of `last`."""
    return (julian(datetime.combine(first, time(0), zone)),
            julian(datetime.combine(last + timedelta(days=1), time(0), zone)))


def period_params(zone: ZoneInfo, first: date, last: date) -> dict:
    """Bounds for _IN_PERIOD: instants (Julian days) and text dates one day inside and outside the period.

    A row's text stamp carries its own offset (at most 14 h), so its text date is within a day of the station's:
    rows dated strictly inside the period are in it, rows dated over a day outside are not, and julianday() (the
    costly part of a scan) is only evaluated for rows near either end. :hi is the period's end less 0.4 ms, below
    the log's millisecond resolution, so one BETWEEN does."""
    lo, hi = period_bounds(zone, first, last)
    day = timedelta(days=1)
    return {"lo": lo, "hi": hi - _BELOW_A_MILLISECOND, "in_lo": (first + day).isoformat(),
            "in_hi": last.isoformat(), "out_lo": (first - day).isoformat(), "out_hi": (last + 2 * day).isoformat()}


# Rows in the period: by actual start, or by planned start if the row never started (as AsRunLog.entries).
_STAMP = "coalesce(actual_start, planned_start)"
_START = f"julianday({_STAMP})"
_IN_PERIOD = (f"{_STAMP} >= :out_lo AND {_STAMP} < :out_hi "
              f"AND ({_STAMP} >= :in_lo AND {_STAMP} < :in_hi OR {_START} BETWEEN :lo AND :hi) "
              "AND id BETWEEN :id_lo AND :id_hi")


@dataclass
class _Partial:
    groups: list[tuple] = field(default_factory=list)
    sessions: list[tuple] = field(default_factory=list)
    overlaps: list[tuple] = field(default_factory=list)
    failures: list[tuple] = field(default_factory=list)
    error: BaseException | None = None


def _read_chunk(log_path: Path, clock: LocalTimeSql, params: dict, spans: list[tuple], out: _Partial) -> None:
    """Fold one id range of the log into groups; list the rows that failed or touched a blackout."""
    try:
        db = open_read_only(log_path)
        clock.install(db)
        db.execute("CREATE TEMP TABLE spans (day INTEGER, lo REAL, hi REAL, blackout TEXT)")
        db.execute("CREATE INDEX spans_day ON spans(day)")
        db.executemany("INSERT INTO spans VALUES (?, ?, ?, ?)", spans)
        # `listed` is the row id for rows reported one by one (not aired in full, or sounding in a blackout),
        # 0 for the rest, so every row with listed = 0 is "aired" and status need not be in the key (each key
        # column costs); an upsert into this small keyed table is about twice as fast as a GROUP BY, which
        # would sort every row. Slots are folded apart (table s): in a log merged from many communes, slot
        # names multiply the groups by the number of communes.
        db.execute("CREATE TEMP TABLE g (day INTEGER, item TEXT, category TEXT, listed INTEGER, status TEXT, "
                   "n INTEGER, seconds REAL, PRIMARY KEY (day, item, category, listed)) WITHOUT ROWID")
        db.execute("CREATE TEMP TABLE s (day INTEGER, slot TEXT, PRIMARY KEY (day, slot)) WITHOUT ROWID")
        touches_blackout = (
            "actual_start < :spans_to AND actual_end > :spans_from AND EXISTS ("
            f"SELECT 1 FROM spans AS s WHERE s.day BETWEEN {clock.day_number('julianday(actual_start)')} "
            f"AND {clock.day_number('julianday(actual_end)')} "
            "AND julianday(actual_start) < s.hi AND julianday(actual_end) > s.lo)")
        db.execute(
            f"INSERT INTO g SELECT {clock.day_number(_START)}, "
            "coalesce(nullif(sha256, ''), nullif(file, ''), title), category, "
            f"CASE WHEN status != 'aired' OR ({touches_blackout}) THEN id ELSE 0 END, status, 1, "
            "coalesce((julianday(actual_end) - julianday(actual_start)) * 86400, 0) "
            f"FROM log.asrun WHERE {_IN_PERIOD} "
            "ON CONFLICT DO UPDATE SET n = n + 1, seconds = seconds + excluded.seconds", params)
        out.groups = db.execute("SELECT * FROM g").fetchall()
        db.execute(f"INSERT OR IGNORE INTO s SELECT {clock.day_number(_START)}, slot FROM log.asrun "
                   f"WHERE status IN ('aired', 'partial') AND slot != '' AND {_IN_PERIOD}", params)
        out.sessions = db.execute("SELECT * FROM s").fetchall()
        db.execute("CREATE TEMP TABLE listed AS SELECT listed AS id FROM g WHERE listed != 0")
        out.failures = db.execute(
            "SELECT id, planned_start, actual_start, actual_end, slot, category, title, status, level, reason "
            "FROM log.asrun WHERE id IN (SELECT id FROM listed) AND status != 'aired' ORDER BY id").fetchall()
        out.overlaps = db.execute(
            "SELECT a.id, s.blackout, a.actual_start, a.actual_end, "
            "(min(julianday(a.actual_end), s.hi) - max(julianday(a.actual_start), s.lo)) * 86400, "
            "a.category, a.title, a.level, a.status, a.reason FROM log.asrun AS a JOIN spans AS s "
            "ON julianday(a.actual_start) < s.hi AND julianday(a.actual_end) > s.lo "
            "WHERE a.id IN (SELECT id FROM listed) AND a.status IN ('aired', 'partial') "
            "ORDER BY a.id, s.lo").fetchall()
        db.close()
    except BaseException as err:  # re-raised in the calling thread
        out.error = err


def _shown(row: tuple) -> tuple:
    """A row as a report shows it: its reason (the last column) without the break-in ticket tag, which is for
    the daemon's restart check (`AsRunLog.with_reason`), not for the commune or the district."""
    return (*row[:-1], without_ticket_tag(row[-1]))


def blackout_spans(station: Station, first: date, last: date) -> list[tuple[str, float, float, str]]:
    """(local day, start, end as Julian day numbers, blackout id) for every blackout window in the period."""
    spans = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        for blackout in station.blackouts:
            window = blackout.when.on(day, station.zone)
            if window:
                spans.append((day.toordinal() + _ORDINAL_TO_JDN, julian(window[0]), julian(window[1]), blackout.id))
    return spans


def verify_chain(log_path: Path) -> Integrity:
    with AsRunLog(log_path) as log:
        check = log.verify()
    return Integrity(check.ok, check.rows, check.first_bad_id, check.message)


def _verify_into(log_path: Path, out: list) -> None:
    try:
        out.append(verify_chain(log_path))
    except BaseException as err:  # re-raised in the calling thread
        out.append(err)


def build_report(log_path: str | Path, station: Station, first: date, last: date, period: str = "all",
                 ref: str | None = None, threads: int | None = None, integrity: Integrity | None = None,
                 progress: Callable[[str, int, int | None], None] | None = None) -> Report:
    """Every figure of a results report for [first, last] (local days, inclusive) from the as-run log.
    `progress("report-log", done, total)` hears of each scan of the log (and the chain check) finished."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    log_path = Path(log_path)
    clock = LocalTimeSql(station.zone, first, last)
    db = open_read_only(log_path)
    id_lo, id_hi = db.execute("SELECT coalesce((SELECT min(id) FROM log.asrun), 0), "
                              "coalesce((SELECT max(id) FROM log.asrun), -1)").fetchone()  # two index lookups
    db.close()
    count = max(id_hi - id_lo + 1, 0)
    threads = threads or (min(os.cpu_count() or 1, 4) if count >= _PARALLEL_FROM_ROWS else 1)
    step = count // threads + 1
    spans = blackout_spans(station, first, last)
    # Text bounds a day around the blackout days, so rows far from any blackout skip the exact check.
    span_days = [date.fromordinal(s[0] - _ORDINAL_TO_JDN) for s in spans]
    params = {**period_params(station.zone, first, last),
              "spans_from": (min(span_days) - timedelta(days=1)).isoformat() if spans else "9999",
              "spans_to": (max(span_days) + timedelta(days=2)).isoformat() if spans else "0000"}
    parts = [_Partial() for _ in range(threads)]
    workers = [threading.Thread(target=_read_chunk, args=(
        log_path, clock, {**params, "id_lo": id_lo + k * step, "id_hi": id_lo + (k + 1) * step - 1},
        spans, parts[k])) for k in range(threads)]
    checked: list[Integrity | BaseException] = []
    if integrity is None:  # verifying is Python work and the scans are SQLite work: they overlap on two cores
        workers.append(threading.Thread(target=_verify_into, args=(log_path, checked)))
    for w in workers:
        w.start()
    for done, w in enumerate(workers, 1):
        w.join()
        if progress:
            progress("report-log", done, len(workers))
    for failure in [p.error for p in parts if p.error] + [c for c in checked if isinstance(c, BaseException)]:
        raise failure
    integrity = integrity or checked[0]
    groups = [(date.fromordinal(g[0] - _ORDINAL_TO_JDN).isoformat(), *g[1:]) for p in parts for g in p.groups]
    sessions: dict[str, int] = defaultdict(int)
    for day, _slot in {pair for p in parts for pair in p.sessions}:  # a chunk edge can split a session
        sessions[date.fromordinal(day - _ORDINAL_TO_JDN).isoformat()] += 1
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    exceptions = [BlackoutException(*_shown(row)) for p in parts for row in p.overlaps]
    return Report(
        station=station.identity, first=first, last=last, period=period, ref=ref,
        topics=_topics(groups), days=_days(groups, sessions, days),
        sub_periods=[SubPeriod(label, a, b, _topics([g for g in groups if a.isoformat() <= g[0] <= b.isoformat()]))
                     for label, a, b in split_period(first, last, period)],
        items=len({g[1] for g in groups if g[4] == Status.AIRED}),
        blackout_seconds=sum(e.seconds for e in exceptions), exceptions=exceptions,
        failures=[Failure(*_shown(row)) for p in parts for row in p.failures],
        integrity=integrity, timezone=station.timezone, topic_names=dict(station.topics),
        slot_names={s.id: s.name for s in station.slots}, blackout_names={b.id: b.name for b in station.blackouts})


def _topics(groups: list[tuple]) -> list[TopicFigures]:
    plays: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    partial: dict[str, int] = defaultdict(int)
    partial_seconds: dict[str, float] = defaultdict(float)
    items: dict[str, set] = defaultdict(set)
    for _day, item, category, _listed, status, n, secs in groups:
        if status == Status.AIRED:
            plays[category] += n
            seconds[category] += secs
            items[category].add(item)
        elif status == Status.PARTIAL:
            partial[category] += n
            partial_seconds[category] += secs
    return [TopicFigures(c, plays[c], len(items[c]), seconds[c] / 60, partial[c], partial_seconds[c] / 60)
            for c in sorted(set(plays) | set(partial))]


def _days(groups: list[tuple], sessions: dict[str, int], days: list[date]) -> list[DayFigures]:
    by_topic: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    for day, _item, category, _listed, status, n, secs in groups:
        if status == Status.AIRED:
            figures = by_topic[day][category]
            figures[0] += n
            figures[1] += secs / 60
    out = []
    for day in days:
        topics = {c: (p, m) for c, (p, m) in sorted(by_topic.get(day.isoformat(), {}).items())}
        out.append(DayFigures(day, sessions.get(day.isoformat(), 0), sum(p for p, _ in topics.values()),
                              sum(m for _, m in topics.values()), topics))
    return out


def split_period(first: date, last: date, period: str) -> list[tuple[str, date, date]]:
    """Sub-periods (label, first, last) of [first, last]: whole days, ISO weeks or calendar months, clipped."""
    if period == "all":
        return [(f"{first.isoformat()} – {last.isoformat()}", first, last)]
    out = []
    day = first
    while day <= last:
        if period == "day":
            end, label = day, day.isoformat()
        elif period == "week":
            end = day + timedelta(days=6 - day.weekday())
            year, week, _ = day.isocalendar()
            label = f"{year}-W{week:02d}"
        else:
            following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            end, label = following - timedelta(days=1), f"{day.year}-{day.month:02d}"
        end = min(end, last)
        out.append((label, day, end))
        day = end + timedelta(days=1)
    return out


@dataclass(frozen=True)
class LoggedItem:
    """One row of the log in station time, for the item lists (CSV, XLSX) and the weekly logbook."""

    id: int
    day: str
    start: str  # HH:MM:SS, actual (or planned, if it never started)
    end: str  # HH:MM:SS, or "" if it never started
    seconds: float
    slot: str
    category: str
    title: str
    file: str
    sha256: str
    level: str
    status: str
    reason: str


def logged_items(log_path: str | Path, station: Station, first: date, last: date,
                 statuses: tuple[str, ...] = SOUNDED) -> Iterator[LoggedItem]:
    """Rows of [first, last] with these statuses in log order, streamed (a province-year is 1.3 M rows)."""
    clock = LocalTimeSql(station.zone, first, last)
    db = open_read_only(Path(log_path))
    clock.install(db)
    b, e = "julianday(actual_start)", "julianday(actual_end)"
    params = period_params(station.zone, first, last) | {"id_lo": -(2**62), "id_hi": 2**62}
    params |= {f"status{i}": status for i, status in enumerate(statuses)}
    marks = ", ".join(f":status{i}" for i in range(len(statuses)))
    cur = db.execute(
        f"SELECT id, {clock.day(_START)}, {clock.clock(_START)}, coalesce({clock.clock(e)}, ''), "
        f"coalesce(({e} - {b}) * 86400, 0), slot, category, title, file, sha256, level, status, reason "
        f"FROM log.asrun WHERE status IN ({marks}) AND {_IN_PERIOD} ORDER BY id", params)
    try:
        for row in cur:
            yield LoggedItem(*_shown(row))
    finally:
        db.close()


def quota_misses(report: Report, station: Station, minimums: dict[str, int]) -> list[QuotaMiss]:
    """Days with slots in the config on which a topic aired (status aired) less than its daily minimum.

    The minimums come from the playlists' rules (e.g. Bluezone 3-5 a day), not from any plan: what counts is
    what the log says aired."""
    misses = []
    for figures in report.days:
        if not any(slot.when.applies(figures.day) for slot in station.slots):
            continue  # no broadcast was due that day
        for category, minimum in sorted(minimums.items()):
            aired = figures.by_topic.get(category, (0, 0.0))[0]
            if minimum and aired < minimum:
                misses.append(QuotaMiss(figures.day, category, aired, minimum))
    return misses
