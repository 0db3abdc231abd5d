"""`playlists/*.yaml`: what a slot is made of, in the operator's terms.

A playlist says: an opening, a sequence repeated while time allows (e.g. a Bluezone clip, a song, a
health-declaration clip, a song), a closing, and which category fills what is left. Rules per category and per
item give weights, plays per day (e.g. Bluezone 3–5), minimum separation between repeats and validity (dates,
weekdays, hours). `load_playlists(station)` reads them all and raises one error listing every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from broadcaster.model import DUCK_DB
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.checker import Checker
from broadcaster.station.config import Station
from broadcaster.station.schedule import Recurrence, parse_clock
from broadcaster.station.yamlio import Located, load_yaml

ORDERS = ("sequential", "rotate", "shuffle")


@dataclass(frozen=True)
class Pick:
    """One step of a slot: one item from a category (optionally a given title or file)."""

    category: str | None = None
    title: str | None = None
    file: str | None = None
    bed: str | None = None  # category of a music bed ducked under this (speech) item
    duck_db: float = DUCK_DB

    def describe(self) -> str:
        return self.file or (f"{self.category}: {self.title}" if self.title else f"{self.category}")


@dataclass(frozen=True)
class Quota:
    min: int = 0
    max: int | None = None


@dataclass(frozen=True)
class CategoryRule:
    plays: Quota = Quota()
    separation_minutes: float = 0.0


@dataclass(frozen=True)
class ItemRule:
    """Rules for items matched by title, file or sha256 (overrides the category's)."""

    title: str | None = None
    file: str | None = None
    sha256: str | None = None
    weight: int = 1
    plays: Quota | None = None
    separation_minutes: float | None = None
    when: Recurrence | None = None  # weekdays and date range
    hours: tuple[time, time] | None = None  # time of day the item may air

    def matches(self, title: str, file: str, sha256: str) -> bool:
        return ((self.title is None or self.title == title) and (self.file is None or self.file == file)
                and (self.sha256 is None or self.sha256 == sha256))


@dataclass(frozen=True)
class Playlist:
    id: str
    name: str
    file: str
    order: str = "rotate"
    seed: int = 0
    open: tuple[Pick, ...] = ()
    sequence: tuple[Pick, ...] = ()
    close: tuple[Pick, ...] = ()
    fill: str | None = None
    categories: dict[str, CategoryRule] = field(default_factory=dict)
    items: tuple[ItemRule, ...] = ()

    def picks(self) -> tuple[Pick, ...]:
        return self.open + self.sequence + self.close


_TOP = {"id", "name", "order", "seed", "open", "sequence", "close", "fill", "categories", "items"}
_PICK = {"category", "title", "file", "bed", "duck_db"}
_CAT = {"plays_per_day", "min_separation_minutes"}
_ITEM = {"title", "file", "sha256", "weight", "plays_per_day", "min_separation_minutes", "days", "from", "until",
         "hours"}


def load_playlists(station: Station) -> dict[str, Playlist]:
    """Every playlists/*.yaml (files starting with '_' or '.' are skipped), by id."""
    folder = station.paths.playlists
    problems: list[Problem] = []
    found: dict[str, Playlist] = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        if path.name.startswith(("_", ".")):
            continue
        try:
            playlist = load_playlist(path)
        except BroadcasterError as err:
            problems.extend(err.problems)
            continue
        if playlist.id in found:
            problems.append(Problem(str(path), f"trùng mã danh sách '{playlist.id}' với {found[playlist.id].file}",
                                    f"playlist id '{playlist.id}' is also used by {found[playlist.id].file}",
                                    "đổi 'id:' hoặc tên tệp", "change 'id:' or the file name"))
        found[playlist.id] = playlist
    for slot in station.slots:
        if slot.playlist and slot.playlist not in found:
            problems.append(Problem(
                str(station.file), f"buổi '{slot.id}' dùng danh sách '{slot.playlist}' không có trong {folder}",
                f"slot '{slot.id}' uses playlist '{slot.playlist}', which is not in {folder}",
                f"tạo {folder}/{slot.playlist}.yaml hoặc sửa 'playlist:'",
                f"create {folder}/{slot.playlist}.yaml or fix 'playlist:'", line=slot.line,
                field=f"slots.{slot.id}.playlist"))
    if problems:
        raise BroadcasterError(problems)
    return found


def load_playlist(path: Path, text: str | None = None) -> Playlist:
    """One playlist file; `text`: check an edit of it (the console's form) before it is written."""
    c = Checker(path)
    raw = load_yaml(path, text)
    root = c.mapping(raw, "playlist", None, _TOP, {"sequence"} if isinstance(raw, Located) and "open" not in raw
                     and "fill" not in raw else set())
    order = c.text(root, "order", "order", "rotate")
    if order not in ORDERS:
        c.error(root, "order", f"thứ tự không biết: {order!r}", f"unknown order {order!r}",
                f"dùng một trong {', '.join(ORDERS)}", f"use one of {', '.join(ORDERS)}")
    seed = c.number(root, "seed", "seed", 0, int)
    parts = {key: tuple(_picks(c, root, key)) for key in ("open", "sequence", "close")}
    fill = root.get("fill")
    if fill is not None and not isinstance(fill, str):
        c.error(root, "fill", "'fill' là tên một thể loại", "'fill' is a category name", "ví dụ: fill: covid-song",
                "e.g. fill: covid-song")
        fill = None
    categories: dict[str, CategoryRule] = {}
    cats = root.get("categories", Located())
    cats = c.mapping(cats, "categories", root, set(cats) if isinstance(cats, Located) else set())
    for name, value in cats.items():
        m = c.mapping(value, f"categories.{name}", cats, _CAT)
        categories[name] = CategoryRule(
            plays=_quota(c, m, f"categories.{name}") or Quota(),
            separation_minutes=c.number(m, "min_separation_minutes", f"categories.{name}.min_separation_minutes",
                                        0.0, float, 0))
    items = []
    raw_items = root.get("items", [])
    if not isinstance(raw_items, list):
        c.error(root, "items", "'items' phải là danh sách", "'items' must be a list")
        raw_items = []
    for index, value in enumerate(raw_items):
        fname = f"items[{index}]"
        m = c.mapping(value, fname, root, _ITEM)
        if not ({"title", "file", "sha256"} & set(m)):
            c.error(m, None, "mục cần 'title', 'file' hoặc 'sha256' để biết là bài nào",
                    "an item rule needs 'title', 'file' or 'sha256' to say which item", field_name=fname)
        hours = None
        if "hours" in m:
            try:
                first, last = str(m["hours"]).split("-", 1)
                hours = (parse_clock(first), parse_clock(last))
            except ValueError:
                c.error(m, "hours", f"khung giờ không hợp lệ: {m['hours']!r}", f"bad hours {m['hours']!r}",
                        "viết dạng \"05:00-12:00\"", "write it as \"05:00-12:00\"", field_name=f"{fname}.hours")
        when = c.recurrence(m, fname, need_times=False) if {"days", "from", "until"} & set(m) else None
        weight = c.number(m, "weight", f"{fname}.weight", 1, int, 1)
        items.append(ItemRule(
            title=m.get("title"), file=m.get("file"), sha256=m.get("sha256"), weight=weight,
            plays=_quota(c, m, fname),
            separation_minutes=c.number(m, "min_separation_minutes", f"{fname}.min_separation_minutes", None,
                                        float, 0),
            when=when, hours=hours))
    errors = [p for p in c.problems if p.severity == "error"]
    if errors:
        raise BroadcasterError(c.problems)
    return Playlist(id=str(root.get("id", path.stem)), name=c.text(root, "name", "name", path.stem),
                    file=str(path), order=order, seed=seed, fill=fill, categories=categories, items=tuple(items),
                    **parts)


def _picks(c: Checker, root: Located, key: str) -> list[Pick]:
    raw = root.get(key, [])
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.error(root, key, f"'{key}' phải là danh sách (mỗi dòng bắt đầu bằng '-')",
                f"'{key}' must be a list (lines starting with '-')")
        return []
    picks = []
    for index, value in enumerate(raw):
        fname = f"{key}[{index}]"
        if isinstance(value, str):  # shorthand: "- bluezone"
            picks.append(Pick(category=value))
            continue
        m = c.mapping(value, fname, root, _PICK)
        if not ({"category", "file"} & set(m)):
            c.error(m, None, "bước cần 'category' hoặc 'file'", "a step needs 'category' or 'file'",
                    "ví dụ: - category: bluezone", "e.g. - category: bluezone", field_name=fname)
            continue
        picks.append(Pick(category=m.get("category"), title=m.get("title"), file=m.get("file"), bed=m.get("bed"),
                          duck_db=c.number(m, "duck_db", f"{fname}.duck_db", DUCK_DB, float)))
    return picks


def _quota(c: Checker, m: Located, fname: str) -> Quota | None:
    if "plays_per_day" not in m:
        return None
    value = m["plays_per_day"]
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = value, value
        else:
            text = str(value).replace("–", "-").strip()
            low_text, _, high_text = text.partition("-")
            low = int(low_text) if low_text else 0
            high = int(high_text) if high_text else (None if _ else low)
        if low < 0 or (high is not None and high < low):
            raise ValueError
        return Quota(low, high)
    except ValueError:
        c.error(m, "plays_per_day", f"số lần phát/ngày không hợp lệ: {value!r}", f"bad plays_per_day {value!r}",
                "viết dạng 3-5 (tối thiểu-tối đa), 3 hoặc 2-", "write it as 3-5 (min-max), 3, or 2-",
                field_name=f"{fname}.plays_per_day")
        return None


def with_item_rules(playlists: dict[str, Playlist], rules: list[ItemRule]) -> dict[str, Playlist]:
    """Playlists with extra item rules in front (they win), e.g. the district's quotas for pushed clips."""
    if not rules:
        return playlists
    from dataclasses import replace

    return {key: replace(p, items=tuple(rules) + p.items) for key, p in playlists.items()}
