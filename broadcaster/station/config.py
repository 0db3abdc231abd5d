"""`config.yaml`: the station — who it is, its zone, slots, online-learning blackouts, caps, audio, paths, and
the display names of its topics (chủ đề).

`load_station(path)` reads and checks the whole file and raises one `BroadcasterError` listing every problem
(file, line, field, what to do). Warnings that do not stop the station (a slot clipped by a blackout) are kept
on `Station.warnings` for `validate` to print. Relative paths are relative to the config file's folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broadcaster.files import slug as slug_of
from broadcaster.model import is_category
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.checker import Checker
from broadcaster.station.schedule import WEEKDAYS, Recurrence
from broadcaster.station.yamlio import Located, load_yaml

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Identity:
    province: str
    district: str
    commune: str
    name: str
    id: str


@dataclass(frozen=True)
class Slot:
    """A named broadcast window (buổi phát), e.g. sáng 05:30–06:30, and the playlist that fills it."""

    id: str
    name: str
    when: Recurrence
    playlist: str
    line: int = 0  # in config.yaml, for messages


@dataclass(frozen=True)
class Blackout:
    """A window in which nothing may air (online-learning hours): a hard constraint."""

    id: str
    name: str
    when: Recurrence
    line: int = 0


@dataclass(frozen=True)
class Caps:
    max_minutes_per_session: float | None = None
    max_sessions_per_day: int | None = None
    days_per_week: int | None = None
    max_minutes_per_day: float | None = None


# Above this the sound card cannot time a frame within the engine's 3 s of lining up (three 1.5 s callbacks at
# 65536): playout would start untimed. docs/benchmarks.md, "65536".
MAX_BLOCK_FRAMES = 32768


@dataclass(frozen=True)
class AudioSettings:
    output_devices: tuple[str, ...] = ("default",)  # by name or index, first that works; later ones are fallbacks
    backend: str = "sounddevice"  # or "simpleaudio"
    sample_rate: int = 44100
    channels: int = 2
    target_lufs: float = -16.0
    crossfade_seconds: float = 2.0
    crossfade_categories: tuple[str, ...] = ("covid-song",)  # consecutive items of these categories overlap
    fade_seconds: float = 0.05  # short fade in/out of every item against clicks
    block_frames: int = 16384  # 0.37 s: PortAudio wakes 2.7 times a second (CPU); see docs/benchmarks.md
    station_copies: bool = True  # keep each item decoded in audio/.station (~21.2 MB/min at 44.1 kHz stereo)
    max_item_minutes: float = 120.0  # longest file ingest accepts (a 10-hour file would make a 12.7 GB copy)
    max_break_in_minutes: float = 30.0  # a play-now clip longer than this is refused (a wrong file, not a bulletin)


BLOCK_TOO_BIG = (" (khối lớn hơn thì card âm thanh không đo được giờ phát khi bắt đầu; mặc định "
                 f"{AudioSettings.block_frames})",
                 f" (with larger blocks the sound card cannot be timed when playout starts; the default is "
                 f"{AudioSettings.block_frames})")


@dataclass(frozen=True)
class Paths:
    audio: Path
    playlists: Path
    catalogue: Path
    asrun_log: Path
    inbox: Path
    state: Path


@dataclass
class Station:
    file: Path
    identity: Identity
    timezone: str
    slots: list[Slot]
    blackouts: list[Blackout]
    caps: Caps
    audio: AudioSettings
    paths: Paths
    warnings: list[Problem] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # sections owned by other modules (e.g. "feed")
    topics: dict[str, str] = field(default_factory=dict)  # category slug -> display name ("topics:")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# Top-level sections other modules read themselves; listed here so they are not "unknown keys".
EXTRA_SECTIONS: set[str] = {"feed", "collector", "approval", "bulletins"}

_TOP_KEYS = {"station", "timezone", "slots", "blackouts", "caps", "audio", "paths", "topics"}

def topic_name(topics: Station | Mapping[str, str] | None, slug: str) -> str:
    """The name people read for a category (chủ đề): `topics:` in config.yaml, or the slug when none is set."""
    names = topics.topics if isinstance(topics, Station) else topics
    return (names or {}).get(slug) or slug


def load_station(path: str | Path = "config.yaml", text: str | None = None) -> Station:
    """`text`: the file's proposed new content (checked as if it were at `path`), instead of what is on disk."""
    path = Path(path)
    raw = load_yaml(path, text)
    c = Checker(path)
    root = c.mapping(raw, "config", None, _TOP_KEYS | EXTRA_SECTIONS, {"station", "slots"})
    base = path.resolve().parent

    st = c.mapping(root.get("station"), "station", root, {"province", "district", "commune", "name", "id"},
                   {"commune", "name"})
    identity = Identity(
        province=c.text(st, "province", "station.province"), district=c.text(st, "district", "station.district"),
        commune=c.text(st, "commune", "station.commune"), name=c.text(st, "name", "station.name"),
        id=c.text(st, "id", "station.id") or (slug_of(c.text(st, "commune", "station.commune") or "") or "station"))

    timezone = c.text(root, "timezone", "timezone", DEFAULT_ZONE) or DEFAULT_ZONE
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        c.error(root, "timezone", f"múi giờ không biết: {timezone!r}", f"unknown time zone {timezone!r}",
                "dùng Asia/Ho_Chi_Minh", "use Asia/Ho_Chi_Minh")
        timezone = DEFAULT_ZONE

    slots = _read_windows(c, root, "slots", is_slot=True)
    blackouts = _read_windows(c, root, "blackouts", is_slot=False)

    cm = c.mapping(root.get("caps", Located()), "caps", root,
                   {"max_minutes_per_session", "max_sessions_per_day", "days_per_week", "max_minutes_per_day"})
    caps = Caps(
        max_minutes_per_session=c.number(cm, "max_minutes_per_session", "caps.max_minutes_per_session", None, float, 1),
        max_sessions_per_day=c.number(cm, "max_sessions_per_day", "caps.max_sessions_per_day", None, int, 1),
        days_per_week=c.number(cm, "days_per_week", "caps.days_per_week", None, int, 1),
        max_minutes_per_day=c.number(cm, "max_minutes_per_day", "caps.max_minutes_per_day", None, float, 1))
    if caps.days_per_week is not None and caps.days_per_week > 7:
        c.error(cm, "days_per_week", "'days_per_week' tối đa là 7", "'days_per_week' is at most 7")

    am = c.mapping(root.get("audio", Located()), "audio", root,
                   {"output_device", "output_devices", "backend", "sample_rate", "channels", "target_lufs",
                    "crossfade_seconds", "crossfade_categories", "fade_seconds", "block_frames",
                    "station_copies", "max_item_minutes", "max_break_in_minutes"})
    d = AudioSettings  # the defaults live on the dataclass alone
    devices = am.get("output_devices", am.get("output_device", list(d.output_devices)))
    devices = tuple(str(x) for x in (devices if isinstance(devices, list) else [devices]))
    backend = c.text(am, "backend", "audio.backend", d.backend)
    if backend not in ("sounddevice", "simpleaudio"):  # a WAV file is what `simulate` writes, not a playout sink
        c.error(am, "backend", f"backend không biết: {backend!r}", f"unknown backend {backend!r}",
                "dùng sounddevice hoặc simpleaudio (muốn tệp WAV: python main.py simulate)",
                "use sounddevice or simpleaudio (for a WAV file: python main.py simulate)")
    xf_cats = am.get("crossfade_categories", list(d.crossfade_categories))
    audio = AudioSettings(
        output_devices=devices, backend=backend,
        sample_rate=c.number(am, "sample_rate", "audio.sample_rate", d.sample_rate, int, 8000),
        channels=c.number(am, "channels", "audio.channels", d.channels, int, 1),
        target_lufs=c.number(am, "target_lufs", "audio.target_lufs", d.target_lufs, float),
        crossfade_seconds=c.number(am, "crossfade_seconds", "audio.crossfade_seconds", d.crossfade_seconds, float, 0),
        crossfade_categories=tuple(str(x) for x in (xf_cats if isinstance(xf_cats, list) else [xf_cats])),
        fade_seconds=c.number(am, "fade_seconds", "audio.fade_seconds", d.fade_seconds, float, 0),
        block_frames=c.number(am, "block_frames", "audio.block_frames", d.block_frames, int, 64,
                              MAX_BLOCK_FRAMES, BLOCK_TOO_BIG),
        station_copies=c.flag(am, "station_copies", "audio.station_copies", d.station_copies),
        max_item_minutes=c.number(am, "max_item_minutes", "audio.max_item_minutes", d.max_item_minutes, float, 1),
        max_break_in_minutes=c.number(am, "max_break_in_minutes", "audio.max_break_in_minutes",
                                      d.max_break_in_minutes, float, 0.1))
    if not -40 <= audio.target_lufs <= -5:
        c.error(am, "target_lufs", "mức âm lượng mục tiêu ngoài khoảng -40..-5 LUFS",
                "target loudness outside -40..-5 LUFS", "thường dùng -16", "-16 is usual")

    pm = c.mapping(root.get("paths", Located()), "paths", root,
                   {"audio", "playlists", "catalogue", "asrun_log", "inbox", "state"})
    paths = Paths(*(base / c.text(pm, key, f"paths.{key}", default) for key, default in (
        ("audio", "audio"), ("playlists", "playlists"), ("catalogue", "data/library.sqlite"),
        ("asrun_log", "data/asrun.sqlite"), ("inbox", "inbox"), ("state", "data"))))

    topics = _read_topics(c, root)
    _check_slots(c, slots, blackouts, caps)
    errors = [p for p in c.problems if p.severity == "error"]
    if errors:
        raise BroadcasterError(c.problems)
    return Station(path, identity, timezone, slots, blackouts, caps, audio, paths,
                   warnings=[p for p in c.problems if p.severity == "warning"],
                   extra={k: root[k] for k in EXTRA_SECTIONS if k in root}, topics=topics)


def _read_topics(c: Checker, root: Located) -> dict[str, str]:
    """`topics:` maps a category slug to its display name: one line of plain text for tables and legends."""
    raw = root.get("topics")
    if raw is None:
        return {}
    if not isinstance(raw, Located):
        c.error(root, "topics", "'topics' phải là một bảng khóa: chủ đề → tên hiển thị",
                "'topics' must be a mapping of category → display name",
                'ví dụ:  bluezone: "Cài đặt ứng dụng Bluezone"', 'e.g.  bluezone: "Cài đặt ứng dụng Bluezone"',
                field_name="topics")
        return {}
    topics: dict[str, str] = {}
    slug_by_name: dict[str, str] = {}
    for slug, value in raw.items():
        fname = f"topics.{slug}"
        if not is_category(slug):
            c.error(raw, slug, f"mã chủ đề không hợp lệ: {slug!r}", f"invalid category slug {slug!r}",
                    "dùng đúng tên thư mục chủ đề: chữ thường không dấu, số và '-', ví dụ khai-bao-y-te",
                    "use the category's folder name: lower-case ASCII letters, digits and '-', e.g. khai-bao-y-te",
                    field_name=fname)
            continue
        name = " ".join(value.split()) if isinstance(value, str) else ""
        if not name:
            c.error(raw, slug, f"tên hiển thị của chủ đề '{slug}' phải là chữ, không để trống",
                    f"the display name of topic '{slug}' must be text, not empty",
                    f'ví dụ:  {slug}: "Tên chủ đề"', f'e.g.  {slug}: "Topic name"', field_name=fname)
            continue
        if name in slug_by_name:
            c.error(raw, slug, f"chủ đề '{slug}' trùng tên '{name}' với chủ đề '{slug_by_name[name]}'",
                    f"topic '{slug}' has the same name '{name}' as topic '{slug_by_name[name]}'",
                    "đặt tên khác để báo cáo phân biệt được", "choose another name so reports tell them apart",
                    field_name=fname, severity="warning")
        slug_by_name.setdefault(name, slug)
        topics[slug] = name
    return topics


def _read_windows(c: Checker, root: Located, key: str, is_slot: bool) -> list:
    raw = root.get(key, [] if not is_slot else None)
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        c.error(root, key, f"'{key}' phải là một danh sách", f"'{key}' must be a list (items start with '-')")
        return []
    allowed = {"id", "name", "days", "start", "end", "from", "until", "dates"} | ({"playlist"} if is_slot else set())
    out, seen = [], set()
    for index, entry in enumerate(raw):
        fname = f"{key}[{index}]"
        m = c.mapping(entry, fname, root, allowed, {"id", "start", "end"} | ({"playlist"} if is_slot else set())
                      if is_slot else {"id"})
        wid = c.text(m, "id", f"{fname}.id")
        if wid in seen:
            c.error(m, "id", f"trùng mã '{wid}'", f"duplicate id '{wid}'", "đặt mã khác", "choose another id")
        seen.add(wid)
        when = c.recurrence(m, fname, need_times=is_slot)
        if when is None or not wid:
            continue
        name = c.text(m, "name", f"{fname}.name", wid)
        if is_slot:
            out.append(Slot(wid, name, when, c.text(m, "playlist", f"{fname}.playlist"), m.line))
        else:
            out.append(Blackout(wid, name, when, m.line))
    return out


def _check_slots(c: Checker, slots: list[Slot], blackouts: list[Blackout], caps: Caps) -> None:
    """Overlapping slots are errors; slots clipped by blackouts and cap breaches are warnings."""
    for i, a in enumerate(slots):
        for b in slots[i + 1:]:
            if (a.when.weekdays & b.when.weekdays) and a.when.start < b.when.end and b.when.start < a.when.end \
                    and _dates_meet(a.when, b.when):
                c.problems.append(Problem(
                    c.file, f"buổi phát '{a.id}' ({_hm(a.when)}) chồng lên buổi '{b.id}' ({_hm(b.when)})",
                    f"slot '{a.id}' ({_hm(a.when)}) overlaps slot '{b.id}' ({_hm(b.when)})",
                    "sửa giờ để hai buổi không trùng nhau", "change the times so the slots do not overlap",
                    line=b.line, field=f"slots.{b.id}"))
        for bo in blackouts:
            if (a.when.weekdays & bo.when.weekdays) and a.when.start < bo.when.end and bo.when.start < a.when.end \
                    and _dates_meet(a.when, bo.when):
                c.problems.append(Problem(
                    c.file,
                    f"buổi phát '{a.id}' ({_hm(a.when)}) bị cắt bởi giờ cấm phát '{bo.id}' ({_hm(bo.when)}"
                    f"{_range(bo.when)}); chỉ phát phần còn lại",
                    f"slot '{a.id}' ({_hm(a.when)}) is clipped by blackout '{bo.id}' ({_hm(bo.when)}"
                    f"{_range(bo.when)}); only the rest of it airs",
                    line=a.line, field=f"slots.{a.id}", severity="warning"))
        if caps.max_minutes_per_session is not None:
            minutes = (datetime.combine(date.min, min(a.when.end, time(23, 59, 59)))
                       - datetime.combine(date.min, a.when.start)) / timedelta(minutes=1)
            if minutes > caps.max_minutes_per_session + 0.02:
                c.problems.append(Problem(
                    c.file, f"buổi '{a.id}' dài {minutes:.0f} phút, quá giới hạn {caps.max_minutes_per_session:g}"
                    " phút/buổi; chỉ phát phần đầu",
                    f"slot '{a.id}' is {minutes:.0f} min, over the cap of {caps.max_minutes_per_session:g} min per "
                    "session; only its first part airs", line=a.line,
                    field=f"slots.{a.id}", severity="warning"))
    if caps.days_per_week is not None:
        days = set().union(*(s.when.weekdays for s in slots)) if slots else set()
        if len(days) > caps.days_per_week:
            c.problems.append(Problem(
                c.file, f"các buổi phát rơi vào {len(days)} ngày/tuần, quá giới hạn {caps.days_per_week}",
                f"slots fall on {len(days)} days a week, over the cap of {caps.days_per_week}",
                "bớt ngày trong 'days' của các buổi", "remove days from the slots' 'days'",
                field="caps.days_per_week", severity="warning"))


def _dates_meet(a: Recurrence, b: Recurrence) -> bool:
    lo = max(a.date_from or date.min, b.date_from or date.min)
    hi = min(a.date_until or date.max, b.date_until or date.max)
    return lo <= hi


def _hm(r: Recurrence) -> str:
    end = "24:00" if r.end == time.max else r.end.strftime("%H:%M")
    days = ",".join(WEEKDAYS[d] for d in sorted(r.weekdays)) if len(r.weekdays) < 7 else "daily"
    return f"{days} {r.start.strftime('%H:%M')}–{end}"


def _range(r: Recurrence) -> str:
    if r.dates:
        return ", " + ", ".join(d.isoformat() for d in sorted(r.dates))
    if r.date_from or r.date_until:
        return f", {r.date_from or '…'} → {r.date_until or '…'}"
    return ""
