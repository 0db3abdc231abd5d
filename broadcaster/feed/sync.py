"""Commune side: fetch the district feed, check it, bring new clips into the library, report back.

`sync_once(station)` is what `python main.py sync --once` runs; the daemon runs its three parts as separate jobs
(`sync_inbox`, `sync_http`, `send_results`) so that none waits on another. None of them raises for a bad or
unreachable feed, a full disk or a damaged file: that is reported in the SyncResult (bilingual), nothing
changes, and the next sync tries again. They never touch playout, except by the break-in spool that `play-now`
also uses (a district emergency clip airs at once, a priority clip at the next slot).

Per source (any feed folder in paths.inbox, then the HTTP feed):
  1. fetch manifest.json (conditional GET; 304 re-uses the last accepted manifest to retry pending clips),
  2. check signature with the pinned key, then district, expiry, lifetime and version (never older than
     accepted; the same version must be byte-identical) — only then is the version recorded as accepted,
  3. withdraw district clips no longer offered to us (revoked or retargeted), whichever key signed them,
  4. copy or download each new targeted clip into <paths.state>/feed-staging/<source>/<sha>.part (HTTP resumes
     with Range), check size and sha256, ingest through the library, delete the staged file,
  5. queue receipts; ask for a re-plan when a priority/emergency clip arrived or a clip was withdrawn, and hand
     such a clip valid today to the break-in spool.
Finally daily as-run summaries and "aired" receipts are queued and the outbox is flushed to the collector.

Locks: `feed.lock` only around local changes (feed state, library, staging), never across the network;
`feed-http.lock` keeps two HTTP syncs apart; `outbox.lock` two flushes. Every HTTP exchange has a deadline per
file and the whole sync one overall (http_client.Deadline), which a shutdown cancels.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broadcaster.feed import signing
from broadcaster.feed.errors import FeedError, feed_error
from broadcaster.feed.http_client import Deadline
from broadcaster.feed.library_access import ClipLibrary, open_library
from broadcaster.feed.manifest import Clip, Verified, open_envelope, parse_utc
from broadcaster.feed.outbox import OUTBOX_FILE, Outbox
from broadcaster.feed.root import MAX_ROOTS_PER_SYNC, Root, load_trusted, parse_root
from broadcaster.feed.root import expired as root_expired
from broadcaster.feed.settings import FeedSettings, feed_settings
from broadcaster.feed.state import FeedState
from broadcaster.feed.transport import MANIFEST_NAME, FolderSource, HttpSource
from broadcaster.files import file_sha256
from broadcaster.library.catalogue import KEEP_FREE_BYTES
from broadcaster.model import BREAK_IN_LEVELS, SOUNDED, Level
from broadcaster.planning.replan import request_replan
from broadcaster.problems import BroadcasterError
from broadcaster.station.config import Station

logger = logging.getLogger(__name__)

STAGING_DIR = "feed-staging"
FEED_LOCK = "feed.lock"
HTTP_LOCK = "feed-http.lock"
OUTBOX_LOCK = "outbox.lock"
LOCAL_WAIT = 60.0  # another sync's local step (an ingest) takes seconds; wait that long before saying "busy"
# Clip refusals that cannot change on retry (same bytes, same verdict): not downloaded again. "oversized" is
# not final: the operator may raise feed.max_clip_mb, and a declared size over the limit costs no download.
FINAL_REJECTIONS = ("bad-audio",)
# Clip problems that are not the clip's fault: the clip stays pending and is tried again next sync.
RETRIED = ("interrupted", "unreachable", "http-error", "not-found", "missing", "disk-full", "io-error", "too-slow",
           "not-a-file", "superseded")
# Beyond the library's own margin (it refuses an ingest that would leave less than KEEP_FREE_BYTES), so a clip
# without room waits as "disk-full" (retried) rather than failing inside the ingest.
DISK_MARGIN = KEEP_FREE_BYTES + 16 * 2**20
# A day is summarised only this long after it ended, so an item still playing at midnight is in its row.
SUMMARY_DELAY = timedelta(hours=1)


@dataclass
class SourceResult:
    source: str
    status: str = "unchanged"  # accepted | unchanged | rejected | skipped
    version: int | None = None
    code: str = ""
    message: str = ""
    added: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # sha256 → reason code
    pending: dict[str, str] = field(default_factory=dict)  # sha256 → why not yet (retried next sync)
    bytes_downloaded: int = 0


@dataclass
class SyncResult:
    sources: list[SourceResult] = field(default_factory=list)
    replan_requested: bool = False
    breakins: list[str] = field(default_factory=list)  # sha256 of district clips handed to the break-in spool
    sent: int = 0
    queued: int = 0
    outbox_error: str = ""
    error: str = ""  # a local fault (disk full, damaged state file): nothing changed, retried next sync
    busy: bool = False  # another sync held a lock

    @property
    def ok(self) -> bool:
        return not self.busy and not self.error and all(
            s.status != "rejected" and not s.rejected and not s.pending for s in self.sources)

    @property
    def added(self) -> list[str]:
        return [sha for s in self.sources for sha in s.added]


@dataclass
class _Sync:
    """What one sync knows: the station, its settings and trusted key, and what it has decided so far."""

    station: Station
    settings: FeedSettings
    key: Ed25519PublicKey
    library: ClipLibrary | None
    now: datetime
    deadline: Deadline
    result: SyncResult
    replan: list[str] = field(default_factory=list)
    urgent: list[tuple[Clip, str]] = field(default_factory=list)  # (clip, district) for the break-in spool
    progress: Callable[[str, int, int | None], None] | None = None  # told ("sync-clips", done, total)

    def fetched(self, done: int, total: int) -> None:
        if self.progress and total:
            self.progress("sync-clips", done, total)

    @property
    def anchor(self) -> str:
        return signing.key_id(self.key)

    @property
    def lib(self) -> ClipLibrary:
        if self.library is None:
            self.library = open_library(self.station)
        return self.library


def sync_once(station: Station, *, feed_url: str | None = None, public_key: Path | None = None,
              library: ClipLibrary | None = None, now: datetime | None = None, flush: bool = True,
              inbox: bool = True, http: bool = True, cancel: threading.Event | None = None,
              progress: Callable[[str, int, int | None], None] | None = None) -> SyncResult:
    """The inbox, then the HTTP feed, then results upward. Raises BroadcasterError only for config problems
    (no key, no district id); `cancel` (set on shutdown) ends any transfer within a quarter second;
    `progress("sync-clips", done, total)` hears of each clip fetched."""
    result = SyncResult()
    run = _start(station, feed_url, public_key, library, now, cancel, result)
    if run is not None:
        run.progress = progress
        url = feed_url or run.settings.url
        folders = ([Path(url)] if url and "://" not in url else []) + (inbox_feeds(station.paths.inbox)
                                                                       if inbox else [])
        sync_inbox(station, _run=run, folders=folders)
        if url and "://" in url and http:
            sync_http(station, _run=run, url=url)
    send_results(station, now=now, flush=flush, cancel=cancel, _result=result)
    return result


def sync_inbox(station: Station, *, public_key: Path | None = None, library: ClipLibrary | None = None,
               now: datetime | None = None, folders: list[Path] | None = None, _run: _Sync | None = None
               ) -> SyncResult:
    """Feed folders (feed.url when it is a folder, and those in paths.inbox: USB copies): local, quick, never
    waiting on the network."""
    run = _run or _start(station, None, public_key, library, now, None, SyncResult())
    if run is None:
        return SyncResult()
    if folders is None:
        url = run.settings.url
        folders = ([Path(url)] if url and "://" not in url else []) + inbox_feeds(station.paths.inbox)
    if not folders:
        return run.result
    try:
        with _flock(station.paths.state / FEED_LOCK, LOCAL_WAIT) as got:
            if not got:
                run.result.busy = True
                return run.result
            state = FeedState.of(station)
            outbox = Outbox(station.paths.state / OUTBOX_FILE, station.identity.id)
            try:
                for folder in folders:
                    run.result.sources.append(_sync_folder(FolderSource(folder), run, state, outbox))
                _hand_over(run, state)
            finally:
                outbox.close()
                state.close()
    except (OSError, sqlite3.Error) as err:
        _local_fault(run.result, err)
    return run.result


def sync_http(station: Station, *, url: str | None = None, public_key: Path | None = None,
              library: ClipLibrary | None = None, now: datetime | None = None,
              cancel: threading.Event | None = None, _run: _Sync | None = None) -> SyncResult:
    """The district's web server. The network is used without feed.lock, so the inbox never waits on it."""
    run = _run or _start(station, url, public_key, library, now, cancel, SyncResult())
    if run is None:
        return SyncResult()
    url = url or run.settings.url
    if not url or "://" not in url:
        return run.result
    source = HttpSource(url, run.settings.timeout_seconds)
    try:
        with _flock(station.paths.state / HTTP_LOCK, 0) as got:
            if not got:
                run.result.busy = True
                return run.result
            run.result.sources.append(_sync_http_source(source, run))
    except (OSError, sqlite3.Error) as err:
        _local_fault(run.result, err)
    return run.result


def send_results(station: Station, *, now: datetime | None = None, flush: bool = True,
                 cancel: threading.Event | None = None, _result: SyncResult | None = None) -> SyncResult:
    """Queue daily as-run summaries and "aired" receipts, then post the outbox (never following a redirect)."""
    result = _result or SyncResult()
    settings = feed_settings(station)
    now = now or datetime.now(UTC)
    try:
        station.paths.state.mkdir(parents=True, exist_ok=True)
        outbox = Outbox(station.paths.state / OUTBOX_FILE, station.identity.id)
        try:
            _aired_receipts(station, outbox)
            today = (now - SUMMARY_DELAY).astimezone(station.zone).date()
            outbox.queue_daily_summaries(station.paths.asrun_log, station.zone, today)
            if flush and settings.collector_url and settings.collector_token:
                with _flock(station.paths.state / OUTBOX_LOCK, 0) as got:
                    if got:
                        try:
                            flushed = outbox.flush(settings.collector_url, settings.collector_token,
                                                   settings.timeout_seconds,
                                                   Deadline(settings.file_deadline_seconds, cancel))
                            result.sent, result.outbox_error = flushed.sent, flushed.error
                        except FeedError as err:  # a refused token: messages stay queued, the operator is told
                            result.outbox_error = str(err)
            result.queued = outbox.pending()
        finally:
            outbox.close()
    except (OSError, sqlite3.Error) as err:
        _local_fault(result, err)
    return result


def _start(station: Station, feed_url: str | None, public_key: Path | None, library: ClipLibrary | None,
           now: datetime | None, cancel: threading.Event | None, result: SyncResult) -> _Sync | None:
    settings = feed_settings(station)
    url = feed_url or settings.url
    key_path = public_key or settings.public_key
    if not url and not inbox_feeds(station.paths.inbox):
        return None
    if key_path is None:
        raise BroadcasterError(feed_error("no-key", str(station.file), "chưa cài khóa công khai của huyện",
                                          "no district public key configured",
                                          "ghi feed.public_key hoặc dùng --public-key",
                                          "set feed.public_key or pass --public-key").problems)
    if not settings.district:
        raise BroadcasterError(feed_error("no-district", str(station.file), "thiếu feed.district (mã huyện)",
                                          "feed.district (the district id) is missing",
                                          "ghi mã huyện, ví dụ district: cam-giang",
                                          "set it, e.g. district: cam-giang").problems)
    try:
        station.paths.state.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _local_fault(result, err)
        return None
    return _Sync(station, settings, signing.load_public(key_path), library, now or datetime.now(UTC),
                 Deadline(settings.deadline_seconds, cancel), result)


def _local_fault(result: SyncResult, err: Exception) -> None:
    text = str(err)[:200]
    result.error = (f"lỗi ổ đĩa hoặc tệp trạng thái của trạm, chưa đổi gì, lần sau thử lại ({text}) / "
                    f"a disk or state-file fault on this station; nothing changed, the next sync tries again "
                    f"({text})")
    logger.warning("district feed: %s", result.error)


@contextmanager
def _flock(path: Path, wait: float) -> Iterator[bool]:
    """An exclusive flock on `path`, waiting up to `wait` seconds; yields whether it was had."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        end = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= end:
                    yield False
                    return
                time.sleep(0.05)
        yield True


def inbox_feeds(inbox: Path) -> list[Path]:
    """Feed folders in the inbox: the inbox itself or its direct sub-folders, wherever a manifest.json is.
    Symlinked folders are not followed (lstat): only what is really on the stick or in the inbox."""
    try:
        if not inbox.is_dir():
            return []
        found = [inbox] if _is_plain(inbox / MANIFEST_NAME, file=True) else []
        return found + sorted(p for p in inbox.iterdir() if _is_plain(p, file=False)
                              and _is_plain(p / MANIFEST_NAME, file=True))
    except OSError:
        return []


def _is_plain(path: Path, *, file: bool) -> bool:
    """lstat: a file or folder that exists and is not a symlink. (A non-regular manifest is still listed so
    that its refusal is reported; `open_regular` decides.)"""
    import stat

    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    if stat.S_ISLNK(mode):
        return file  # a symlinked manifest is listed, then refused with a message; a symlinked folder is skipped
    return not stat.S_ISDIR(mode) if file else stat.S_ISDIR(mode)


def _sync_folder(source: FolderSource, run: _Sync, state: FeedState, outbox: Outbox) -> SourceResult:
    """One feed folder, with feed.lock held (all of it is local)."""
    result = SourceResult(source.name)
    try:
        envelope = source.manifest().data
        if state.folder_outcome(envelope) == "rejected":
            result.status = "skipped"
            result.message = "already refused before / đã từ chối trước đây"
            return result
        try:
            verified = _check(envelope, run, source.name, state, _follow_roots(run, state, source.name, source.root))
        except FeedError:
            state.remember_folder(envelope, "rejected")
            raise
        _accept(verified, run, state, result)
        staging = run.station.paths.state / STAGING_DIR / "inbox"
        todo = _apply(verified, run, state, outbox, result, staging)
        for done, clip in enumerate(todo):
            run.fetched(done, len(todo))
            try:
                part = _make_room(clip, run.settings, staging)
                result.bytes_downloaded += source.download(clip, part, run.settings.max_clip_bytes)
                _ingest(clip, part, verified, run, state, outbox, result)
                _hand_over(run, state)  # an emergency airs now, not after the other clips' ingest
            except FeedError as err:
                _clip_failed(clip, err, verified, state, outbox, result)
        run.fetched(len(todo), len(todo))
    except FeedError as err:
        result.status, result.code, result.message = "rejected", err.code, str(err)
    return result


def _sync_http_source(source: HttpSource, run: _Sync) -> SourceResult:
    """The HTTP feed: network without feed.lock, local steps with it (each short)."""
    result = SourceResult(source.name)
    settings, station = run.settings, run.station
    state = FeedState.of(station)
    outbox = Outbox(station.paths.state / OUTBOX_FILE, station.identity.id)
    lock = station.paths.state / FEED_LOCK
    try:
        accepted = state.accepted(run.anchor, settings.district)
        etag, modified = state.validators(source.name) if accepted else (None, None)
        fetched = source.manifest(etag, modified, deadline=run.deadline.within(settings.file_deadline_seconds))
        roots = _fetch_roots(source, run, state)
        staging = station.paths.state / STAGING_DIR / "http"
        with _flock(lock, LOCAL_WAIT) as got:
            if not got:
                raise _busy(source.name)
            accepted = state.accepted(run.anchor, settings.district)
            envelope = fetched.data
            if envelope is None:  # 304: same manifest as last time; still retry its pending clips
                if accepted is None:
                    raise feed_error("http-error", source.name, "máy chủ trả 304 mà chưa có danh mục nào",
                                     "the server answered 304 but no manifest was accepted yet")
                envelope = accepted.envelope
            verified = _check(envelope, run, source.name, state, _follow_roots(run, state, source.name, roots.get))
            _accept(verified, run, state, result)
            if fetched.data is not None:
                state.save_validators(source.name, fetched.etag, fetched.last_modified)
            todo = _apply(verified, run, state, outbox, result, staging)
            _hand_over(run, state)
        for done, clip in enumerate(todo):
            run.fetched(done, len(todo))
            try:
                part = _make_room(clip, settings, staging)
                result.bytes_downloaded += source.download(
                    clip, part, settings.max_clip_bytes, deadline=run.deadline.within(settings.file_deadline_seconds))
                with _flock(lock, LOCAL_WAIT) as got:
                    if not got:
                        raise _busy(source.name)
                    now_accepted = state.accepted(run.anchor, verified.manifest.district)
                    if now_accepted and now_accepted.version != verified.manifest.version:
                        raise feed_error("superseded", clip.file, "đã có danh mục mới hơn; lần sau xét lại",
                                         "a newer manifest was accepted meanwhile; looked at again next sync")
                    known = state.clip(clip.sha256)
                    if known and known.status == "ingested":  # a USB copy brought it meanwhile
                        part.unlink(missing_ok=True)
                        continue
                    _ingest(clip, part, verified, run, state, outbox, result)
                    _hand_over(run, state)
            except FeedError as err:
                if err.code not in RETRIED:
                    with _flock(lock, LOCAL_WAIT):
                        _clip_failed(clip, err, verified, state, outbox, result)
                else:
                    _clip_failed(clip, err, verified, state, outbox, result)
        run.fetched(len(todo), len(todo))
    except FeedError as err:
        result.status, result.code, result.message = "rejected", err.code, str(err)
    finally:
        outbox.close()
        state.close()
    return result


def _busy(where: str) -> FeedError:
    return feed_error("busy", where, "một lần đồng bộ khác đang ghi, lần sau thử lại",
                      "another sync is writing; the next sync tries again")


def _accept(verified: Verified, run: _Sync, state: FeedState, result: SourceResult) -> None:
    m = verified.manifest
    accepted = state.accepted(run.anchor, m.district)
    if m.version != (accepted.version if accepted else None):
        result.status = "accepted"
    state.accept(run.anchor, m.district, m.version, verified.envelope, m.expires)
    result.version = m.version


def _clip_failed(clip: Clip, err: FeedError, verified: Verified, state: FeedState, outbox: Outbox,
                 result: SourceResult) -> None:
    if err.code in RETRIED:
        result.pending[clip.sha256] = err.code
        logger.info("district clip %s not yet: %s", clip.sha256[:12], err)
        return
    result.rejected[clip.sha256] = err.code
    _reject(clip, err.code, str(err), verified, state, outbox)


def _fetch_roots(source: HttpSource, run: _Sync, state: FeedState) -> dict[int, bytes]:
    """Root metadata newer than the trusted one, fetched before feed.lock is taken (checked under it)."""
    stored = state.trusted_root(run.anchor, run.settings.district)
    first = load_trusted(stored, source.name).version + 1 if stored else 1
    found: dict[int, bytes] = {}
    for version in range(first, first + MAX_ROOTS_PER_SYNC):
        data = source.root(version, deadline=run.deadline.within(run.settings.file_deadline_seconds))
        if data is None:
            break
        found[version] = data
    return found


def _follow_roots(run: _Sync, state: FeedState, where: str, get) -> Root | None:
    """The newest trusted root after following the chain (root.py), or None in plain pinned-key mode."""
    district = run.settings.district
    stored = state.trusted_root(run.anchor, district)
    current = load_trusted(stored, where) if stored else None
    if current is None:
        first = get(1)
        if first is None:
            return None  # no root/ in this feed: the pinned key signs manifests itself
        current = parse_root(first, None, run.key, where)
        state.trust_root(run.anchor, district, current.version, current.envelope)
    for _ in range(MAX_ROOTS_PER_SYNC):
        data = get(current.version + 1)
        if data is None:
            break
        newer = parse_root(data, current, None, where)
        if newer.online.keys.keys() != current.online.keys.keys():
            state.forget_version(run.anchor, district)
            logger.warning("district %s: online keys changed in root v%d; versions signed before are forgotten",
                           district, newer.version)
        current = newer
        state.trust_root(run.anchor, district, current.version, current.envelope)
    if current.district != district:
        raise feed_error("wrong-district", where, f"root của huyện '{current.district}', không phải '{district}'",
                         f"the root is for district '{current.district}', not '{district}'",
                         "kiểm tra feed.url và feed.district", "check feed.url and feed.district")
    if current.is_expired(run.now):
        raise root_expired(current, where)
    return current


def _check(envelope: bytes, run: _Sync, where: str, state: FeedState, trust: Root | None = None) -> Verified:
    if trust is not None:
        verified = open_envelope(envelope, trust.online.keys, where, threshold=trust.online.threshold)
    else:
        verified = open_envelope(envelope, run.key, where)
    m, settings = verified.manifest, run.settings
    if m.district != settings.district:
        raise feed_error("wrong-district", where, f"danh mục của huyện '{m.district}', không phải "
                         f"'{settings.district}'", f"the manifest is for district '{m.district}', not "
                         f"'{settings.district}'", "kiểm tra feed.url và feed.district", "check feed.url and district")
    if m.is_expired(run.now):
        raise feed_error("expired", where, f"danh mục đã hết hạn lúc {m.expires}", f"the manifest expired at "
                         f"{m.expires}", "báo đài huyện ký lại (district refresh); kiểm tra đồng hồ máy",
                         "ask the district to re-sign it (district refresh); check this machine's clock")
    if m.days_left(run.now) > settings.max_expires_days:
        raise feed_error("too-long", where, f"danh mục có hạn quá dài (đến {m.expires}, quá "
                         f"{settings.max_expires_days:g} ngày)", f"the manifest is valid for too long (until "
                         f"{m.expires}, over feed.max_expires_days = {settings.max_expires_days:g} days): a replay "
                         "of it could hide new clips and revocations for that long", "báo đài huyện ký lại với "
                         "--expires-days nhỏ hơn", "ask the district to re-sign it with a shorter --expires-days")
    last = state.accepted(run.anchor, m.district)
    if last and m.version < last.version:
        raise feed_error("rollback", where, f"danh mục cũ (phiên bản {m.version}) — đã nhận phiên bản {last.version}",
                         f"an older manifest (version {m.version}) than the one accepted (version {last.version}): "
                         "replayed or rolled back", "không dùng; không cần làm gì nếu là USB cũ",
                         "nothing was used; nothing to do if it is an old USB copy")
    if last and m.version == last.version and hashlib.sha256(envelope).hexdigest() != last.envelope_sha256:
        raise feed_error("rollback", where, f"phiên bản {m.version} khác nội dung đã nhận",
                         f"version {m.version} differs from the one accepted with that number",
                         "báo đài huyện", "tell the district")
    return verified


def _apply(verified: Verified, run: _Sync, state: FeedState, outbox: Outbox, result: SourceResult,
           staging: Path) -> list[Clip]:
    """Withdraw what is no longer offered, update metadata of clips we have; returns the clips to fetch."""
    m = verified.manifest
    mine = {c.sha256: c for c in m.clips if c.targets_station(run.station.identity.id)}
    revoked = {r.sha256 for r in m.revoked}
    for old in state.clips_with_status(m.district, "ingested"):
        if old.sha256 in mine and old.sha256 not in revoked:
            continue
        if old.added and run.lib.get(old.sha256):
            run.lib.remove(old.sha256)
        state.set_status(old.sha256, "withdrawn", "revoked" if old.sha256 in revoked else "no longer offered")
        outbox.receipt(sha256=old.sha256, status="withdrawn", district=m.district, version=m.version)
        result.withdrawn.append(old.sha256)
        run.replan.append(old.sha256)
    todo = []
    for clip in mine.values():
        if clip.sha256 in revoked:
            continue
        known = state.clip(clip.sha256)
        if known and known.status == "ingested":
            _update_metadata(clip, known, verified, state, run.lib, run.replan)
            continue
        if known and known.status == "rejected" and known.reason in FINAL_REJECTIONS:
            continue
        todo.append(clip)
    _tidy_staging(staging, keep={c.sha256 for c in todo})
    urgency = {"emergency": 0, "priority": 1}
    return sorted(todo, key=lambda c: urgency.get(c.priority, 2))  # emergencies first


def _make_room(clip: Clip, settings: FeedSettings, staging: Path) -> Path:
    """The .part path for a clip, once its declared size is within the limit and the disk has room for it."""
    if clip.size > settings.max_clip_bytes:
        raise feed_error("oversized", clip.file, f"tin bài {clip.size} byte, vượt giới hạn",
                         f"the clip is {clip.size} bytes, over the limit of {settings.max_clip_bytes}",
                         "tăng feed.max_clip_mb nếu đúng là cần", "raise feed.max_clip_mb if it is really needed")
    try:
        staging.mkdir(parents=True, exist_ok=True)
        # The clip needs room twice (staging, then the library's copy) plus a margin for the logs and catalogue.
        free = shutil.disk_usage(staging).free
    except OSError as err:
        raise feed_error("io-error", str(staging), f"không tạo được thư mục tạm ({err.strerror})",
                         f"cannot make the staging folder ({err.strerror or err})") from None
    if free < 2 * clip.size + DISK_MARGIN:
        raise feed_error("disk-full", str(staging), f"không đủ chỗ trống trên đĩa ({free // 2**20} MB)",
                         f"not enough free disk space ({free // 2**20} MB) for a {clip.size // 2**20 + 1} MB clip",
                         "xóa bớt tệp cũ (thư mục audio/.retired)", "free some space (e.g. audio/.retired)")
    return staging / f"{clip.sha256}.part"


def _ingest(clip: Clip, part: Path, verified: Verified, run: _Sync, state: FeedState, outbox: Outbox,
            result: SourceResult) -> None:
    """A complete .part: check it against the manifest, hand it to the library's ingest, record it."""
    m = verified.manifest
    try:
        good = part.stat().st_size == clip.size and file_sha256(part) == clip.sha256
    except OSError as err:
        raise feed_error("io-error", str(part), f"không đọc được tệp tạm ({err.strerror})",
                         f"cannot read the staged file ({err.strerror or err})") from None
    if not good:
        part.unlink(missing_ok=True)
        raise feed_error("hash-mismatch", clip.file, "nội dung tệp không khớp mã băm trong danh mục",
                         "the clip's bytes do not match the sha256 in the manifest",
                         "đã bỏ tệp; sẽ tải lại lần sau", "the file was discarded; it is fetched again next sync")
    outbox.receipt(sha256=clip.sha256, status="received", district=m.district, version=m.version,
                   title=clip.title, category=clip.category)
    staged = part.parent / Path(clip.file).name  # <sha>.<ext>: the library sees a proper audio suffix
    try:
        os.replace(part, staged)
        ingested = run.lib.ingest(staged, category=clip.category, title=clip.title,
                                  valid_from=_day(clip.valid_from), valid_until=_day(clip.valid_until),
                                  priority=clip.priority, source=f"district:{m.district}",
                                  target_lufs=run.station.audio.target_lufs)
    except BroadcasterError as err:
        if _short_of_space(run.station.paths.audio, clip.size):  # the library's free-space refusal: retried
            raise FeedError(err.problems, "disk-full") from None
        raise FeedError(err.problems, "bad-audio") from None
    except OSError as err:  # disk full, permissions: not the clip's fault, so retried next sync
        raise feed_error("io-error", str(staged), f"lỗi ghi đĩa khi nhập tin bài: {str(err)[:200]}",
                         f"disk error while ingesting: {str(err)[:200]}") from None
    finally:
        staged.unlink(missing_ok=True)  # the library made its own copy; nothing half-done stays behind
    for problem in getattr(ingested, "warnings", ()):  # stored and playable, but decoded on air
        logger.warning("%s", problem)
    state.record_clip(sha256=clip.sha256, keyid=verified.keyid, district=m.district, category=clip.category,
                      title=clip.title, priority=clip.priority, valid_from=clip.valid_from,
                      valid_until=clip.valid_until, plays_per_day_min=clip.plays_per_day_min,
                      plays_per_day_max=clip.plays_per_day_max, status="ingested", reason="",
                      added=ingested.added, version=m.version)
    outbox.receipt(sha256=clip.sha256, status="ingested", district=m.district, version=m.version,
                   title=clip.title, category=clip.category)
    result.added.append(clip.sha256)
    today = run.now.astimezone(run.station.zone).date()
    if clip.priority in BREAK_IN_LEVELS and (clip.valid_from is None or _day(clip.valid_from) <= today) \
            and (clip.valid_until is None or today <= _day(clip.valid_until)):
        run.replan.append(clip.sha256)  # it may air today: the rest of today's plan is made again
        run.urgent.append((clip, m.district))


def _short_of_space(folder: Path, size: int) -> bool:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < size + KEEP_FREE_BYTES
    except OSError:
        return True


def _hand_over(run: _Sync, state: FeedState) -> None:
    """Tell the daemon: a re-plan of today, and each new emergency/priority clip into the break-in spool, the
    path `play-now` uses (an emergency airs at once, a priority clip at the next slot; blackouts as the daemon
    judges them, unless the signed manifest lets an emergency override them)."""
    from broadcaster.playout.breakin import BreakInRequest, BreakInSpool

    if run.replan:
        emergency = [c.sha256 for c, _ in run.urgent if c.priority == Level.EMERGENCY]
        request_replan(run.station.paths.state,
                       "district feed: priority/emergency clip arrived or a clip was withdrawn",
                       list(dict.fromkeys(run.replan)), emergency)
        run.result.replan_requested = True
        run.replan.clear()
    for clip, district in run.urgent:
        item = run.lib.get(clip.sha256)
        if item is None:
            continue
        reason = f"huyện/district {district}: {clip.reason or clip.title}"
        request = BreakInRequest.new(run.station.paths.audio / item.file, clip.priority, reason,
                                     clip.override_blackout, datetime.now(run.station.zone))
        BreakInSpool(run.station.paths.state).submit(request)
        state.add_breakin(request.id, clip.sha256, district, clip.priority)
        run.result.breakins.append(clip.sha256)
        logger.warning("district %s clip %s handed to the break-in spool (request %s)", clip.priority,
                       clip.sha256[:12], request.id)
    run.urgent.clear()


def _aired_receipts(station: Station, outbox: Outbox) -> None:
    """For each district break-in handed over: a receipt when its as-run row shows it aired (with the time),
    or when the daemon refused it (with the reason)."""
    from broadcaster.asrun.log import AsRunLog

    path = station.paths.state / "feed.sqlite"
    if not path.exists():
        return
    state = FeedState(path)
    try:
        waiting = state.waiting_breakins()
        if not waiting:
            return
        rows = []
        if station.paths.asrun_log.exists():
            since = min(parse_utc(w[4]) for w in waiting)
            with AsRunLog(station.paths.asrun_log) as log:
                rows = log.entries(since - timedelta(seconds=5), datetime.now(UTC) + timedelta(days=1))
        spool = station.paths.state / "break-in"
        for request_id, sha, district, level, submitted in waiting:
            aired = [r for r in rows if r.sha256 == sha and r.level == level and r.actual_start
                     and r.status in SOUNDED and parse_utc(_utc(r.actual_start)) >= parse_utc(submitted)
                     - timedelta(seconds=5)]
            answer = spool / f"{request_id}.answer.json"
            if aired:
                state.breakin_outcome(request_id, "aired", aired[0].actual_start)
                outbox.receipt(sha256=sha, status="aired", district=district, version=0, code=level,
                               title=aired[0].title, category=aired[0].category, aired_at=aired[0].actual_start)
                answer.unlink(missing_ok=True)
                continue
            try:
                verdict = json.loads(answer.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not verdict.get("accepted", True):
                state.breakin_outcome(request_id, "refused")
                outbox.receipt(sha256=sha, status="refused", district=district, version=0, code=level,
                               reason=f"{verdict.get('message_vi', '')} / {verdict.get('message_en', '')}"[:500])
                answer.unlink(missing_ok=True)
    finally:
        state.close()


def _utc(text: str) -> str:
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC).isoformat() if moment.tzinfo else text + "+00:00"


def _update_metadata(clip: Clip, known, verified: Verified, state: FeedState, library: ClipLibrary,
                     replan: list[str]) -> None:
    """A re-published clip may carry new validity, quota or priority."""
    new = (clip.priority, clip.valid_from, clip.valid_until, clip.plays_per_day_min, clip.plays_per_day_max)
    old = (known.priority, known.valid_from, known.valid_until, known.plays_per_day_min, known.plays_per_day_max)
    if new == old:
        return
    if (clip.valid_from, clip.valid_until) != (known.valid_from, known.valid_until) and library.get(clip.sha256):
        library.set_validity(clip.sha256, _day(clip.valid_from), _day(clip.valid_until))
    state.record_clip(sha256=clip.sha256, keyid=verified.keyid, district=verified.manifest.district,
                      category=clip.category, title=clip.title, priority=clip.priority, valid_from=clip.valid_from,
                      valid_until=clip.valid_until, plays_per_day_min=clip.plays_per_day_min,
                      plays_per_day_max=clip.plays_per_day_max, status="ingested", reason="", added=known.added,
                      version=verified.manifest.version)
    replan.append(clip.sha256)


def _reject(clip: Clip, code: str, message: str, verified: Verified, state: FeedState, outbox: Outbox) -> None:
    m = verified.manifest
    state.record_clip(sha256=clip.sha256, keyid=verified.keyid, district=m.district, category=clip.category,
                      title=clip.title, priority=clip.priority, valid_from=clip.valid_from,
                      valid_until=clip.valid_until, plays_per_day_min=clip.plays_per_day_min,
                      plays_per_day_max=clip.plays_per_day_max, status="rejected", reason=code, added=False,
                      version=m.version)
    outbox.receipt(sha256=clip.sha256, status="rejected", district=m.district, version=m.version,
                   title=clip.title, category=clip.category, code=code, reason=message[:500])


def _tidy_staging(staging: Path, keep: set[str]) -> None:
    """Drop what a crash or a withdrawn clip left in staging; keep .part files of clips still wanted."""
    if not staging.is_dir():
        return
    for path in staging.iterdir():
        if path.is_file() and not (path.suffix == ".part" and path.stem in keep):
            path.unlink(missing_ok=True)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
