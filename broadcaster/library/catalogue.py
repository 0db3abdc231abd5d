"""The station's audio library: files in `audio/<category>/`, catalogued in one SQLite file.

`audio/` is the truth and the catalogue is an index of it: every ingested file gets a sidecar
`<file>.meta.yaml` with what cannot be measured (title, category, source, validity, priority), so
`rebuild()` recreates the catalogue from `audio/` alone. Ingest copies, never moves or changes the source,
and is all-or-nothing: the copy is written to a hidden temp file in the target folder, synced and renamed
into place, and the row is added last; any failure removes what was written.

Revoked or removed items move to `audio/.retired/<category>/` with their sidecar (nothing is deleted, so a
revoke can be checked or undone by moving the file back and running `rebuild`). Hidden files and folders
are never catalogued.

Gain: `target_lufs - loudness_lufs`, capped so the true peak (BS.1770 Annex 2, what the DAC reconstructs between
samples) after gain stays at or below -1 dBTP, because the engine applies a plain gain with no limiter; a quiet
file with sharp peaks therefore ends up a little below the target rather than clipping. Items catalogued before
true peaks were measured (no `true_peak_dbtp`) are measured again by `rebuild`.

A mono file played on a stereo output comes out of both channels, which BS.1770 counts as 3 dB louder than the
mono measurement (ffmpeg's ebur128 `dualmono`), so its gain allows for that; `loudness_lufs` itself stays the
plain BS.1770 figure of the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from broadcaster.files import (
    CHUNK,
    GROUP_READABLE,
    GROUP_WRITABLE,
    create_for_group,
    file_sha256,
    free_bytes,
    make_folder,
    replacing,
    slug,
    write_atomic,
)
from broadcaster.library import station_copy
from broadcaster.library.analysis import AudioAnalysis, analyse
from broadcaster.model import LEVELS, Approval, Level, LibraryItem, is_category
from broadcaster.problems import BroadcasterError, Problem, fail
from broadcaster.station.yamlio import Located, dump_yaml, load_yaml

AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".mp4")
SIDECAR_SUFFIX = ".meta.yaml"
RETIRED_DIR = ".retired"
MAX_TRUE_PEAK_DBTP = -1.0
# Ingest leaves this much of the disk free: the as-run log, the on-air state and the plan cache live there too.
KEEP_FREE_BYTES = 64 * 2**20
MB = 2**20
_SIDECAR_KEYS = {"title", "category", "source", "valid_from", "valid_until", "priority", "sha256", "approval"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL UNIQUE,          -- relative to the audio folder, '/' separated
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    duration REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    codec TEXT NOT NULL,
    loudness_lufs REAL NOT NULL,
    peak_dbfs REAL NOT NULL,
    gain_db REAL NOT NULL,
    source TEXT NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    priority TEXT NOT NULL,
    added_at TEXT NOT NULL,
    approval TEXT NOT NULL DEFAULT 'approved',  -- Approval; catalogues made before it had every item approved
    true_peak_dbtp REAL                 -- NULL: catalogued before true peaks were measured
);
"""
_ITEM_COLUMNS = ("sha256", "file", "title", "category", "duration", "sample_rate", "channels", "loudness_lufs",
                 "gain_db", "source", "valid_from", "valid_until", "priority", "approval")


@dataclass(frozen=True)
class IngestResult:
    item: LibraryItem
    added: bool  # False: the same audio (sha256) was already in the library as item.file
    warnings: tuple[Problem, ...] = ()  # stored, but no station copy (it will be decoded on air)


@dataclass
class RebuildReport:
    catalogued: list[str] = field(default_factory=list)  # files now in the catalogue
    analysed: int = 0  # files decoded again (the others kept their measurements: same sha256)
    dropped: list[str] = field(default_factory=list)  # catalogue rows whose file is gone
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, same audio as file)
    problems: list[Problem] = field(default_factory=list)  # files left out, and why
    copies_made: int = 0  # station copies written for items that had none
    copies_pruned: int = 0  # copies of no catalogued item (or in another format), and temp files, deleted
    copy_warnings: list[Problem] = field(default_factory=list)  # copies that could not be written


DUAL_MONO_DB = 10 * math.log10(2)  # one channel's power counted twice


def gain_for(loudness_lufs: float, true_peak_dbtp: float, target_lufs: float, *, dual_mono: bool = False) -> float:
    """Gain to the station target, capped so the true peak stays at or below -1 dBTP."""
    as_played = loudness_lufs + (DUAL_MONO_DB if dual_mono else 0.0)
    return round(min(target_lufs - as_played, MAX_TRUE_PEAK_DBTP - true_peak_dbtp), 2)


def station_library(station) -> Library:
    """The station's library as config.yaml describes it: its sound card's channels, station copies in its
    format unless `audio.station_copies` is off, and its longest item."""
    audio = station.audio
    return Library(station.paths.catalogue, station.paths.audio, output_channels=audio.channels,
                   copies=(audio.sample_rate, audio.channels) if audio.station_copies else None,
                   max_item_seconds=audio.max_item_minutes * 60)


class Library:
    def __init__(self, catalogue_path: str | Path, audio_dir: str | Path, *, output_channels: int = 2,
                 copies: tuple[int, int] | None = None, max_item_seconds: float | None = None):
        self.catalogue_path = Path(catalogue_path)
        self.audio_dir = Path(audio_dir)
        self.output_channels = output_channels  # the station's sound card: mono files play on every channel
        self.copies = copies  # (sample rate, channels) of the station copies to keep (station_copy), or None
        self.max_item_seconds = max_item_seconds  # ingest refuses longer files; None: no limit

    # -- reading -------------------------------------------------------------------------------------

    def items(self) -> list[LibraryItem]:
        return [_item(row) for row in self._query("SELECT * FROM items ORDER BY file")]

    def get(self, sha256: str) -> LibraryItem | None:
        rows = self._query("SELECT * FROM items WHERE sha256 = ?", (sha256,))
        return _item(rows[0]) if rows else None

    def by_file(self, rel: str) -> LibraryItem | None:
        rows = self._query("SELECT * FROM items WHERE file = ?", (Path(rel).as_posix(),))
        return _item(rows[0]) if rows else None

    def untracked(self) -> list[Path]:
        """Audio files in the audio folder that are not in the catalogue (dropped in by hand)."""
        known = {row["file"] for row in self._query("SELECT file FROM items")}
        return [p for p in self._audio_files() if self._rel(p) not in known]

    # -- changing ------------------------------------------------------------------------------------

    def ingest(self, src: str | Path, *, category: str, title: str | None = None, valid_from: date | None = None,
               valid_until: date | None = None, priority: str = Level.NORMAL, source: str = "local",
               target_lufs: float = -16.0, approval: str = Approval.APPROVED) -> IngestResult:
        """Check, measure and copy one file into the library; raise `BroadcasterError` if it cannot air."""
        src = Path(src)
        _check_metadata(src, category, valid_from, valid_until, priority)
        if src.suffix.lower() not in AUDIO_EXTENSIONS:
            raise fail(str(src), f"đuôi tệp '{src.suffix}' không được nhận", f"file type '{src.suffix}' not accepted",
                       hint_vi=f"dùng tệp {', '.join(AUDIO_EXTENSIONS)}",
                       hint_en=f"use a {', '.join(AUDIO_EXTENSIONS)} file")
        if src.is_file():  # a duplicate is known by its hash alone: no need to decode it again
            existing = self.get(file_sha256(src))
            if existing:
                return self._already_in(existing)
        measured = analyse(src, self.max_item_seconds)
        with self._writing():
            existing = self.get(measured.sha256)
            if existing:
                return self._already_in(existing, locked=True)
            title = (title or measured.tags.get("title") or src.stem).strip()
            folder = self.audio_dir / category
            rel = self._free_name(folder, slug(title) or "audio", src.suffix.lower())
            item = replace(_new_item(measured, rel, title, category, source, valid_from, valid_until, priority,
                                     target_lufs, self.output_channels), approval=Approval(approval))
            self._store(src, measured, item)
            warning = self._make_copy(item)
        return IngestResult(item, added=True, warnings=(warning,) if warning else ())

    def _already_in(self, item: LibraryItem, *, locked: bool = False) -> IngestResult:
        """The same audio again: nothing to add, but a missing station copy is made (ingesting again mends it).
        `locked`: the caller holds the writer's lock (a second flock from this process would wait for ever)."""
        warning = None
        if self.copies is not None and not station_copy.has_copy(self.audio_dir, item.sha256, *self.copies):
            with nullcontext() if locked else self._writing():
                warning = self._make_copy(item)
        return IngestResult(item, added=False, warnings=(warning,) if warning else ())

    def missing_copies(self) -> list[LibraryItem]:
        """Items with no whole station copy (they play, but are decoded on air)."""
        if self.copies is None:
            return []
        return [i for i in self.items() if not station_copy.has_copy(self.audio_dir, i.sha256, *self.copies)]

    def set_validity(self, sha256: str, valid_from: date | None, valid_until: date | None) -> LibraryItem:
        item = self._need(sha256)
        _check_metadata(self.audio_dir / item.file, item.category, valid_from, valid_until, item.priority)
        item = replace(item, valid_from=valid_from, valid_until=valid_until)
        with self._writing(), self._db() as db:
            _write_sidecar(self.audio_dir / item.file, item)  # sidecar first: rebuild must not lose the change
            db.execute("UPDATE items SET valid_from = ?, valid_until = ? WHERE sha256 = ?",
                       (_iso(valid_from), _iso(valid_until), sha256))
        return item

    def set_details(self, sha256: str, *, title: str, category: str) -> LibraryItem:
        """Change what an operator calls an item: its title and category (the file stays where it is)."""
        item = self._need(sha256)
        title = " ".join(title.split())
        if not title:
            raise fail(item.file, "tên bài không được để trống", "the title cannot be empty", field_name="title")
        _check_metadata(self.audio_dir / item.file, category, item.valid_from, item.valid_until, item.priority)
        item = replace(item, title=title, category=category)
        with self._writing(), self._db() as db:
            _write_sidecar(self.audio_dir / item.file, item)  # sidecar first: rebuild must not lose the change
            db.execute("UPDATE items SET title = ?, category = ? WHERE sha256 = ?", (title, category, sha256))
        return item

    def retired(self) -> list[tuple[str, dict]]:
        """Items taken out of rotation (audio/.retired/): (sha256, sidecar metadata), by file name."""
        folder = self.audio_dir / RETIRED_DIR
        found = []
        for path in sorted(folder.rglob(f"*{SIDECAR_SUFFIX}")) if folder.is_dir() else []:
            audio = path.with_name(path.name[: -len(SIDECAR_SUFFIX)])
            try:
                meta = _read_sidecar(audio)
            except BroadcasterError:
                continue
            if audio.is_file() and meta.get("sha256"):
                found.append((str(meta["sha256"]), dict(meta, file=audio.relative_to(folder).as_posix())))
        return found

    def restore(self, sha256: str, target_lufs: float = -16.0) -> LibraryItem:
        """Bring a retired item back into rotation (the reverse of `remove`), with its sidecar's metadata."""
        folder = self.audio_dir / RETIRED_DIR
        match = next((meta for sha, meta in self.retired() if sha == sha256), None)
        if match is None:
            raise fail(str(folder), f"không có bài đã gỡ với mã {sha256[:12]}", f"no retired item {sha256[:12]}",
                       "tải lại trang", "reload the page")
        source = folder / match["file"]
        with self._writing():
            target = self.audio_dir / match["file"]
            if target.exists():
                target = self.audio_dir / self._free_name(target.parent, target.stem, target.suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            os.replace(_sidecar_path(source), _sidecar_path(target))
            self._rebuild(target_lufs, lambda *_: None)  # measures it again only if its audio is new to it
        item = self.get(sha256)
        if item is None:
            raise fail(str(target), "không đưa bài trở lại được", "the item could not be restored",
                       "chạy 'python main.py library rebuild' để xem lỗi", "run 'python main.py library rebuild'")
        return item

    def set_approval(self, sha256: str, approval: Approval) -> LibraryItem:
        """Record the leadership's decision on the item (sidecar first, so rebuild keeps it)."""
        item = replace(self._need(sha256), approval=Approval(approval))
        with self._writing(), self._db() as db:
            _write_sidecar(self.audio_dir / item.file, item)
            db.execute("UPDATE items SET approval = ? WHERE sha256 = ?", (item.approval.value, sha256))
        return item

    def remove(self, sha256: str) -> Path:
        """Take an item out of rotation: move its file and sidecar to audio/.retired/; return the new path."""
        item = self._need(sha256)
        audio = self.audio_dir / item.file
        retired = self.audio_dir / RETIRED_DIR / item.file
        with self._writing():
            make_folder(retired.parent)
            if retired.exists() and file_sha256(retired) != sha256:
                retired = retired.with_name(f"{retired.stem}-{sha256[:8]}{retired.suffix}")
            # Row first: if the move fails the item is out of rotation anyway, and rebuild would re-add it.
            with self._db() as db:
                db.execute("DELETE FROM items WHERE sha256 = ?", (sha256,))
            if audio.exists():
                os.replace(audio, retired)
            sidecar = _sidecar_path(audio)
            if sidecar.exists():
                os.replace(sidecar, _sidecar_path(retired))
            for copy in (self.audio_dir / station_copy.STATION_DIR).glob(f"{sha256}-*.wav"):
                copy.unlink(missing_ok=True)  # derived: rebuild makes it again if the item comes back
        return retired

    def rebuild(self, target_lufs: float = -16.0,
                progress: Callable[[str, int, int | None], None] | None = None,
                arriving: Approval = Approval.APPROVED) -> RebuildReport:
        """Recreate the catalogue from the audio folder; the old catalogue is replaced only when done.
        `progress(stage, done, total)` hears of each file analysed and each station copy checked. A file dropped
        in by hand (in neither the old catalogue nor a sidecar) arrives `arriving`: pending where local content
        needs approval, so copying a file into audio/ does not put it on air unapproved."""
        with self._writing():
            return self._rebuild(target_lufs, progress or (lambda stage, done, total: None), Approval(arriving))

    def _rebuild(self, target_lufs: float, progress: Callable[[str, int, int | None], None],
                 arriving: Approval = Approval.APPROVED) -> RebuildReport:
        report = RebuildReport()
        old = {}
        if self.catalogue_path.exists():
            with suppress(sqlite3.DatabaseError):  # a damaged catalogue is exactly what rebuild is for
                old = {row["sha256"]: dict(row) for row in self._query("SELECT * FROM items")}
        new_rows: dict[str, dict] = {}
        files = self._audio_files()
        for done, path in enumerate(files):
            progress("analyse", done, len(files))
            rel = self._rel(path)
            try:
                row = self._row_for(path, rel, old, target_lufs, report, arriving)
            except BroadcasterError as err:
                report.problems.extend(err.problems)
                continue
            if row["sha256"] in new_rows:
                report.duplicates.append((rel, new_rows[row["sha256"]]["file"]))
                continue
            new_rows[row["sha256"]] = row
        progress("analyse", len(files), len(files))
        report.dropped = sorted(row["file"] for sha, row in old.items()
                                if sha not in new_rows and not (self.audio_dir / row["file"]).exists())
        self._replace_catalogue(list(new_rows.values()))
        report.catalogued = sorted(row["file"] for row in new_rows.values())
        if self.copies is not None:
            report.copies_pruned = station_copy.prune(
                self.audio_dir, {station_copy.copy_path(self.audio_dir, row["sha256"], *self.copies).name
                                 for row in new_rows.values()})
            items = self.items()
            for done, item in enumerate(items):
                progress("copies", done, len(items))
                if station_copy.has_copy(self.audio_dir, item.sha256, *self.copies):
                    continue
                warning = self._make_copy(item)
                if warning:
                    report.copy_warnings.append(warning)
                else:
                    report.copies_made += 1
            progress("copies", len(items), len(items))
        return report

    def _make_copy(self, item: LibraryItem) -> Problem | None:
        """Write the item's station copy; a copy that cannot be written is a warning, never a lost item."""
        if self.copies is None:
            return None
        dest = station_copy.copy_path(self.audio_dir, item.sha256, *self.copies)
        need, free = station_copy.copy_size(item.duration, *self.copies), free_bytes(dest.parent)
        if free - need < KEEP_FREE_BYTES:
            return Problem(str(dest), f"{item.file} có trong thư viện nhưng không đủ chỗ trống cho bản sao định dạng "
                           f"đài: cần {need / MB:.0f} MB, còn {free / MB:.0f} MB, phải chừa {KEEP_FREE_BYTES // MB} MB "
                           "cho nhật ký phát sóng; bài vẫn phát được, máy sẽ giải mã tệp gốc khi phát (tốn CPU hơn)",
                           f"{item.file} is in the library, but there is no room for its station copy: it needs "
                           f"{need / MB:.0f} MB, {free / MB:.0f} MB are free and {KEEP_FREE_BYTES // MB} MB are kept "
                           "for the as-run log; it still plays, decoded from the original on air (more CPU)",
                           "giải phóng chỗ trống (hoặc đặt audio.station_copies: false), rồi chạy: python main.py "
                           "library rebuild", "free some space (or set audio.station_copies: false), then run: "
                           "python main.py library rebuild", severity="warning")
        try:
            station_copy.write_copy(self.audio_dir / item.file, dest, *self.copies)
        except (OSError, ValueError) as err:
            return Problem(str(dest), f"{item.file} có trong thư viện nhưng không ghi được bản sao định dạng đài "
                           f"({err}); bài vẫn phát được, máy sẽ giải mã tệp gốc khi phát (tốn CPU hơn)",
                           f"{item.file} is in the library, but its station copy could not be written ({err}); "
                           "it still plays, decoded from the original on air (more CPU)",
                           "kiểm tra chỗ trống và quyền ghi thư mục audio/.station, rồi chạy: python main.py "
                           "library rebuild", "check free space and write permission on audio/.station, then run: "
                           "python main.py library rebuild", severity="warning")
        return None

    # -- internals -----------------------------------------------------------------------------------

    def _row_for(self, path: Path, rel: str, old: dict, target_lufs: float, report: RebuildReport,
                 arriving: Approval = Approval.APPROVED) -> dict:
        meta = _read_sidecar(path)
        parts = rel.split("/")
        if "category" not in meta and len(parts) < 2:
            raise BroadcasterError([Problem(
                str(path), "tệp nằm ngoài thư mục chủ đề nên không biết chủ đề",
                "file is not in a category folder, so its category is unknown",
                "chuyển tệp vào audio/<chủ đề>/ hoặc dùng lệnh ingest",
                "move it into audio/<category>/ or use the ingest command")])
        sha = file_sha256(path)
        if sha in old and old[sha].get("true_peak_dbtp") is not None:
            # Same bytes: keep the measurements, but follow a changed station target.
            base = dict(old[sha])
            base["gain_db"] = gain_for(base["loudness_lufs"], base["true_peak_dbtp"], target_lufs,
                                       dual_mono=base["channels"] == 1 and self.output_channels > 1)
        else:
            measured = analyse(path)
            report.analysed += 1
            base = _row(_new_item(measured, rel, measured.tags.get("title") or path.stem, parts[0], "local",
                                  None, None, Level.NORMAL, target_lufs, self.output_channels), measured)
            if not meta and sha not in old:  # dropped in by hand: no record of who brought it or its approval
                base["approval"] = arriving.value
        # The folder is the category (an operator may move a file by hand); the sidecar's copy is a record.
        base.update(file=rel, sha256=sha, category=parts[0] if len(parts) > 1 else str(meta["category"]))
        for key in ("title", "source", "priority", "approval"):
            if meta.get(key):
                base[key] = str(meta[key])
        for key in ("valid_from", "valid_until"):
            if key in meta:
                base[key] = _iso(_as_date(meta[key], path, key))
        if base["priority"] not in LEVELS:
            raise fail(str(_sidecar_path(path)), f"mức ưu tiên không biết: {base['priority']!r}",
                       f"unknown priority {base['priority']!r}", hint_vi=f"dùng {', '.join(LEVELS)}",
                       hint_en=f"use {', '.join(LEVELS)}", field_name="priority")
        if base.setdefault("approval", Approval.APPROVED.value) not in set(Approval):
            raise fail(str(_sidecar_path(path)), f"trạng thái duyệt không biết: {base['approval']!r}",
                       f"unknown approval {base['approval']!r}", hint_vi=f"dùng {', '.join(Approval)}",
                       hint_en=f"use {', '.join(Approval)}", field_name="approval")
        return base

    def _store(self, src: Path, measured: AudioAnalysis, item: LibraryItem) -> None:
        dest = self.audio_dir / item.file
        need, free = src.stat().st_size, free_bytes(dest.parent)
        if free - need < KEEP_FREE_BYTES:
            raise fail(str(src), f"không đủ chỗ trống trong {self.audio_dir}: tệp cần {need / MB:.1f} MB, còn "
                       f"{free / MB:.0f} MB, phải chừa {KEEP_FREE_BYTES // MB} MB cho nhật ký phát sóng; chưa thêm gì",
                       f"not enough free space in {self.audio_dir}: the file needs {need / MB:.1f} MB, "
                       f"{free / MB:.0f} MB are free and {KEEP_FREE_BYTES // MB} MB are kept for the as-run log; "
                       "nothing was added", hint_vi="giải phóng chỗ trống rồi nhập lại",
                       hint_en="free some space, then ingest again")
        made_folder = not dest.parent.exists()
        make_folder(dest.parent)
        written: list[Path] = []
        try:
            _copy_verified(src, dest, measured.sha256)
            written.append(dest)
            _write_sidecar(dest, item)
            written.append(_sidecar_path(dest))
            with self._db() as db:
                db.execute(_INSERT, _values(_row(item, measured)))
        except BaseException as err:
            for path in written:
                path.unlink(missing_ok=True)
            if made_folder:
                with suppress(OSError):
                    dest.parent.rmdir()
            if isinstance(err, sqlite3.Error | OSError):
                raise fail(str(self.catalogue_path if isinstance(err, sqlite3.Error) else dest),
                           f"không ghi được vào thư viện, chưa thêm gì ({err})",
                           f"could not write to the library, nothing was added ({err})",
                           hint_vi="kiểm tra chỗ trống trên đĩa và quyền ghi",
                           hint_en="check free disk space and permissions") from err
            raise

    def _replace_catalogue(self, rows: list[dict]) -> None:
        with replacing(self.catalogue_path) as tmp, closing(sqlite3.connect(tmp)) as db, db:
            db.executescript(_SCHEMA)
            db.executemany(_INSERT, [_values(r) for r in rows])

    def _need(self, sha256: str) -> LibraryItem:
        item = self.get(sha256)
        if item is None:
            raise fail(str(self.catalogue_path), f"không có mục {sha256[:12]}… trong thư viện",
                       f"no item {sha256[:12]}… in the library", hint_vi="xem: python main.py library list",
                       hint_en="see: python main.py library list")
        return item

    def _free_name(self, folder: Path, stem: str, suffix: str) -> str:
        taken = {row["file"] for row in self._query("SELECT file FROM items")}
        for n in range(1, 10_000):
            name = f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}"
            rel = self._rel(folder / name)
            if rel not in taken and not (folder / name).exists():
                return rel
        raise fail(str(folder), "quá nhiều tệp trùng tên", "too many files with this name", hint_vi="đặt tên khác",
                   hint_en="choose another title")

    def _audio_files(self) -> list[Path]:
        if not self.audio_dir.is_dir():
            return []
        found = []
        for folder, dirs, files in os.walk(self.audio_dir):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [Path(folder) / f for f in sorted(files)
                      if not f.startswith(".") and Path(f).suffix.lower() in AUDIO_EXTENSIONS]
        return found

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.audio_dir).as_posix()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time across processes (operator ingest and the district feed may overlap)."""
        lock_path = self.catalogue_path.with_name(self.catalogue_path.name + ".lock")
        make_folder(lock_path.parent)
        create_for_group(lock_path, GROUP_WRITABLE)
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        make_folder(self.catalogue_path.parent)
        create_for_group(self.catalogue_path, GROUP_WRITABLE)  # an empty file is an empty SQLite database
        with closing(sqlite3.connect(self.catalogue_path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            db.executescript(_SCHEMA)
            _add_missing_columns(db)
            with db:  # one transaction
                yield db

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        if not self.catalogue_path.exists():
            return []
        with self._db() as db:
            return db.execute(sql, args).fetchall()


# Columns added since the first catalogues, given to an older catalogue when it is opened.
_ADDED_COLUMNS = (("approval", "TEXT NOT NULL DEFAULT 'approved'"),  # every older item was approved
                  ("true_peak_dbtp", "REAL"))  # NULL until `rebuild` measures it


def _add_missing_columns(db: sqlite3.Connection) -> None:
    have = {row[1] for row in db.execute("PRAGMA table_info(items)")}
    for name, definition in _ADDED_COLUMNS:
        if name not in have:
            db.execute(f"ALTER TABLE items ADD COLUMN {name} {definition}")


def _check_metadata(src: Path, category: str, valid_from: date | None, valid_until: date | None,
                    priority: str) -> None:
    problems = []
    if not is_category(category):
        problems.append(Problem(str(src), f"tên chủ đề không hợp lệ: {category!r}", f"invalid category {category!r}",
                                "dùng chữ thường không dấu, số và '-', ví dụ khai-bao-y-te",
                                "use lower-case ASCII letters, digits and '-', e.g. khai-bao-y-te",
                                field="category"))
    if priority not in LEVELS:
        problems.append(Problem(str(src), f"mức ưu tiên không biết: {priority!r}", f"unknown priority {priority!r}",
                                f"dùng {', '.join(LEVELS)}", f"use {', '.join(LEVELS)}", field="priority"))
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(Problem(str(src), "ngày hết hạn trước ngày bắt đầu", "valid-until is before valid-from",
                                "sửa lại ngày", "correct the dates", field="valid_until"))
    if problems:
        raise BroadcasterError(problems)


def _new_item(measured: AudioAnalysis, rel: str, title: str, category: str, source: str, valid_from: date | None,
              valid_until: date | None, priority: str, target_lufs: float, output_channels: int) -> LibraryItem:
    return LibraryItem(
        sha256=measured.sha256, file=rel, title=title, category=category, duration=round(measured.duration, 3),
        sample_rate=measured.sample_rate, channels=measured.channels, loudness_lufs=measured.loudness_lufs,
        gain_db=gain_for(measured.loudness_lufs, measured.true_peak_dbtp, target_lufs,
                         dual_mono=measured.channels == 1 and output_channels > 1), source=source,
        valid_from=valid_from, valid_until=valid_until, priority=priority)


def _copy_verified(src: Path, dest: Path, sha256: str) -> None:
    """Copy to a hidden temp file beside `dest`, check the hash, sync, rename: `dest` appears whole or not at all."""
    with replacing(dest, mode=GROUP_READABLE) as tmp:
        digest = hashlib.sha256()
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while block := fin.read(CHUNK):
                digest.update(block)
                fout.write(block)
        if digest.hexdigest() != sha256:
            raise fail(str(src), "tệp nguồn thay đổi trong lúc nhập", "the source file changed while it was ingested",
                       hint_vi="đợi chép xong rồi nhập lại", hint_en="wait until it is fully copied, then ingest again")




def _sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + SIDECAR_SUFFIX)


def _write_sidecar(audio: Path, item: LibraryItem) -> None:
    meta = {"title": item.title, "category": item.category, "source": item.source,
            "valid_from": _iso(item.valid_from), "valid_until": _iso(item.valid_until), "priority": item.priority,
            "sha256": item.sha256, "approval": str(item.approval)}
    text = ("# Thông tin bài trong thư viện; sửa được, rồi chạy: python main.py library rebuild\n"
            "# Library metadata for the audio file beside it; edit, then run: python main.py library rebuild\n"
            + dump_yaml(meta))
    write_atomic(_sidecar_path(audio), text, mode=GROUP_READABLE)


def _read_sidecar(audio: Path) -> dict:
    path = _sidecar_path(audio)
    if not path.exists():
        return {}
    meta = load_yaml(path)
    if meta is None:
        return {}
    if not isinstance(meta, Located):
        raise fail(str(path), "tệp thông tin phải là bảng khóa: giá trị", "metadata file must be a mapping",
                   hint_vi="xem một tệp .meta.yaml mẫu", hint_en="see another .meta.yaml")
    unknown = sorted(set(meta) - _SIDECAR_KEYS)
    if unknown:
        raise fail(str(path), f"khóa không biết '{unknown[0]}'", f"unknown key '{unknown[0]}'",
                   hint_vi=f"các khóa hợp lệ: {', '.join(sorted(_SIDECAR_KEYS))}",
                   hint_en=f"valid keys: {', '.join(sorted(_SIDECAR_KEYS))}", line=meta.line_of(unknown[0]))
    return dict(meta)


def _as_date(value: object, path: Path, key: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise fail(str(_sidecar_path(path)), f"ngày không hợp lệ: {value!r}", f"not a date: {value!r}",
                   hint_vi="viết ngày dạng YYYY-MM-DD", hint_en="write the date as YYYY-MM-DD",
                   field_name=key) from None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _row(item: LibraryItem, measured: AudioAnalysis) -> dict:
    return {"sha256": item.sha256, "file": item.file, "title": item.title, "category": item.category,
            "duration": item.duration, "sample_rate": item.sample_rate, "channels": item.channels,
            "codec": measured.codec, "loudness_lufs": item.loudness_lufs, "peak_dbfs": measured.peak_dbfs,
            "gain_db": item.gain_db, "source": item.source, "valid_from": _iso(item.valid_from),
            "valid_until": _iso(item.valid_until), "priority": item.priority,
            "added_at": datetime.now(UTC).isoformat(timespec="seconds"), "approval": str(item.approval),
            "true_peak_dbtp": measured.true_peak_dbtp}


_ROW_ORDER = ("sha256", "file", "title", "category", "duration", "sample_rate", "channels", "codec", "loudness_lufs",
              "peak_dbfs", "gain_db", "source", "valid_from", "valid_until", "priority", "added_at", "approval",
              "true_peak_dbtp")
# By name: catalogues that gained columns later have them in the order they were added.
_INSERT = f"INSERT INTO items ({', '.join(_ROW_ORDER)}) VALUES ({', '.join('?' * len(_ROW_ORDER))})"


def _values(row: dict) -> tuple:
    return tuple(row[key] for key in _ROW_ORDER)


def _item(row: sqlite3.Row) -> LibraryItem:
    values = {key: row[key] for key in _ITEM_COLUMNS}
    values["valid_from"] = date.fromisoformat(row["valid_from"]) if row["valid_from"] else None
    values["valid_until"] = date.fromisoformat(row["valid_until"]) if row["valid_until"] else None
    return LibraryItem(**values)
