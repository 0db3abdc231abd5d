"""Commune side: fetch the district feed, check it, bring new clips into the library, report back.

`sync_once(station)` is what `python main.py sync --once` runs and what the daemon calls every
feed.interval_minutes. It never raises for a bad or unreachable feed (that is reported in the SyncResult, and
nothing changes); it never touches playout; it holds a lock so two syncs cannot interleave.

Per source (the HTTP feed, then any feed folder in paths.inbox):
  1. fetch manifest.json (conditional GET; 304 re-uses the last accepted manifest to retry pending clips),
  2. check signature with the pinned key, then district, expiry and version (never older than accepted;
     the same version must be byte-identical) — only then is the version recorded as accepted,
  3. withdraw district clips no longer offered to us (revoked or retargeted),
  4. download each new targeted clip into <paths.state>/feed-staging/<sha>.part (resumed with Range), check
     size and sha256, ingest through the library, delete the staged file,
  5. queue receipts; ask for a re-plan when a priority/emergency clip arrived or a clip was withdrawn.
Finally daily as-run summaries are queued and the outbox is flushed to the collector.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broadcaster.feed import signing
from broadcaster.feed.errors import FeedError, feed_error
from broadcaster.feed.library_access import ClipLibrary, open_library
from broadcaster.feed.manifest import Clip, Verified, open_envelope
from broadcaster.feed.outbox import OUTBOX_FILE, Outbox
from broadcaster.feed.settings import FeedSettings, feed_settings
from broadcaster.feed.state import FeedState
from broadcaster.feed.transport import MANIFEST_NAME, FolderSource, HttpSource
from broadcaster.files import file_sha256
from broadcaster.planning.replan import request_replan
from broadcaster.problems import BroadcasterError
from broadcaster.station.config import Station

logger = logging.getLogger(__name__)

STAGING_DIR = "feed-staging"
# Clip refusals that cannot change on retry (same bytes, same verdict): not downloaded again. "oversized" is
# not final: the operator may raise feed.max_clip_mb, and a declared size over the limit costs no download.
FINAL_REJECTIONS = ("bad-audio",)
# Clip problems that are not the clip's fault: the clip stays pending and is tried again next sync.
RETRIED = ("interrupted", "unreachable", "http-error", "not-found", "missing", "disk-full", "io-error")
DISK_MARGIN = 50 * 2**20
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
    sent: int = 0
    queued: int = 0
    outbox_error: str = ""
    busy: bool = False  # another sync held the lock

    @property
    def ok(self) -> bool:
        return not self.busy and all(s.status != "rejected" and not s.rejected and not s.pending
                                     for s in self.sources)

    @property
    def added(self) -> list[str]:
        return [sha for s in self.sources for sha in s.added]


def sync_once(station: Station, *, feed_url: str | None = None, public_key: Path | None = None,
              library: ClipLibrary | None = None, now: datetime | None = None, flush: bool = True,
              inbox: bool = True) -> SyncResult:
    """One sync of the HTTP feed and the inbox. Raises BroadcasterError only for config problems (no key)."""
    settings = feed_settings(station)
    url = feed_url or settings.url
    key_path = public_key or settings.public_key
    result = SyncResult()
    state_dir = station.paths.state
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "feed.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            result.busy = True
            return result
        sources: list[HttpSource | FolderSource] = []
        if url:
            sources.append(HttpSource(url, settings.timeout_seconds) if "://" in url else FolderSource(Path(url)))
        if inbox:
            sources.extend(FolderSource(folder) for folder in inbox_feeds(station.paths.inbox))
        if sources and key_path is None:
            raise BroadcasterError(feed_error("no-key", str(station.file), "chưa cài khóa công khai của huyện",
                                              "no district public key configured",
                                              "ghi feed.public_key hoặc dùng --public-key",
                                              "set feed.public_key or pass --public-key").problems)
        key = signing.load_public(key_path) if sources else None
        state = FeedState.of(station)
        outbox = Outbox(state_dir / OUTBOX_FILE, station.identity.id)
        try:
            lib = library or open_library(station) if sources else None
            replan: list[str] = []
            for source in sources:
                result.sources.append(_sync_source(source, key, station, settings, state, outbox, lib,
                                                   now or datetime.now(UTC), replan))
            if replan:
                emergency = [sha for sha in result.added if (c := state.clip(sha)) and c.priority == "emergency"]
                request_replan(station.paths.state,
                               "district feed: priority/emergency clip arrived or a clip was withdrawn",
                               replan, emergency)
                result.replan_requested = True
            today = ((now or datetime.now(UTC)) - SUMMARY_DELAY).astimezone(station.zone).date()
            outbox.queue_daily_summaries(station.paths.asrun_log, station.zone, today)
            if flush and settings.collector_url and settings.collector_token:
                try:
                    flushed = outbox.flush(settings.collector_url, settings.collector_token,
                                           settings.timeout_seconds)
                    result.sent, result.outbox_error = flushed.sent, flushed.error
                except FeedError as err:  # a refused token: messages stay queued, the operator is told
                    result.outbox_error = str(err)
            result.queued = outbox.pending()
        finally:
            outbox.close()
            state.close()
    return result


def inbox_feeds(inbox: Path) -> list[Path]:
    """Feed folders in the inbox: the inbox itself or its direct sub-folders, wherever a manifest.json is."""
    if not inbox.is_dir():
        return []
    found = [inbox] if (inbox / MANIFEST_NAME).is_file() else []
    return found + sorted(p for p in inbox.iterdir() if p.is_dir() and (p / MANIFEST_NAME).is_file())


def _sync_source(source: HttpSource | FolderSource, key: Ed25519PublicKey, station: Station,
                 settings: FeedSettings, state: FeedState, outbox: Outbox, library: ClipLibrary,
                 now: datetime, replan: list[str]) -> SourceResult:
    result = SourceResult(source.name)
    is_http = isinstance(source, HttpSource)
    keyid = signing.key_id(key)
    try:
        etag, modified = state.validators(source.name) if is_http else (None, None)
        accepted = state.accepted(keyid)
        fetched = source.manifest(etag, modified) if accepted else source.manifest()
        envelope = fetched.data
        if envelope is None:  # 304: same manifest as last time; still retry its pending clips
            envelope = accepted.envelope
        elif not is_http and state.folder_outcome(envelope) == "rejected":
            result.status = "skipped"
            result.message = "already refused before / đã từ chối trước đây"
            return result
        try:
            verified = _check(envelope, key, source.name, settings, state, now)
        except FeedError:
            if not is_http:
                state.remember_folder(envelope, "rejected")
            raise
        if verified.manifest.version != (accepted.version if accepted else None):
            result.status = "accepted"
        state.accept(keyid, verified.manifest.district, verified.manifest.version, envelope,
                     verified.manifest.expires)
        if is_http and fetched.data is not None:
            state.save_validators(source.name, fetched.etag, fetched.last_modified)
        result.version = verified.manifest.version
        _apply(verified, source, station, settings, state, outbox, library, result, replan, now)
    except FeedError as err:
        result.status, result.code, result.message = "rejected", err.code, str(err)
    return result


def _check(envelope: bytes, key: Ed25519PublicKey, where: str, settings: FeedSettings, state: FeedState,
           now: datetime) -> Verified:
    verified = open_envelope(envelope, key, where)
    m = verified.manifest
    if settings.district and m.district != settings.district:
        raise feed_error("wrong-district", where, f"danh mục của huyện '{m.district}', không phải "
                         f"'{settings.district}'", f"the manifest is for district '{m.district}', not "
                         f"'{settings.district}'", "kiểm tra feed.url và feed.district", "check feed.url and district")
    if m.is_expired(now):
        raise feed_error("expired", where, f"danh mục đã hết hạn lúc {m.expires}", f"the manifest expired at "
                         f"{m.expires}", "báo đài huyện ký lại (district refresh); kiểm tra đồng hồ máy",
                         "ask the district to re-sign it (district refresh); check this machine's clock")
    last = state.accepted(verified.keyid)
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


def _apply(verified: Verified, source: HttpSource | FolderSource, station: Station, settings: FeedSettings,
           state: FeedState, outbox: Outbox, library: ClipLibrary, result: SourceResult, replan: list[str],
           now: datetime) -> None:
    m = verified.manifest
    today = now.astimezone(station.zone).date()
    mine = {c.sha256: c for c in m.clips if c.targets_station(station.identity.id)}
    for old in state.clips_with_status(verified.keyid, "ingested"):
        if old.sha256 in mine:
            continue
        if old.added and library.get(old.sha256):
            library.remove(old.sha256)
        state.set_status(old.sha256, "withdrawn", "revoked" if old.sha256 in {r.sha256 for r in m.revoked}
                         else "no longer offered")
        outbox.receipt(sha256=old.sha256, status="withdrawn", district=m.district, version=m.version)
        result.withdrawn.append(old.sha256)
        replan.append(old.sha256)
    staging = station.paths.state / STAGING_DIR
    _tidy_staging(staging, keep={sha for sha, c in mine.items() if not (state.clip(sha) and
                                                                       state.clip(sha).status == "ingested")})
    for clip in mine.values():
        known = state.clip(clip.sha256)
        if known and known.status == "ingested":
            _update_metadata(clip, known, verified, state, library, replan)
            continue
        if known and known.status == "rejected" and known.reason in FINAL_REJECTIONS:
            continue
        try:
            _fetch_and_ingest(clip, source, staging, station, settings, library, verified, state, outbox, result)
        except FeedError as err:
            if err.code in RETRIED:
                result.pending[clip.sha256] = err.code
                continue
            result.rejected[clip.sha256] = err.code
            _reject(clip, err.code, str(err), verified, state, outbox)
            continue
        if clip.priority in ("priority", "emergency") and (clip.valid_from is None or _day(clip.valid_from) <= today):
            replan.append(clip.sha256)  # it may air today: the rest of today's plan is made again


def _fetch_and_ingest(clip: Clip, source: HttpSource | FolderSource, staging: Path, station: Station,
                      settings: FeedSettings, library: ClipLibrary, verified: Verified, state: FeedState,
                      outbox: Outbox, result: SourceResult) -> None:
    m = verified.manifest
    if clip.size > settings.max_clip_bytes:
        raise feed_error("oversized", clip.file, f"tin bài {clip.size} byte, vượt giới hạn",
                         f"the clip is {clip.size} bytes, over the limit of {settings.max_clip_bytes}",
                         "tăng feed.max_clip_mb nếu đúng là cần", "raise feed.max_clip_mb if it is really needed")
    staging.mkdir(parents=True, exist_ok=True)
    # The clip needs room twice (staging, then the library's copy) plus a margin for the logs and catalogue.
    free = shutil.disk_usage(staging).free
    if free < 2 * clip.size + DISK_MARGIN:
        raise feed_error("disk-full", str(staging), f"không đủ chỗ trống trên đĩa ({free // 2**20} MB)",
                         f"not enough free disk space ({free // 2**20} MB) for a {clip.size // 2**20 + 1} MB clip",
                         "xóa bớt tệp cũ (thư mục audio/.retired)", "free some space (e.g. audio/.retired)")
    part = staging / f"{clip.sha256}.part"
    result.bytes_downloaded += source.download(clip, part, settings.max_clip_bytes)
    if part.stat().st_size != clip.size or file_sha256(part) != clip.sha256:
        part.unlink(missing_ok=True)
        raise feed_error("hash-mismatch", clip.file, "nội dung tệp không khớp mã băm trong danh mục",
                         "the clip's bytes do not match the sha256 in the manifest",
                         "đã bỏ tệp; sẽ tải lại lần sau", "the file was discarded; it is fetched again next sync")
    outbox.receipt(sha256=clip.sha256, status="received", district=m.district, version=m.version,
                   title=clip.title, category=clip.category)
    staged = staging / Path(clip.file).name  # <sha>.<ext>: the library sees a proper audio suffix
    os.replace(part, staged)
    try:
        ingested = library.ingest(staged, category=clip.category, title=clip.title,
                                  valid_from=_day(clip.valid_from), valid_until=_day(clip.valid_until),
                                  priority=clip.priority, source=f"district:{m.district}",
                                  target_lufs=station.audio.target_lufs)
    except BroadcasterError as err:
        raise FeedError(err.problems, "bad-audio") from None
    except OSError as err:  # disk full, permissions: not the clip's fault, so retried next sync
        raise feed_error("io-error", str(staged), f"lỗi ghi đĩa khi nhập tin bài: {err}",
                         f"disk error while ingesting: {err}") from None
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
        if not (path.suffix == ".part" and path.stem in keep):
            path.unlink(missing_ok=True)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
