"""District side: add, revoke and re-sign clips in a feed folder of static files.

A feed folder is `manifest.json` (the signed envelope, see manifest.py) plus `clips/<sha256>.<ext>`. Every
change writes the clip first and the manifest last, each by write-to-temp + fsync + rename, so a web server
serving the folder never shows a manifest naming a clip that is not there yet, nor half a file. A lock file
keeps two publishers from losing each other's changes.
"""

from __future__ import annotations

import fcntl
import json
import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broadcaster.feed import signing
from broadcaster.feed.errors import FeedError
from broadcaster.feed.manifest import (
    AUDIO_EXTENSIONS,
    CATEGORY,
    DISTRICT_ID,
    MAX_REASON,
    Clip,
    Manifest,
    Revocation,
    open_envelope,
    parse_manifest,
    seal,
    utc_iso,
)
from broadcaster.files import file_sha256, replacing, write_atomic
from broadcaster.library.analysis import analyse
from broadcaster.model import Level
from broadcaster.problems import fail

MANIFEST_NAME = "manifest.json"
DEFAULT_EXPIRES_DAYS = 7
# The freeze window: a replay of the last manifest can hide new clips and revocations for at most this long.
MAX_EXPIRES_DAYS = 30


def check_expires_days(days: float) -> float:
    """A manifest lifetime the district may sign: 0 < days ≤ MAX_EXPIRES_DAYS (never nan, inf or negative)."""
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days) \
            or not 0 < days <= MAX_EXPIRES_DAYS:
        raise fail("--expires-days", f"thời hạn danh mục không hợp lệ: {days!r} ngày",
                   f"invalid manifest lifetime: {days!r} days (it must be more than 0 and at most "
                   f"{MAX_EXPIRES_DAYS})", hint_vi=f"dùng từ 1 đến {MAX_EXPIRES_DAYS}, mặc định "
                   f"{DEFAULT_EXPIRES_DAYS}; chạy 'district refresh' hằng ngày",
                   hint_en=f"use 1 to {MAX_EXPIRES_DAYS} (default {DEFAULT_EXPIRES_DAYS}) and run 'district refresh'"
                   " daily")
    return float(days)




@contextmanager
def _locked(feed: Path) -> Iterator[None]:
    feed.mkdir(parents=True, exist_ok=True)
    with open(feed / ".publish.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def current(feed: Path, private: Ed25519PrivateKey) -> Manifest | None:
    """The feed's manifest, checked with our own key (a feed we did not sign is not ours to extend)."""
    path = feed / MANIFEST_NAME
    if not path.exists():
        return None
    # Times are not held against our own manifest: one signed already expired must not stop the next version.
    try:
        return open_envelope(path.read_bytes(), private.public_key(), str(path), strict_times=False).manifest
    except FeedError as err:
        if err.code != "wrong-key" or not (feed / "root").is_dir():
            raise
    # Signed by an online key the root has since replaced: our own file, taken over by the new key.
    return parse_manifest(json.loads(path.read_bytes())["signed"].encode("utf-8"), str(path), strict_times=False)


def _write(feed: Path, private: Ed25519PrivateKey, previous: Manifest | None, district: str | None,
           clips: tuple[Clip, ...], revoked: tuple[Revocation, ...], now: datetime, expires_days: float) -> Manifest:
    name = previous.district if previous else (district or "district")
    if previous and district and district != previous.district:
        raise fail(str(feed), f"feed này thuộc huyện '{previous.district}', không phải '{district}'",
                   f"this feed belongs to district '{previous.district}', not '{district}'")
    manifest = Manifest(district=name, version=(previous.version + 1) if previous else 1, issued=utc_iso(now),
                        expires=utc_iso(now + timedelta(days=expires_days)), clips=clips, revoked=revoked)
    write_atomic(feed / MANIFEST_NAME, seal(manifest, private))
    return manifest


def publish(feed: Path, key: Path, audio: Path, *, category: str, title: str, valid_from: str | None = None,
            valid_until: str | None = None, plays_per_day: tuple[int, int] | None = None, priority: str = Level.NORMAL,
            targets: tuple[str, ...] | str = "all", district: str | None = None,
            expires_days: float = DEFAULT_EXPIRES_DAYS, now: datetime | None = None,
            check_audio: bool = True, reason: str = "", override_blackout: bool = False) -> tuple[Manifest, Clip]:
    """Add (or re-publish with new metadata) one clip and sign the next manifest version.

    The file is decoded whole first (the library's own check), so a clip that cannot air is refused here
    rather than by every commune."""
    now = now or datetime.now(UTC)
    check_expires_days(expires_days)
    private = signing.load_private(key)
    audio = Path(audio)
    if not audio.is_file():
        raise fail(str(audio), "không tìm thấy tệp âm thanh", "audio file not found")
    ext = audio.suffix.lower().lstrip(".")
    if ext not in AUDIO_EXTENSIONS:
        raise fail(str(audio), f"đuôi tệp '.{ext}' không được hỗ trợ", f"file type '.{ext}' is not supported",
                   hint_vi="dùng " + ", ".join(AUDIO_EXTENSIONS), hint_en="use " + ", ".join(AUDIO_EXTENSIONS))
    if override_blackout and priority != Level.EMERGENCY:
        raise fail("--override-blackout", "chỉ tin khẩn cấp mới được phát trong giờ cấm phát",
                   "only an emergency clip may override a commune's blackout", hint_vi="thêm --priority emergency",
                   hint_en="add --priority emergency")
    if len(reason) > MAX_REASON:
        raise fail("--reason", f"lý do quá dài (trên {MAX_REASON} ký tự)", f"reason over {MAX_REASON} characters")
    if not CATEGORY.fullmatch(category) or not title.strip():
        raise fail("--category", f"tên chủ đề không hợp lệ: {category!r} (hoặc thiếu tiêu đề)",
                   f"invalid category {category!r} (or empty title)",
                   hint_vi="dùng chữ thường không dấu, số và '-', ví dụ khai-bao-y-te",
                   hint_en="use lower-case ASCII letters, digits and '-', e.g. khai-bao-y-te")
    if district is not None and not DISTRICT_ID.fullmatch(district):
        raise fail("--district", f"mã huyện không hợp lệ: {district!r}", f"invalid district id {district!r}",
                   hint_vi="dùng chữ thường không dấu, số, '-', ví dụ cam-giang",
                   hint_en="use lower-case ASCII letters, digits and '-', e.g. cam-giang")
    if check_audio:
        analyse(audio)  # raises BroadcasterError, in both languages, naming the file and the fault
    sha, size = file_sha256(audio), audio.stat().st_size
    with _locked(feed):
        previous = current(feed, private)
        clips_dir = feed / "clips"
        clips_dir.mkdir(exist_ok=True)
        target = clips_dir / f"{sha}.{ext}"
        if not target.exists():
            with replacing(target) as tmp:
                shutil.copyfile(audio, tmp)
        clip = Clip(sha256=sha, size=size, file=f"clips/{sha}.{ext}", category=category, title=title,
                    priority=priority, valid_from=valid_from, valid_until=valid_until,
                    plays_per_day_min=plays_per_day[0] if plays_per_day else None,
                    plays_per_day_max=plays_per_day[1] if plays_per_day else None,
                    targets=targets, published=utc_iso(now), reason=reason, override_blackout=override_blackout)
        old = previous.clips if previous else ()
        clips = tuple(c for c in old if c.sha256 != sha) + (clip,)
        revoked = tuple(r for r in (previous.revoked if previous else ()) if r.sha256 != sha)
        return _write(feed, private, previous, district, clips, revoked, now, expires_days), clip


def revoke(feed: Path, key: Path, clip_ref: str, *, expires_days: float = DEFAULT_EXPIRES_DAYS,
           now: datetime | None = None) -> tuple[Manifest, Clip]:
    """Withdraw a clip (by sha256, a unique prefix of it, or its file name) in the next manifest version."""
    now = now or datetime.now(UTC)
    check_expires_days(expires_days)
    private = signing.load_private(key)
    with _locked(feed):
        previous = current(feed, private)
        ref = Path(clip_ref).name.split(".")[0].lower()
        found = [c for c in (previous.clips if previous else ()) if ref and c.sha256.startswith(ref)]
        if len(found) != 1:
            raise fail(str(feed / MANIFEST_NAME), f"không thấy đúng một tin bài khớp '{clip_ref}'",
                       f"no single clip matches '{clip_ref}' ({len(found)} found)",
                       hint_vi="dùng mã sha256 đầy đủ", hint_en="give the full sha256")
        clip = found[0]
        revocation = Revocation(clip.sha256, utc_iso(now), clip.title)
        manifest = _write(feed, private, previous, None, tuple(c for c in previous.clips if c is not clip),
                          previous.revoked + (revocation,), now, expires_days)
        # The file goes only after the manifest stops naming it; a commune mid-download retries and then sees
        # the revocation.
        (feed / clip.file).unlink(missing_ok=True)
        return manifest, clip


def refresh(feed: Path, key: Path, *, expires_days: float = DEFAULT_EXPIRES_DAYS,
            now: datetime | None = None) -> Manifest:
    """Re-sign the same content with a new version and expiry (run daily from cron so communes never see an
    expired feed)."""
    now = now or datetime.now(UTC)
    check_expires_days(expires_days)
    private = signing.load_private(key)
    with _locked(feed):
        previous = current(feed, private)
        if previous is None:
            raise fail(str(feed / MANIFEST_NAME), "feed chưa có danh mục", "the feed has no manifest yet",
                       hint_vi="đăng tin bài đầu tiên bằng 'district publish'", hint_en="publish a clip first")
        return _write(feed, private, previous, None, previous.clips, previous.revoked, now, expires_days)


def root_init(feed: Path, root_key: Path, online: list[Path], district: str, *, expires_days: float = 365,
              now: datetime | None = None) -> Path:
    """root/1.root.json: the offline root key certifies the online key(s) that sign manifests (root.py)."""
    from broadcaster.feed import root as roots

    if not DISTRICT_ID.fullmatch(district):
        raise fail("--district", f"mã huyện không hợp lệ: {district!r}", f"invalid district id {district!r}")
    folder = feed / roots.ROOT_DIR
    if (folder / roots.file_name(1)).exists():
        raise fail(str(folder / roots.file_name(1)), "root đã có; dùng 'district root rotate'",
                   "a root exists already; use 'district root rotate'")
    private = signing.load_private(root_key)
    first = roots.new_root(district, 1, [private.public_key()], [signing.load_public(p) for p in online],
                           expires_days, now)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / roots.file_name(1), roots.seal_root(first, [private]))
    return folder / roots.file_name(1)


def root_rotate(feed: Path, root_key: Path, *, new_root_key: Path | None = None, online: list[Path] | None = None,
                expires_days: float = 365, now: datetime | None = None) -> Path:
    """The next root version, signed by the current root key (and the new one, when the root key changes):
    new online keys (a stolen one is left out), a new root key, or just a later expiry."""
    from broadcaster.feed import root as roots

    folder = feed / roots.ROOT_DIR
    latest = None
    version = 1
    while (folder / roots.file_name(version)).exists():
        latest = roots.load_trusted((folder / roots.file_name(version)).read_bytes(), str(folder))
        version += 1
    if latest is None:
        raise fail(str(folder), "chưa có root; dùng 'district root init'", "no root yet; use 'district root init'")
    old = signing.load_private(root_key)
    if signing.key_id(old.public_key()) not in latest.root.keys:
        raise fail(str(root_key), "khóa này không phải khóa gốc hiện hành", "this is not the current root key")
    new = signing.load_private(new_root_key) if new_root_key else old
    online_keys = [signing.load_public(p) for p in online] if online else list(latest.online.keys.values())
    nxt = roots.new_root(latest.district, version, [new.public_key()], online_keys, expires_days, now)
    signers = [old] if new is old else [old, new]
    write_atomic(folder / roots.file_name(version), roots.seal_root(nxt, signers))
    return folder / roots.file_name(version)
