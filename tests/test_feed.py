"""District feed, end to end with real parts: ffmpeg audio, Ed25519 keys, a static HTTP server on loopback,
the library ingest, SQLite state, the collector service."""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from broadcaster.asrun.log import AsRunLog
from broadcaster.cli import main as cli
from broadcaster.feed.library_access import open_library
from broadcaster.feed.report import build, read_feed_manifest, render
from broadcaster.feed.sync import SUMMARY_DELAY, sync_once
from broadcaster.library.district_rules import district_rules
from broadcaster.library.station_copy import has_copy
from broadcaster.planning.replan import clear_replan_request, replan_request
from tests.support.feed import make_audio, make_station, snapshot


def commune(tmp_path, district, url, collector=None, station_id="xa-a", **extra):
    feed = {"url": url, "public_key": str(district.pub), **extra}
    if collector:
        feed |= {"collector_url": collector.url, "collector_token": collector.token[station_id]}
    return make_station(tmp_path / station_id, station_id=station_id, feed=feed)


def test_keygen_writes_private_key_readable_only_by_owner(tmp_path):
    assert cli(["district", "keygen", "--out", str(tmp_path / "k")]) == 0
    assert stat.S_IMODE(os.stat(tmp_path / "k" / "district.key").st_mode) == 0o600
    assert cli(["district", "keygen", "--out", str(tmp_path / "k")]) == 2  # never overwrites a key


def test_published_clip_reaches_library_collector_and_district_report(tmp_path, district, feed_server, collector):
    audio = make_audio(tmp_path / "src" / "bluezone.mp3")
    manifest, clip = district.publish(audio, title="Cài đặt Bluezone", category="bluezone", plays_per_day=(3, 5),
                                      valid_from="2021-02-17", valid_until="2099-03-12")
    station = commune(tmp_path, district, feed_server.url, collector)

    result = sync_once(station)

    assert result.ok and result.added == [clip.sha256], result
    item = open_library(station).get(clip.sha256)
    assert item.title == "Cài đặt Bluezone" and item.category == "bluezone"
    assert item.source == "district:cam-giang" and str(item.valid_until) == "2099-03-12"
    assert (station.paths.audio / item.file).is_file()
    assert has_copy(station.paths.audio, clip.sha256, station.audio.sample_rate, station.audio.channels)
    assert district_rules(station) == [{
        "sha256": clip.sha256, "category": "bluezone", "title": "Cài đặt Bluezone", "plays_per_day_min": 3,
        "plays_per_day_max": 5, "priority": "normal", "valid_from": "2021-02-17", "valid_until": "2099-03-12",
        "district": "cam-giang"}]
    assert not [p for p in (station.paths.state / "feed-staging").rglob("*") if p.is_file()]  # nothing half-way
    assert result.sent == 2 and result.queued == 0  # received + ingested receipts

    # Yesterday it aired twice: the next sync sends the daily summary up.
    # The sync summarises a day only an hour after it ended (SUMMARY_DELAY): between 00:00 and 01:00 station
    # time "yesterday" is still open, so count from the same instant the sync does.
    yesterday = (datetime.now(station.zone) - SUMMARY_DELAY).date() - timedelta(days=1)
    with AsRunLog(station.paths.asrun_log) as log:
        for hour in (6, 17):
            start = datetime.combine(yesterday, time(hour), station.zone)
            log.append(planned_start=start, actual_start=start, actual_end=start + timedelta(seconds=90),
                       status="aired", category="bluezone", title=item.title, file=item.file, sha256=clip.sha256)
    again = sync_once(station)
    assert again.sent == 1 and [s.status for s in again.sources] == ["unchanged"]
    assert feed_server.statuses.get(304) == 1  # the manifest was not downloaded again

    today = yesterday + timedelta(days=1)  # delivered counts receipts up to the end of the period: today's
    report = build(collector.db, yesterday, today, sorted(collector.token), read_feed_manifest(district.feed))
    row = report.clips[0]
    assert (row.sha256, row.delivered, row.plays, row.minutes) == (clip.sha256, 1, 2, 3.0)
    assert report.not_reporting == ["xa-b"] and row.not_delivered == ["xa-b"]
    assert "Cài đặt Bluezone" in render(report, "text") and "not_reporting,xa-b" in render(report, "csv")


def test_usb_copy_in_inbox_is_verified_and_ingested(tmp_path, district):
    import shutil

    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = make_station(tmp_path / "xa-a", feed={"public_key": str(district.pub)})
    shutil.copytree(district.feed, station.paths.inbox / "usb-2021-02-20")

    result = sync_once(station)

    assert result.ok and result.added == [clip.sha256]
    assert open_library(station).get(clip.sha256) is not None


def test_revoked_clip_leaves_rotation_and_asks_for_replan(tmp_path, district, feed_server):
    _, keep = district.publish(make_audio(tmp_path / "src" / "a.mp3", freq=500))
    _, gone = district.publish(make_audio(tmp_path / "src" / "b.mp3", freq=700), priority="emergency")
    station = commune(tmp_path, district, feed_server.url)
    first = sync_once(station)
    assert sorted(first.added) == sorted([keep.sha256, gone.sha256]) and first.replan_requested
    assert replan_request(station.paths.state)["clips"] == [gone.sha256]  # the emergency clip re-plans today
    assert replan_request(station.paths.state)["emergency"] == [gone.sha256]  # ... and may break in at once
    clear_replan_request(station.paths.state)

    assert cli(["district", "revoke", gone.sha256[:10], "--feed", str(district.feed), "--key", str(district.key)]) == 0
    result = sync_once(station)

    assert result.sources[0].withdrawn == [gone.sha256]
    assert open_library(station).get(gone.sha256) is None and open_library(station).get(keep.sha256)
    assert [has_copy(station.paths.audio, c.sha256, 44100, 2) for c in (gone, keep)] == [False, True]
    assert [r["sha256"] for r in district_rules(station)] == [keep.sha256]
    assert replan_request(station.paths.state)["clips"] == [gone.sha256]


def test_clip_not_targeted_at_this_commune_is_not_fetched(tmp_path, district, feed_server):
    district.publish(make_audio(tmp_path / "src" / "a.mp3"), targets=("xa-b",))
    station = commune(tmp_path, district, feed_server.url)
    result = sync_once(station)
    assert result.ok and result.added == [] and not any("clips/" in p for p, *_ in feed_server.seen)


def test_collector_stores_a_resent_batch_once_and_refuses_bad_tokens(collector):
    batch = json.dumps({"messages": [{"id": "m1", "kind": "receipt", "body": {"sha256": "x", "status": "ingested"}}]})

    def post(token):
        req = urllib.request.Request(collector.url + "messages", data=batch.encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, None

    assert post(collector.token["xa-a"]) == (200, {"commune": "xa-a", "stored": 1, "duplicates": 0})
    assert post(collector.token["xa-a"]) == (200, {"commune": "xa-a", "stored": 0, "duplicates": 1})
    assert post(None)[0] == 401 and post("not-a-token-of-anyone")[0] == 401
    from broadcaster.feed.collector import add_token

    new = add_token(collector.tokens, "xa-c")  # a new commune, while the collector runs
    assert post(new) == (200, {"commune": "xa-c", "stored": 1, "duplicates": 0})
    from broadcaster.feed.collector import connect

    db = connect(collector.db)
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 2


def test_unsent_receipts_stay_queued_until_the_collector_is_back(tmp_path, district, feed_server, collector):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    down = "http://127.0.0.1:9/"  # discard port: nothing listens
    station = commune(tmp_path, district, feed_server.url, collector_url=down, collector_token="x" * 20)
    first = sync_once(station)
    assert first.added == [clip.sha256] and first.sent == 0 and first.queued == 2 and first.outbox_error

    station = commune(tmp_path, district, feed_server.url, collector)
    second = sync_once(station)
    assert second.sent == 2 and second.queued == 0
    report = build(collector.db, datetime.now(UTC).date(), datetime.now(UTC).date(), ["xa-a"])
    assert report.clips[0].delivered == 1


def test_sync_command_prints_bilingual_result_and_exit_code(tmp_path, district, feed_server, capsys):
    district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = commune(tmp_path, district, feed_server.url)
    assert cli(["sync", "--once", "--config", str(station.file)]) == 0
    assert "NHẬN/ACCEPTED v1" in capsys.readouterr().out
    feed_server.faults["html"] = True
    assert cli(["sync", "--once", "--config", str(station.file)]) == 1
    assert "HTML" in capsys.readouterr().out
    assert snapshot(station)["accepted"]  # still the accepted v1


def test_feed_config_errors_name_file_line_and_key(tmp_path):
    import pytest

    from broadcaster.feed.settings import feed_settings
    from broadcaster.problems import BroadcasterError

    station = make_station(tmp_path / "xa-a", feed={"url": "http://x/", "max_clip_mb": -3, "colour": "red"})
    with pytest.raises(BroadcasterError) as err:
        feed_settings(station)
    problems = {p.field: p for p in err.value.problems}
    assert problems["feed.colour"].line == 8 and "unknown key" in problems["feed.colour"].message_en
    assert problems["feed.max_clip_mb"].line == 7 and problems["feed.max_clip_mb"].message_vi
    assert "public_key" in problems["feed.url"].message_en  # a feed without a pinned key is refused


def test_withdrawn_clip_leaves_no_partial_download_behind(tmp_path, district, feed_server):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3", seconds=4))
    feed_server.faults["cut"] = {f"{clip.sha256}.mp3": 3000}
    station = commune(tmp_path, district, feed_server.url)
    assert sync_once(station).sources[0].pending == {clip.sha256: "interrupted"}
    district_revoke = ["district", "revoke", clip.sha256, "--feed", str(district.feed), "--key", str(district.key)]
    assert cli(district_revoke) == 0
    assert sync_once(station).ok
    assert snapshot(station)["staged"] == []


def test_district_collector_and_report_commands(tmp_path, district, feed_server, collector, capsys):
    import socket
    import subprocess
    import sys

    district.publish(make_audio(tmp_path / "src" / "a.mp3"), title="Khai báo y tế")
    with socket.socket() as probe:  # a free port for the collector command
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = tmp_path / "cli-collector.sqlite"
    service = subprocess.Popen([sys.executable, "main.py", "district", "collector", "--port", str(port), "--db",
                                str(db), "--tokens", str(collector.tokens), "--config", str(tmp_path / "none.yaml")],
                               stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert "collector listening" in service.stdout.readline()
        station = commune(tmp_path, district, feed_server.url, collector_url=f"http://127.0.0.1:{port}/",
                          collector_token=collector.token["xa-a"])
        assert sync_once(station).sent == 2
    finally:
        service.terminate()
        service.wait(timeout=10)
    today = datetime.now(UTC).date().isoformat()
    args = ["district", "report", "--from", today, "--to", today, "--db", str(db), "--tokens", str(collector.tokens),
            "--feed", str(district.feed), "--config", str(tmp_path / "none.yaml")]
    assert cli(args + ["--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clips"][0]["title"] == "Khai báo y tế" and report["clips"][0]["delivered"] == 1
    assert report["not_reporting"] == ["xa-b"]  # xa-a sent receipts today; xa-b sent nothing
    assert cli(args) == 0 and "Khai báo y tế" in capsys.readouterr().out


def test_a_day_with_nothing_aired_is_still_summarised_once(tmp_path):
    from zoneinfo import ZoneInfo

    from broadcaster.feed.outbox import Outbox

    box = Outbox(tmp_path / "outbox.sqlite", "xa-a")
    today = datetime(2021, 2, 20).date()
    box.db.execute("INSERT INTO meta VALUES ('since', '2021-02-17')")
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert box.queue_daily_summaries(tmp_path / "no-asrun.sqlite", zone, today) == 3  # 17, 18, 19 Feb
    assert box.queue_daily_summaries(tmp_path / "no-asrun.sqlite", zone, today) == 0
    bodies = [json.loads(b) for (b,) in box.db.execute("SELECT body FROM outbox ORDER BY body")]
    assert [b["day"] for b in bodies] == ["2021-02-17", "2021-02-18", "2021-02-19"] and bodies[0]["items"] == []


def test_redirected_feed_is_followed_for_manifest_and_resumed_clip(tmp_path, district, feed_server):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3", seconds=4))
    feed_server.faults["cut"] = {f"{clip.sha256}.mp3": 4000}
    station = commune(tmp_path, district, feed_server.url + "moved/")
    assert sync_once(station).sources[0].pending == {clip.sha256: "interrupted"}
    assert sync_once(station).added == [clip.sha256]
    assert (f"/{clip.file}", "bytes=4000-", None) in feed_server.seen  # Range survives the redirect


def test_validate_reports_feed_section_problems(tmp_path, capsys):
    station = make_station(tmp_path / "xa-a", feed={"url": "http://x/", "public_key": "missing.pub"})
    assert cli(["validate", "--config", str(station.file)]) == 2
    out = capsys.readouterr().out
    assert "missing.pub" in out and "district public key file not found" in out


def test_server_without_etag_gets_if_modified_since_and_answers_304(tmp_path, district, feed_server):
    district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    feed_server.faults["no_etag"] = True
    station = commune(tmp_path, district, feed_server.url)
    assert sync_once(station).ok
    again = sync_once(station)
    assert again.ok and again.sources[0].status == "unchanged" and feed_server.statuses.get(304) == 1


def test_district_quota_reaches_the_planner(tmp_path, district):
    import shutil

    from broadcaster.planning.inputs import planner_inputs
    from broadcaster.station.playlists import Quota

    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"), plays_per_day=(2, 4))
    station = make_station(tmp_path / "xa-a", feed={"public_key": str(district.pub)})
    shutil.copytree(district.feed, station.paths.inbox / "usb")
    assert sync_once(station).ok
    station.paths.playlists.mkdir(parents=True, exist_ok=True)
    (station.paths.playlists / "p.yaml").write_text("sequence: [bluezone]\n", encoding="utf-8")
    playlists, items = planner_inputs(station)
    assert clip.sha256 in {i.sha256 for i in items}
    rules = [r for p in playlists.values() for r in p.items if r.sha256 == clip.sha256]
    assert rules and rules[0].plays == Quota(2, 4)


def test_a_message_the_collector_refuses_is_kept_aside_and_the_others_are_delivered(tmp_path, collector):
    """Before: the collector's 400 for one bad summary kept the whole batch queued, re-sent in front of every later
    message at each flush, so nothing from this commune ever reached the district again."""
    from broadcaster.feed.collector import connect
    from broadcaster.feed.outbox import Outbox

    box = Outbox(tmp_path / "outbox.sqlite", "xa-a")
    box.queue("summary", {"day": "2021-02-17", "items": []}, "good-1")
    box.queue("summary", {"day": "2021-02-31", "items": []}, "bad")  # not a calendar date: the collector says so
    box.queue("summary", {"day": "2021-02-19", "items": []}, "good-2")
    first = box.flush(collector.url, collector.token["xa-a"])
    assert (first.sent, first.refused, first.queued) == (2, 1, 0), first
    assert "refused 1 message" in first.error and "từ chối 1 tin" in first.error
    [(msg_id, kind, reason)] = box.refused()
    assert (msg_id, kind) == ("bad", "summary") and "HTTP 400" in reason and "calendar date" in reason
    db = connect(collector.db)
    assert sorted(r[0] for r in db.execute("SELECT id FROM messages")) == ["good-1", "good-2"]
    db.close()

    box.queue("summary", {"day": "2021-02-20", "items": []}, "good-3")  # later messages are not held up
    second = box.flush(collector.url, collector.token["xa-a"])
    assert (second.sent, second.refused, second.queued, second.error) == (1, 0, 0, "")
    assert box.pending() == 0 and len(box.refused()) == 1  # kept, with its reason, never sent again
    box.close()


def test_an_outbox_made_before_refusals_were_kept_aside_gains_the_column(tmp_path):
    import sqlite3

    from broadcaster.feed.outbox import Outbox

    old = sqlite3.connect(tmp_path / "outbox.sqlite")
    old.executescript("CREATE TABLE outbox (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, "
                      "created TEXT NOT NULL, sent_at TEXT, attempts INTEGER NOT NULL DEFAULT 0, "
                      "last_error TEXT NOT NULL DEFAULT '');"
                      "INSERT INTO outbox (id, kind, body, created) VALUES ('m', 'summary', '{}', '2021-02-17');")
    old.close()
    box = Outbox(tmp_path / "outbox.sqlite", "xa-a")
    assert box.pending() == 1 and box.refused() == []
    box.close()
