"""Every bad feed or attack gets a clear error and changes nothing: not the library, not the accepted version,
not the clip rules; no partial file is left in the library. Real HTTP on loopback, real keys, real audio."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from broadcaster.feed import signing
from broadcaster.feed.library_access import open_library
from broadcaster.feed.manifest import Clip, Manifest, seal, utc_iso
from broadcaster.feed.sync import sync_once
from broadcaster.problems import BroadcasterError
from tests.fixtures_feed import collector, district, feed_server, make_audio, make_station, snapshot  # noqa: F401


@pytest.fixture
def synced(tmp_path, district, feed_server):
    """A commune that has accepted version 1 (one clip) from its district."""
    _, clip = district.publish(make_audio(tmp_path / "src" / "first.mp3"))
    station = make_station(tmp_path / "xa-a", feed={"url": feed_server.url, "public_key": str(district.pub),
                                                    "max_clip_mb": 1})
    assert sync_once(station).added == [clip.sha256]
    return station


def manifest_text(district) -> dict:
    return json.loads((district.feed / "manifest.json").read_text(encoding="utf-8"))


def write_envelope(district, envelope: dict | bytes) -> None:
    data = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
    (district.feed / "manifest.json").write_bytes(data)


def refused(station, code: str, *, same_version: bool = True):
    """Sync, expect the manifest refused with `code`, and nothing changed."""
    before = snapshot(station)
    result = sync_once(station)
    source = result.sources[0]
    assert (source.status, source.code) == ("rejected", code), source
    assert source.message and "/" in source.message  # Vietnamese / English
    assert snapshot(station) == before
    return source


def test_forged_signature_is_refused(tmp_path, district, synced):
    district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660), title="Thật / genuine")
    envelope = manifest_text(district)
    envelope["signed"] = envelope["signed"].replace("Thật / genuine", "Giả / forged")
    write_envelope(district, envelope)
    assert "forged" in refused(synced, "bad-signature").message


def test_missing_signature_is_refused(tmp_path, district, synced):
    district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    envelope = manifest_text(district)
    envelope["signatures"] = []
    write_envelope(district, envelope)
    refused(synced, "missing-signature")


def test_manifest_signed_by_another_districts_key_is_refused(tmp_path, district, synced):
    other, _ = signing.generate(tmp_path / "other-district")
    now = datetime.now(UTC)
    audio = district.feed / "clips"
    sha = next(audio.iterdir()).stem
    forged = Manifest("cam-giang", 99, utc_iso(now), utc_iso(now + timedelta(days=7)), (
        Clip(sha, 10, f"clips/{sha}.mp3", "x", "x"),))
    write_envelope(district, seal(forged, signing.load_private(other)))
    assert "another key" in refused(synced, "wrong-key").message


def test_replayed_older_version_is_refused(tmp_path, district, synced):
    old = (district.feed / "manifest.json").read_bytes()
    district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    assert sync_once(synced).sources[0].version == 2
    write_envelope(district, old)
    assert "version 1" in refused(synced, "rollback").message


def test_same_version_with_other_content_is_refused(tmp_path, district, synced):
    from broadcaster.feed.manifest import open_envelope

    envelope = (district.feed / "manifest.json").read_bytes()
    m = open_envelope(envelope, signing.load_public(district.pub), "x").manifest
    write_envelope(district, seal(Manifest(m.district, m.version, m.issued, m.expires, ()),
                                  signing.load_private(district.key)))
    refused(synced, "rollback")


def test_expired_manifest_is_refused(tmp_path, district, synced):
    district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660), now=datetime.now(UTC) - timedelta(days=10))
    assert "expired" in refused(synced, "expired").message


def test_path_traversal_file_name_is_refused(tmp_path, district, synced):
    now = datetime.now(UTC)
    evil = Manifest("cam-giang", 5, utc_iso(now), utc_iso(now + timedelta(days=7)), (
        Clip("a" * 64, 10, "../../../../etc/cron.d/evil.mp3", "x", "x"),))
    write_envelope(district, seal(evil, signing.load_private(district.key)))  # even the district's own key
    assert "unsafe" in refused(synced, "malformed").message
    assert not (tmp_path / "etc").exists()


def test_html_page_instead_of_manifest_is_refused(synced, feed_server):
    feed_server.faults["html"] = True
    assert "HTML" in refused(synced, "not-json").message


def test_garbage_instead_of_manifest_is_refused(district, synced):
    write_envelope(district, b"\x00\x01garbage{{{")
    refused(synced, "not-json")


def test_server_down_is_reported_and_changes_nothing(synced, feed_server):
    feed_server.shutdown()
    feed_server.server_close()
    assert "cannot reach" in refused(synced, "unreachable").message


def test_clip_bytes_not_matching_hash_are_discarded(tmp_path, district, synced):
    _, clip = district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    path = district.feed / clip.file
    path.write_bytes(bytes(reversed(path.read_bytes())))  # same size, other bytes
    before = snapshot(synced)
    result = sync_once(synced).sources[0]
    assert result.status == "accepted" and result.rejected == {clip.sha256: "hash-mismatch"}
    after = snapshot(synced)
    assert (after["audio"], after["rules"], after["staged"]) == (before["audio"], before["rules"], [])
    assert open_library(synced).get(clip.sha256) is None


def test_truncated_download_resumes_from_where_it_stopped(tmp_path, district, synced, feed_server):
    _, clip = district.publish(make_audio(tmp_path / "src" / "second.mp3", seconds=4))
    feed_server.faults["cut"] = {f"{clip.sha256}.mp3": 5000}
    audio_before = snapshot(synced)["audio"]

    first = sync_once(synced).sources[0]
    assert first.pending == {clip.sha256: "interrupted"} and first.added == []
    assert snapshot(synced)["audio"] == audio_before  # nothing half-done in the library
    assert (synced.paths.state / "feed-staging" / "http" / f"{clip.sha256}.part").stat().st_size == 5000

    second = sync_once(synced).sources[0]
    assert second.added == [clip.sha256] and second.bytes_downloaded == clip.size - 5000
    assert (f"/{clip.file}", "bytes=5000-", None) in feed_server.seen
    assert snapshot(synced)["staged"] == []


def test_clip_over_the_size_limit_is_not_downloaded(tmp_path, district, synced, feed_server):
    big = make_audio(tmp_path / "src" / "long.wav", seconds=30)  # ~1.3 MB WAV, limit is 1 MB
    _, clip = district.publish(big)
    result = sync_once(synced).sources[0]
    assert result.rejected == {clip.sha256: "oversized"}
    assert not any(clip.sha256 in path for path, *_ in feed_server.seen)
    assert open_library(synced).get(clip.sha256) is None


def test_server_sending_more_than_declared_is_refused(tmp_path, district, synced):
    _, clip = district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    with open(district.feed / clip.file, "ab") as fh:
        fh.write(b"\0" * 4096)
    result = sync_once(synced).sources[0]
    assert result.rejected == {clip.sha256: "oversized"} and snapshot(synced)["staged"] == []


def test_signed_clip_that_is_not_audio_is_rejected_with_a_receipt(tmp_path, district, synced):
    junk = tmp_path / "src" / "junk.mp3"
    junk.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(BroadcasterError):  # the district's publish refuses it first
        district.publish(junk)
    _, clip = district.publish(junk, check_audio=False)  # a district that skipped its own check
    result = sync_once(synced).sources[0]
    assert result.rejected == {clip.sha256: "bad-audio"}
    assert snapshot(synced)["staged"] == [] and open_library(synced).get(clip.sha256) is None
    from broadcaster.feed.outbox import Outbox

    box = Outbox(synced.paths.state / "outbox.sqlite", "xa-a")
    kinds = [json.loads(b)["status"] for (b,) in box.db.execute("SELECT body FROM outbox WHERE kind='receipt'")]
    assert kinds.count("rejected") == 1
    assert sync_once(synced).sources[0].rejected == {}  # a final verdict: not downloaded again


def test_usb_copy_older_than_accepted_is_refused_once(tmp_path, district, synced):
    shutil.copytree(district.feed, synced.paths.inbox / "old-usb")
    district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    sync_once(synced, inbox=False)
    usb = sync_once(synced).sources[0]  # the inbox first: it never waits on the network
    assert usb.source.endswith("old-usb") and (usb.status, usb.code) == ("rejected", "rollback")
    assert sync_once(synced).sources[0].status == "skipped"  # not re-reported every few minutes


def test_collector_refusing_token_keeps_messages_queued(tmp_path, district, feed_server, collector):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    feed = {"url": feed_server.url, "public_key": str(district.pub), "collector_url": collector.url}
    wrong = make_station(tmp_path / "xa-a", feed=feed | {"collector_token": "x" * 32})
    result = sync_once(wrong)
    assert result.added == [clip.sha256] and result.sent == 0 and result.queued == 2
    assert "refused our token" in result.outbox_error

    right = make_station(tmp_path / "xa-a", feed=feed | {"collector_token": collector.token["xa-a"]})
    assert sync_once(right).sent == 2


def test_full_disk_leaves_the_clip_pending_and_downloads_nothing(tmp_path, district, synced, feed_server,
                                                                  monkeypatch):
    import shutil as sh

    _, clip = district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    real = sh.disk_usage
    monkeypatch.setattr(sh, "disk_usage", lambda p: real(p)._replace(free=10 * 2**20))  # a nearly full SD card
    result = sync_once(synced).sources[0]
    assert result.pending == {clip.sha256: "disk-full"} and not any(clip.sha256 in p for p, *_ in feed_server.seen)
    monkeypatch.undo()
    assert sync_once(synced).sources[0].added == [clip.sha256]
