"""The `feed:` (commune) and `collector:` (district) sections of config.yaml, checked with file and line.

    feed:
      url: https://dai-huyen.example/feed/   # the district's feed folder (or a local folder path)
      public_key: keys/district.pub          # the district's key, pinned: nothing else is accepted
      district: cam-giang                    # required: the manifest must name this district
      interval_minutes: 5                    # how often the daemon syncs
      max_clip_mb: 200                       # larger clips are refused without downloading
      timeout_seconds: 30                    # the longest wait for any one read
      file_deadline_seconds: 600             # the longest one file (manifest, clip) may take; resumed next sync
      deadline_seconds: 1800                 # the longest one whole sync may take
      max_expires_days: 31                   # a manifest valid for longer than this is refused (freeze window)
      collector_url: https://dai-huyen.example/collector/
      collector_token: <secret from the district>   # or collector_token_file: keys/collector.token

    collector:                               # only on the district's machine
      host: 0.0.0.0
      port: 8765
      db: data/collector.sqlite
      tokens: collector-tokens.yaml          # commune id → token
      feed: feed                             # the feed folder, for report titles and targets
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broadcaster.feed.manifest import DISTRICT_ID
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config import Station
from broadcaster.station.yamlio import Located


@dataclass(frozen=True)
class FeedSettings:
    url: str | None = None
    public_key: Path | None = None
    district: str | None = None
    interval_minutes: float = 5.0
    max_clip_bytes: int = 200 * 1024 * 1024
    timeout_seconds: float = 30.0
    file_deadline_seconds: float = 600.0
    deadline_seconds: float = 1800.0
    max_expires_days: float = 31.0
    collector_url: str | None = None
    collector_token: str | None = None


@dataclass(frozen=True)
class CollectorSettings:
    host: str = "127.0.0.1"
    port: int = 8765
    db: Path | None = None
    tokens: Path | None = None
    feed: Path | None = None


_FEED_KEYS = {"url", "public_key", "district", "interval_minutes", "max_clip_mb", "timeout_seconds",
              "file_deadline_seconds", "deadline_seconds", "max_expires_days", "collector_url", "collector_token",
              "collector_token_file"}
_COLLECTOR_KEYS = {"host", "port", "db", "tokens", "feed"}


class _Reader:
    def __init__(self, station: Station, section: str):
        self.file = str(station.file)
        self.base = Path(station.file).resolve().parent
        self.section = section
        self.problems: list[Problem] = []
        raw = station.extra.get(section)
        self.m: dict = raw if isinstance(raw, dict) else {}
        if raw is not None and not isinstance(raw, dict):
            self.problems.append(Problem(self.file, f"'{section}' phải là một bảng khóa: giá trị",
                                         f"'{section}' must be a mapping", line=getattr(raw, "line", None),
                                         field=section))

    def line(self, key: str | None) -> int | None:
        if isinstance(self.m, Located):
            return self.m.line_of(key) if key else self.m.line
        return None

    def error(self, key: str, vi: str, en: str, hint_vi: str = "", hint_en: str = "") -> None:
        self.problems.append(Problem(self.file, vi, en, hint_vi, hint_en, self.line(key), f"{self.section}.{key}"))

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.m:
            if key not in allowed:
                names = ", ".join(sorted(allowed))
                self.error(key, f"khóa không biết '{key}'", f"unknown key '{key}'",
                           f"các khóa hợp lệ: {names}", f"valid keys: {names}")

    def text(self, key: str) -> str | None:
        value = self.m.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int):
            self.error(key, f"'{key}' phải là chữ", f"'{key}' must be text")
            return None
        return str(value)

    def path(self, key: str) -> Path | None:
        value = self.text(key)
        return (self.base / value) if value else None

    def number(self, key: str, default: float, minimum: float, maximum: float = 1e9) -> float:
        value = self.m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not minimum <= value <= maximum:
            self.error(key, f"'{key}' phải là số từ {minimum:g} đến {maximum:g}",
                       f"'{key}' must be a number from {minimum:g} to {maximum:g}")
            return default
        return float(value)

    def done(self) -> None:
        if self.problems:
            raise BroadcasterError(self.problems)


def feed_settings(station: Station) -> FeedSettings:
    r = _Reader(station, "feed")
    r.check_keys(_FEED_KEYS)
    url = r.text("url")
    if url and "://" not in url:  # a folder (a mounted share): relative to config.yaml like every other path
        url = str(r.base / url)
    token = r.text("collector_token")
    token_file = r.path("collector_token_file")
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError:
            r.error("collector_token_file", "không đọc được tệp mã truy cập", "cannot read the token file",
                    "kiểm tra đường dẫn", "check the path")
    settings = FeedSettings(
        url=url, public_key=r.path("public_key"), district=r.text("district"),
        interval_minutes=r.number("interval_minutes", 5.0, 0.5),
        max_clip_bytes=int(r.number("max_clip_mb", 200.0, 0.001) * 1024 * 1024),
        timeout_seconds=r.number("timeout_seconds", 30.0, 0.1),
        file_deadline_seconds=r.number("file_deadline_seconds", 600.0, 0.1),
        deadline_seconds=r.number("deadline_seconds", 1800.0, 0.1),
        max_expires_days=r.number("max_expires_days", 31.0, 0.01, 366.0),
        collector_url=r.text("collector_url"), collector_token=token)
    if (url or settings.public_key) and not (settings.district and DISTRICT_ID.fullmatch(settings.district)):
        r.error("district", "thiếu hoặc sai feed.district (mã huyện)", "feed.district (the district id) is missing "
                "or not a plain name: without it a manifest of another district signed with the same key would be "
                "taken", "ghi mã huyện đúng như trong feed của huyện, ví dụ district: cam-giang",
                "set it to the id in the district's feed, e.g. district: cam-giang")
    if url and not settings.public_key:
        r.error("url", "có feed.url nhưng thiếu feed.public_key", "feed.url is set but feed.public_key is missing",
                "chép khóa công khai của huyện (district.pub) và ghi đường dẫn vào feed.public_key",
                "copy the district's district.pub and set feed.public_key to its path")
    r.done()
    return settings


def collector_settings(station: Station) -> CollectorSettings:
    r = _Reader(station, "collector")
    r.check_keys(_COLLECTOR_KEYS)
    port = int(r.number("port", 8765, 1))
    if port > 65535:
        r.error("port", "cổng phải ≤ 65535", "port must be at most 65535")
    settings = CollectorSettings(host=r.text("host") or "127.0.0.1", port=port,
                                 db=r.path("db") or station.paths.state / "collector.sqlite",
                                 tokens=r.path("tokens"), feed=r.path("feed"))
    r.done()
    return settings


def feed_problems(station: Station) -> list[Problem]:
    """Everything wrong with the feed/collector sections, for `validate` (which lists rather than stops)."""
    from broadcaster.feed.signing import load_public

    problems: list[Problem] = []
    for read in (feed_settings, collector_settings):
        try:
            settings = read(station)
        except BroadcasterError as err:
            problems.extend(err.problems)
            continue
        if isinstance(settings, FeedSettings) and settings.public_key:
            try:
                load_public(settings.public_key)
            except BroadcasterError as err:
                problems.extend(err.problems)
    return problems
