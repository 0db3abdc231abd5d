"""Checking an operator's YAML file (config.yaml, playlists/): typed reads of its values that note each problem
with the file, line and field, in Vietnamese and English, and say what to do.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from broadcaster.problems import Problem
from broadcaster.station.schedule import Recurrence, parse_clock, parse_weekdays
from broadcaster.station.yamlio import Located


class Checker:
    """Collects every problem found while reading one YAML file, each with its line and field, instead of
    stopping at the first: the reader raises `BroadcasterError(checker.problems)` once it has read it all.
    Each reading method returns the value or, after noting the problem, `default`."""

    def __init__(self, file: Path):
        self.file = str(file)
        self.problems: list[Problem] = []

    def error(self, where: Located | None, key: str | None, vi: str, en: str, hint_vi: str = "",
              hint_en: str = "", field_name: str | None = None, severity: str = "error") -> None:
        """Note a problem at `key` of mapping `where` (its line), or at `where` itself when `key` is None."""
        line = where.line_of(key) if isinstance(where, Located) and key else (
            where.line if isinstance(where, Located) else None)
        self.problems.append(Problem(self.file, vi, en, hint_vi, hint_en, line, field_name or key, severity))

    def mapping(self, value: object, name: str, parent: Located | None, allowed: set[str],
                required: set[str] = frozenset()) -> Located:
        """`value` if it is a mapping with only `allowed` keys and every `required` one (each lack noted)."""
        if not isinstance(value, Located):
            self.error(parent, name, f"'{name}' phải là một bảng khóa: giá trị", f"'{name}' must be a mapping",
                       "xem config.yaml mẫu", "see the example config.yaml", field_name=name)
            return Located()
        for key in value:
            if key not in allowed:
                self.error(value, key, f"khóa không biết '{key}'", f"unknown key '{key}'",
                           f"các khóa hợp lệ: {', '.join(sorted(allowed))}",
                           f"valid keys: {', '.join(sorted(allowed))}", field_name=f"{name}.{key}")
        for key in sorted(required - set(value)):
            self.error(value, None, f"thiếu khóa '{key}'", f"missing key '{key}'",
                       f"thêm '{key}:' vào '{name}'", f"add '{key}:' to '{name}'", field_name=f"{name}.{key}")
        return value

    def clock(self, m: Located, key: str, fname: str, default: time | None = None) -> time | None:
        if key not in m:
            return default
        try:
            return parse_clock(m[key])
        except ValueError as err:
            self.error(m, key, f"giờ không hợp lệ: {m[key]!r}", str(err),
                       "viết giờ dạng HH:MM, từ 00:00 đến 24:00", "write the time as HH:MM, 00:00 to 24:00",
                       field_name=fname)
            return default

    def day(self, m: Located, key: str, fname: str) -> date | None:
        value = m.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(m, key, f"ngày không hợp lệ: {value!r}", f"not a date: {value!r}",
                       "viết ngày dạng YYYY-MM-DD", "write the date as YYYY-MM-DD", field_name=fname)
            return None

    def number(self, m: Located, key: str, fname: str, default, kind: type = float, minimum: float | None = None,
               maximum: float | None = None, why_max: tuple[str, str] = ("", "")):
        """`m[key]` as `kind` (int refuses 1.5) within [minimum, maximum]; `why_max` ends the too-big message."""
        if key not in m or m[key] is None:
            return default
        value = m[key]
        wrong_kind = kind is int and not isinstance(value, int)
        if isinstance(value, bool) or not isinstance(value, int | float) or wrong_kind:
            self.error(m, key, f"'{key}' phải là số", f"'{key}' must be a number", field_name=fname)
            return default
        if minimum is not None and value < minimum:
            self.error(m, key, f"'{key}' phải ≥ {minimum}", f"'{key}' must be at least {minimum}", field_name=fname)
            return default
        if maximum is not None and value > maximum:
            self.error(m, key, f"'{key}' phải ≤ {maximum}{why_max[0]}",
                       f"'{key}' must be at most {maximum}{why_max[1]}", field_name=fname)
            return default
        return kind(value)

    def flag(self, m: Located, key: str, fname: str, default: bool) -> bool:
        value = m.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(m, key, f"'{key}' phải là true hoặc false", f"'{key}' must be true or false",
                       "viết true hoặc false", "write true or false", field_name=fname)
            return default
        return value

    def text(self, m: Located, key: str, fname: str, default: str = "") -> str:
        value = m.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str | int | float):
            self.error(m, key, f"'{key}' phải là chữ", f"'{key}' must be text", field_name=fname)
            return default
        return str(value)

    def recurrence(self, m: Located, fname: str, need_times: bool) -> Recurrence | None:
        """A window's days, times and dates (`days`, `start`, `end`, `from`, `until`, `dates`)."""
        weekdays = frozenset(range(7))
        if "days" in m:
            try:
                weekdays = parse_weekdays(m["days"])
            except ValueError as err:
                self.error(m, "days", f"ngày trong tuần không hợp lệ: {m['days']!r}", str(err),
                           "dùng mon-sat, T2-T7 hoặc daily", "use mon-sat, T2-T7 or daily", field_name=f"{fname}.days")
        start = self.clock(m, "start", f"{fname}.start", None if need_times else time(0))
        end = self.clock(m, "end", f"{fname}.end", None if need_times else time.max)
        if need_times and ("start" not in m or "end" not in m):
            self.error(m, None, "thiếu giờ bắt đầu/kết thúc", "start and end times are required",
                       "thêm start: và end:", "add start: and end:", field_name=fname)
            return None
        if start is None or end is None:
            return None
        if end <= start:
            self.error(m, "end", f"giờ kết thúc {m.get('end')} không sau giờ bắt đầu {m.get('start')}",
                       f"end {m.get('end')} is not after start {m.get('start')}",
                       "khung giờ qua nửa đêm thì tách làm hai", "split a window that crosses midnight in two",
                       field_name=f"{fname}.end")
            return None
        date_from = self.day(m, "from", f"{fname}.from")
        date_until = self.day(m, "until", f"{fname}.until")
        if date_from and date_until and date_until < date_from:
            self.error(m, "until", "ngày 'until' trước ngày 'from'", "'until' is before 'from'",
                       field_name=f"{fname}.until")
        dates: set[date] = set()
        if "dates" in m:
            raw = m["dates"] if isinstance(m["dates"], list) else [m["dates"]]
            for value in raw:
                try:
                    dates.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
                except ValueError:
                    self.error(m, "dates", f"ngày không hợp lệ: {value!r}", f"not a date: {value!r}",
                               "viết ngày dạng YYYY-MM-DD", "write dates as YYYY-MM-DD", field_name=f"{fname}.dates")
        return Recurrence(weekdays, start, end, date_from, date_until, frozenset(dates))
