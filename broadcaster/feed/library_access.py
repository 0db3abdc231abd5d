"""How the feed reaches the station library: `broadcaster.library.Library` (the normal ingest).

Until that module lands on this branch, `InterimLibrary` stands in with the same five calls: it decodes the
whole file with ffmpeg (bad audio is refused), copies it atomically into audio/<category>/ and keeps a small
JSON catalogue beside the real one. It measures no loudness (gain 0 dB). It is dropped once the real
library is merged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Protocol

from broadcaster.config import Station
from broadcaster.model import LibraryItem
from broadcaster.problems import fail


class ClipLibrary(Protocol):
    def ingest(self, src: str | Path, *, category: str, title: str | None = None, valid_from: date | None = None,
               valid_until: date | None = None, priority: str = "normal", source: str = "local",
               target_lufs: float = -16.0): ...

    def get(self, sha256: str) -> LibraryItem | None: ...

    def set_validity(self, sha256: str, valid_from: date | None, valid_until: date | None) -> LibraryItem: ...

    def remove(self, sha256: str) -> Path: ...


def open_library(station: Station) -> ClipLibrary:
    try:
        from broadcaster.library import Library
    except ImportError:
        return InterimLibrary(station.paths.catalogue, station.paths.audio)
    return Library(station.paths.catalogue, station.paths.audio)


@dataclass(frozen=True)
class InterimIngest:
    item: LibraryItem
    added: bool


class InterimLibrary:
    def __init__(self, catalogue_path: Path, audio_dir: Path):
        self.index = Path(catalogue_path).with_suffix(".feed-interim.json")
        self.audio_dir = Path(audio_dir)

    def _load(self) -> dict[str, dict]:
        try:
            return json.loads(self.index.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, dict]) -> None:
        self.index.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.index.with_name(self.index.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.index)

    def items(self) -> list[LibraryItem]:
        return [_item(d) for d in self._load().values()]

    def get(self, sha256: str) -> LibraryItem | None:
        data = self._load().get(sha256)
        return _item(data) if data else None

    def ingest(self, src, *, category, title=None, valid_from=None, valid_until=None, priority="normal",
               source="local", target_lufs=-16.0) -> InterimIngest:
        from broadcaster.feed.publish import file_sha256

        src = Path(src)
        sha, _ = file_sha256(src)
        if existing := self.get(sha):
            return InterimIngest(existing, False)
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=sample_rate,channels:format="
                                "duration", "-of", "json", str(src)], capture_output=True, text=True)
        decode = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(src), "-f", "null", "-"],
                                capture_output=True, text=True)
        info = json.loads(probe.stdout or "{}")
        if probe.returncode or decode.returncode or not info.get("streams"):
            raise fail(str(src), "tệp âm thanh hỏng, không giải mã được", "the audio file does not decode",
                       hint_vi="kiểm tra tệp gốc", hint_en=(decode.stderr or probe.stderr).strip()[:200])
        stream = info["streams"][0]
        rel = f"{category}/{sha[:16]}{src.suffix.lower()}"
        dest = self.audio_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        item = LibraryItem(sha, rel, title or src.stem, category, float(info["format"]["duration"]),
                           int(stream.get("sample_rate", 0)), int(stream.get("channels", 0)), 0.0, 0.0, source,
                           valid_from, valid_until, priority)
        data = self._load()
        data[sha] = _row(item)
        self._save(data)
        return InterimIngest(item, True)

    def set_validity(self, sha256, valid_from, valid_until) -> LibraryItem:
        data = self._load()
        item = replace(_item(data[sha256]), valid_from=valid_from, valid_until=valid_until)
        data[sha256] = _row(item)
        self._save(data)
        return item

    def remove(self, sha256) -> Path:
        data = self._load()
        item = _item(data.pop(sha256))
        (self.audio_dir / item.file).unlink(missing_ok=True)
        self._save(data)
        return self.audio_dir / item.file


def _row(item: LibraryItem) -> dict:
    row = asdict(item)
    row["valid_from"] = item.valid_from.isoformat() if item.valid_from else None
    row["valid_until"] = item.valid_until.isoformat() if item.valid_until else None
    return row


def _item(row: dict) -> LibraryItem:
    row = dict(row)
    for key in ("valid_from", "valid_until"):
        row[key] = date.fromisoformat(row[key]) if row[key] else None
    return LibraryItem(**row)
