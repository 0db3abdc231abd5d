"""The `approval:` and `bulletins:` sections of config.yaml, checked with file and line.

    approval:
      required_for: [bulletin, local]     # default: both; district-signed clips always count as approved
      approvers: [Nguyễn Văn An]          # names allowed to approve (CLI --by, console login name)
      approver_roles: [lanh-dao]          # roles allowed to approve (the web console maps logins to roles)

    bulletins:
      engine: espeak-ng                   # or piper (a Vietnamese voice model the station installs)
      voice: north                        # north | central | south
      rate: 145                           # words per minute
      category: thong-bao                 # library category of bulletins
      max_chars: 6000
      pause_seconds: 0.8                  # between paragraphs
      fade_seconds: 0.2
      opening_chime: chuong/chuong-mo.mp3 # optional, a library file (relative to audio/)
      closing_chime: chuong/chuong-dong.mp3
      abbreviations: tu-viet-tat.yaml     # the station's own abbreviations, over the packaged list
      piper: {binary: piper, models: {north: /opt/piper/vi_VN-vais1000-medium.onnx}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config import Station
from broadcaster.station.yamlio import Located


class ContentKind(StrEnum):
    """What needs approval: bulletins written here, and other audio the commune adds itself."""

    BULLETIN = "bulletin"
    LOCAL = "local"


VOICES = ("north", "central", "south")
ENGINES = ("espeak-ng", "piper")


@dataclass(frozen=True)
class ApprovalSettings:
    required_for: frozenset[ContentKind] = frozenset(ContentKind)
    approvers: tuple[str, ...] = ()
    approver_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulletinSettings:
    engine: str = "espeak-ng"
    voice: str = "north"
    rate: int = 145
    category: str = "thong-bao"
    max_chars: int = 6000
    pause_seconds: float = 0.8
    fade_seconds: float = 0.2
    opening_chime: Path | None = None
    closing_chime: Path | None = None
    abbreviations: Path | None = None
    piper_binary: str = "piper"
    piper_models: dict[str, Path] = field(default_factory=dict)


class _Section:
    def __init__(self, station: Station, name: str, allowed: set[str]):
        self.file = str(station.file)
        self.base = Path(station.file).resolve().parent
        self.name = name
        self.problems: list[Problem] = []
        raw = station.extra.get(name)
        self.m: dict = raw if isinstance(raw, dict) else {}
        if raw is not None and not isinstance(raw, dict):
            self.problems.append(Problem(self.file, f"'{name}' phải là một bảng khóa: giá trị",
                                         f"'{name}' must be a mapping", line=getattr(raw, "line", None), field=name))
        for key in self.m:
            if key not in allowed:
                names = ", ".join(sorted(allowed))
                self.error(key, f"khóa không biết '{key}'", f"unknown key '{key}'", f"các khóa hợp lệ: {names}",
                           f"valid keys: {names}")

    def error(self, key: str, vi: str, en: str, hint_vi: str = "", hint_en: str = "") -> None:
        line = self.m.line_of(key) if isinstance(self.m, Located) else None
        self.problems.append(Problem(self.file, vi, en, hint_vi, hint_en, line, f"{self.name}.{key}"))

    def names(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.m.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.error(key, f"'{key}' phải là danh sách tên", f"'{key}' must be a list of names",
                       "ví dụ: [Nguyễn Văn An]", "e.g. [Nguyễn Văn An]")
            return default
        return tuple(str(v).strip() for v in value)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = str(self.m.get(key, default))
        if value not in choices:
            self.error(key, f"'{key}' không biết: {value!r}", f"unknown {key} {value!r}",
                       f"dùng {', '.join(choices)}", f"use {', '.join(choices)}")
            return default
        return value

    def number(self, key: str, default: float, low: float, high: float, kind=float):
        value = self.m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.error(key, f"'{key}' phải là số từ {low:g} đến {high:g}",
                       f"'{key}' must be a number from {low:g} to {high:g}")
            return default
        return kind(value)

    def path(self, key: str, base: Path | None = None) -> Path | None:
        value = self.m.get(key)
        return (base or self.base) / str(value) if value else None

    def done(self) -> None:
        if self.problems:
            raise BroadcasterError(self.problems)


def approval_settings(station: Station) -> ApprovalSettings:
    s = _Section(station, "approval", {"required_for", "approvers", "approver_roles"})
    kinds = s.names("required_for", tuple(ContentKind))
    unknown = [k for k in kinds if k not in set(ContentKind)]
    if unknown:
        s.error("required_for", f"loại nội dung không biết: {unknown[0]!r}", f"unknown content kind {unknown[0]!r}",
                "dùng bulletin, local", "use bulletin, local")
    settings = ApprovalSettings(required_for=frozenset(ContentKind(k) for k in kinds if k not in unknown),
                                approvers=s.names("approvers"), approver_roles=s.names("approver_roles"))
    s.done()
    return settings


def bulletin_settings(station: Station) -> BulletinSettings:
    s = _Section(station, "bulletins", {"engine", "voice", "rate", "category", "max_chars", "pause_seconds",
                                        "fade_seconds", "opening_chime", "closing_chime", "abbreviations", "piper"})
    piper = s.m.get("piper") or {}
    models = piper.get("models") or {} if isinstance(piper, dict) else {}
    if not isinstance(piper, dict) or not isinstance(models, dict) or set(models) - set(VOICES):
        s.error("piper", "'piper' cần 'binary' và 'models' (north/central/south: tệp .onnx)",
                "'piper' needs 'binary' and 'models' (north/central/south: .onnx files)")
        models = {}
    d = BulletinSettings  # the defaults live on the dataclass alone
    settings = BulletinSettings(
        engine=s.choice("engine", ENGINES, d.engine), voice=s.choice("voice", VOICES, d.voice),
        rate=s.number("rate", d.rate, 80, 450, int), category=str(s.m.get("category", d.category)),
        max_chars=s.number("max_chars", d.max_chars, 100, 100_000, int),
        pause_seconds=s.number("pause_seconds", d.pause_seconds, 0, 10),
        fade_seconds=s.number("fade_seconds", d.fade_seconds, 0, 5),
        opening_chime=s.path("opening_chime", station.paths.audio),
        closing_chime=s.path("closing_chime", station.paths.audio),
        abbreviations=s.path("abbreviations"),
        piper_binary=str(piper.get("binary", d.piper_binary)) if isinstance(piper, dict) else d.piper_binary,
        piper_models={voice: s.base / str(model) for voice, model in models.items()})
    s.done()
    return settings


def bulletin_problems(station: Station) -> list[Problem]:
    """Everything wrong with `approval:` and `bulletins:`, for `validate` (which lists rather than stops)."""
    problems: list[Problem] = []
    rules = settings = None
    try:
        rules = approval_settings(station)
    except BroadcasterError as err:
        problems.extend(err.problems)
    try:
        settings = bulletin_settings(station)
    except BroadcasterError as err:
        problems.extend(err.problems)
    if rules is not None and rules.required_for and not (rules.approvers or rules.approver_roles):
        problems.append(Problem(str(station.file), "chưa có ai được duyệt: nội dung của xã sẽ chờ duyệt mãi",
                                "nobody may approve: the commune's own content will wait for ever",
                                "ghi tên lãnh đạo xã vào approval.approvers", "list the commune leaders in "
                                "approval.approvers", field="approval.approvers", severity="warning"))
    if settings is not None:
        for key, path in (("opening_chime", settings.opening_chime), ("closing_chime", settings.closing_chime)):
            if path is not None and not path.is_file():
                problems.append(Problem(str(station.file), f"không có tệp chuông {path}", f"no chime file {path}",
                                        "nhập tệp chuông vào thư viện hoặc sửa đường dẫn (trong audio/)",
                                        "ingest the chime or fix the path (inside audio/)",
                                        field=f"bulletins.{key}", severity="warning"))
        if settings.abbreviations is not None:
            from broadcaster.bulletins.text import Abbreviations

            try:
                Abbreviations.load(settings.abbreviations)
            except BroadcasterError as err:
                problems.extend(err.problems)
    return problems
