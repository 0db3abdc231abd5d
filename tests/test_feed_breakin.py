"""District emergency and priority clips on a real daemon (issue 11, item 16): the feed hands them to the same
break-in spool as `play-now`; an emergency airs at once (inside a blackout only when the signed manifest says
so), a priority clip opens the next slot, ahead of its first item; the as-run rows carry the district's level and
reason, a PulseAudio recording shows the tones aired and when (the rows' times are checked against it), and
receipts say when."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import timedelta

import pytest

from broadcaster.feed import publish, signing
from broadcaster.feed.sync import send_results, sync_once
from broadcaster.station.config import load_station
from tests.support.daemon import (
    NEEDS_PULSEAUDIO,
    DaemonProcess,
    asrun_time,
    log_rows,
    now_in_zone,
    station_dir,
    tone,
)
from tests.support.faults import slot_soon
from tests.support.heard import LOGGED_VS_HEARD, ON_TIME, Heard, ms
from tests.support.pulse import Recorder

pytestmark = NEEDS_PULSEAUDIO


def test_district_emergency_breaks_in_at_once_and_priority_waits_for_the_slot(tmp_path, daemon_pulse):
    env, server = daemon_pulse
    if os.getloadavg()[0] > 4 * (os.cpu_count() or 1):
        pytest.skip(f"load average {os.getloadavg()[0]:.0f} on {os.cpu_count()} cores: too loaded for a timing test "
                    "that records the sound card (passes on a machine with room, see the issue 11 report)")
    lead = 300  # moved to a few seconds ahead once the daemon has judged the three clips (slot_soon)
    if now_in_zone().hour == 23 and now_in_zone().minute >= 50:
        pytest.skip("the test station's day would cross midnight")
    # in online lessons until the slot starts
    config, slot_start = station_dir(tmp_path, lead, 20, item_seconds=3, blackout=(-10, lead))
    private, public = signing.generate(tmp_path / "keys")
    feed = tmp_path / "feed"

    def send(name: str, freq: int, seconds: float, **kw):
        audio = tone(tmp_path / f"{name}.wav", freq, seconds)
        return publish.publish(feed, private, audio, title=name, district="cam-giang", **kw)[1]

    storm = send("bao-so-3", 1000, 2.0, category="khan-cap-huyen", priority="emergency", reason="Bão số 3",
                 override_blackout=True)
    fire = send("chay-rung", 1200, 1.0, category="khan-cap-huyen", priority="emergency", reason="Cháy rừng")
    meeting = send("hop-dan", 1500, 1.5, category="thong-bao-huyen", priority="priority", reason="Họp dân")
    config.write_text(config.read_text(encoding="utf-8") + f"feed:\n  url: {feed}\n  public_key: {public}\n"
                      "  district: cam-giang\n  interval_minutes: 0.5\n", encoding="utf-8")
    # The commune's sync (what the daemon's feed thread runs) before the daemon starts, so that a loaded machine's
    # slow ingest does not eat the slot's lead; the requests wait in the spool, as play-now's would.
    result = sync_once(load_station(config))
    assert sorted(result.breakins) == sorted([storm.sha256, fire.sha256, meeting.sha256]), result
    recorder = Recorder(server, channels=1)
    daemon = DaemonProcess(config, env)
    try:
        # "at once": still inside the blackout, before the slot (a loaded machine's first break-in waits for the
        # daemon to import the loudness analysis, which can take tens of seconds at a load of 15)
        assert daemon.wait_for("Bão số 3", 120), daemon.text()
        assert daemon.wait_for("Cháy rừng", 20), daemon.text()
        assert daemon.wait_for("hop-dan.wav ACCEPTED", 60), daemon.text()
        # then the lessons end and the slot starts a few seconds from now, however long the daemon took to start;
        # the priority clip opens the slot (1.5 s), then its first item
        slot_start = slot_soon(config, slot_start, 20, daemon)
        time.sleep(max(0.0, (slot_start - now_in_zone()).total_seconds() + 5.0))
    finally:
        daemon.stop()
        heard = Heard(recorder)
    rows = log_rows(config, slot_start.date())
    by_sha = {r["sha256"]: r for r in rows if r["level"] in ("emergency", "priority")}

    aired = by_sha[storm.sha256]
    assert aired["level"] == "emergency" and aired["status"] in ("aired", "partial")
    assert "Bão số 3" in aired["reason"] and "cam-giang" in aired["reason"]
    # at once, inside the blackout the manifest overrode: heard whole before the slot, and logged as heard
    (storm_on, storm_off), = heard.spans(1000)
    assert storm_off < slot_start and storm_off - storm_on > timedelta(seconds=1.9)
    assert abs(asrun_time(aired["actual_start"]) - storm_on) < LOGGED_VS_HEARD
    assert fire.sha256 not in by_sha and not heard.spans(1200)  # no override: the commune's blackout held
    assert "REFUSED" in daemon.text()

    held = by_sha.get(meeting.sha256)
    assert held is not None, (rows, daemon.text())
    assert held["level"] == "priority" and "Họp dân" in held["reason"]
    # it opens the slot, ahead of its first item: heard from the slot's start (never before, never in the
    # blackout), then the first item; logged as heard
    (meeting_on, meeting_off), = heard.spans(1500)
    (first_on, _), = heard.spans(330)
    print(f"priority clip heard {ms(meeting_on - slot_start)} ms from the slot's start, logged "
          f"{ms(asrun_time(held['actual_start']) - meeting_on)} ms from heard; the first item "
          f"{ms(first_on - meeting_off)} ms after it")
    assert abs(meeting_on - slot_start) < ON_TIME and meeting_off - meeting_on > timedelta(seconds=1.4)
    assert timedelta(0) <= first_on - meeting_off < ON_TIME
    assert abs(asrun_time(held["actual_start"]) - meeting_on) < LOGGED_VS_HEARD

    send_results(load_station(config), flush=False)
    db = sqlite3.connect(tmp_path / "data" / "outbox.sqlite")
    receipts = [json.loads(b) for (b,) in db.execute("SELECT body FROM outbox WHERE kind = 'receipt'")]
    db.close()
    said = {(r["sha256"], r["status"]): r for r in receipts}
    assert said[(storm.sha256, "aired")]["aired_at"] == aired["actual_start"]
    assert said[(meeting.sha256, "aired")]["aired_at"] == held["actual_start"]
    assert "blackout" in said[(fire.sha256, "refused")]["reason"].lower() or \
        "cấm phát" in said[(fire.sha256, "refused")]["reason"]
