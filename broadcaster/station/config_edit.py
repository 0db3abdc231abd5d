"""Editing the slots and blackouts of `config.yaml` from a form, keeping the operator's comments and key order.

The file is read and written with ruamel.yaml's round-trip mode (station/yaml_edit.py): entries and keys
the edit does not touch come out as they went in, comments and indentation included. An edit is made against
the copy the form was opened on: its sha256 (`ConfigDocument.digest`) travels with the form, and `save` refuses
to write when the file on disk no longer has it (someone edited it by hand or from another browser meanwhile).
Writes are atomic (files.write_atomic).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from broadcaster.files import write_atomic
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.yaml_edit import (
    YamlDocument,
    digest_of,
    hand_on_trailing_comment,
)

WINDOW_KINDS = ("slots", "blackouts")
# Keys of a slot or blackout in the order a new entry is written (config.yaml's own order).
WINDOW_KEYS = ("id", "name", "days", "start", "end", "from", "until", "dates", "playlist")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class StaleEdit(BroadcasterError):
    """The file changed on disk after the form was opened."""


@dataclass(frozen=True)
class WindowFields:
    """What the form says about one slot or blackout; empty optional values leave the key out."""

    id: str
    name: str = ""
    weekdays: tuple[int, ...] = tuple(range(7))
    start: str = ""
    end: str = ""
    date_from: date | None = None
    date_until: date | None = None
    dates: tuple[date, ...] = ()
    playlist: str = ""

    def values(self, kind: str) -> dict[str, object]:
        """The YAML values, None for a key to remove."""
        values: dict[str, object] = {
            "id": self.id, "name": self.name or None, "days": days_text(self.weekdays),
            "start": self.start or None, "end": self.end or None, "from": self.date_from,
            "until": self.date_until, "dates": _flow(list(self.dates)) if self.dates else None}
        if kind == "slots":
            values["playlist"] = self.playlist or None
        return values


def days_text(weekdays: tuple[int, ...]) -> str:
    """mon..sun indexes as config.yaml writes them: 'daily', 'mon-sat', or 'mon,wed,fri'."""
    days = sorted(set(weekdays))
    if len(days) == 7:
        return "daily"
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{WEEKDAY_KEYS[days[0]]}-{WEEKDAY_KEYS[days[-1]]}"
    return ",".join(WEEKDAY_KEYS[d] for d in days)


def _flow(values: list) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


class ConfigDocument(YamlDocument):
    """One reading of config.yaml: its text, the hash of that text, and round-trip edits of it."""

    NOT_A_MAPPING = ("config.yaml phải là một bảng khóa: giá trị", "config.yaml must be a mapping")

    def _root(self) -> CommentedMap:
        return self._document().data

    def windows(self, kind: str) -> list[dict]:
        entries = self._root().get(kind) or []
        return [dict(e) for e in entries if isinstance(e, dict)]

    def with_window(self, kind: str, old_id: str | None, fields: WindowFields) -> str:
        """The text with the entry `old_id` of `kind` changed to `fields` (a new entry at the end if None)."""
        document = self._document()
        root = document.data
        entries = root.get(kind)
        if entries is None:
            entries = root[kind] = CommentedSeq()
        if old_id is None:
            entry = CommentedMap()
            entries.append(entry)
        else:
            entry = entries[self._index(entries, kind, old_id)]
        for key, value in fields.values(kind).items():
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value  # a key already there keeps its place and its comment
        if old_id is None and len(entries) > 1:
            hand_on_trailing_comment(entries[-2], entry)
        return document.text()

    def without_window(self, kind: str, window_id: str) -> str:
        document = self._document()
        entries = document.data.get(kind) or []
        index = self._index(entries, kind, window_id)
        if index == len(entries) - 1 and index > 0:
            hand_on_trailing_comment(entries[index], entries[index - 1])
        del entries[index]
        return document.text()

    def _index(self, entries: list, kind: str, window_id: str) -> int:
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and str(entry.get("id")) == window_id:
                return index
        raise BroadcasterError([Problem(str(self.path), f"không có mục '{window_id}' trong '{kind}'",
                                        f"no entry '{window_id}' in '{kind}'", "tải lại trang", "reload the page",
                                        field=kind)])


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Console saves of one file one at a time (so two never both pass the hash check)."""
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def save(path: Path, text: str, opened_digest: str) -> str:
    """Write `text` over `path` if the file is still the copy whose hash is `opened_digest`; return the old text.
    Raises StaleEdit otherwise."""
    path = Path(path)
    with _locked(path):
        current = path.read_text(encoding="utf-8")
        if digest_of(current) != opened_digest:
            raise StaleEdit([Problem(
                str(path), "tệp đã thay đổi từ khi bạn mở nó (có người sửa trong lúc đó); không lưu",
                "the file changed since you opened it (someone edited it meanwhile); nothing was saved",
                "mở lại biểu mẫu để sửa trên bản mới nhất", "open the form again to edit the latest copy")])
        write_atomic(path, text)
    return current
