"""Malformed JSON, cross-feed replay, expiry values and revokes across a key rotation (issue 11, items 11, 12, 13,
15). Real keys, real HTTP on loopback, real audio; every attack is refused with the library, the accepted
versions and the clip rules unchanged."""

from __future__ import annotations

import json
import math
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from broadcaster.cli import main as cli
from broadcaster.feed import publish, signing
from broadcaster.feed.library_access import open_library
from broadcaster.feed.manifest import ENVELOPE_FORMAT, Manifest, Revocation, seal, utc_iso
from broadcaster.feed.settings import feed_settings
from broadcaster.feed.state import district_rules
from broadcaster.feed.sync import sync_once
from broadcaster.problems import BroadcasterError
from tests.fixtures_feed import district, feed_server, make_audio, make_station, snapshot  # noqa: F401


@pytest.fixture
def synced(tmp_path, district, feed_server):
    _, clip = district.publish(make_audio(tmp_path / "src" / "first.mp3"))
    station = make_station(tmp_path / "xa-a", feed={"url": feed_server.url, "public_key": str(district.pub)})
    assert sync_once(station).added == [clip.sha256]
    station.first_clip = clip.sha256
    return station


def refused(station, code: str):
    before = snapshot(station)
    source = sync_once(station).sources[0]
    assert (source.status, source.code) == ("rejected", code), source
    assert " / " in source.message  # Vietnamese / English
    assert snapshot(station) == before
    return source


# ---- item 11: malformed JSON ----------------------------------------------------------------------------------


def test_deeply_nested_json_is_refused_without_recursion_error(district, synced):
    (district.feed / "manifest.json").write_bytes(b"[" * 200_000)
    source = refused(synced, "not-json")
    assert "nested deeper" in source.message and len(source.message) < 600


def test_deeply_nested_json_on_a_usb_stick_is_refused_too(district, synced):
    stick = synced.paths.inbox / "usb"
    stick.mkdir(parents=True)
    (stick / "manifest.json").write_bytes(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    result = sync_once(synced)
    usb = next(s for s in result.sources if s.source.endswith("usb"))
    assert (usb.status, usb.code) == ("rejected", "not-json") and len(usb.message) < 600


def test_huge_unsigned_envelope_is_refused_before_parsing(district, synced):
    ids = [{"keyid": f"{n:016x}", "alg": "ed25519", "sig": "AAAA"} for n in range(400_000)]
    data = json.dumps({"format": ENVELOPE_FORMAT, "signed": "{}", "signatures": ids}).encode()
    assert len(data) > 16 * 2**20
    (district.feed / "manifest.json").write_bytes(data)
    tracemalloc.start()
    try:
        source = refused(synced, "oversized")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, peak  # read no further than the cap; never parsed
    assert len(source.message) < 600


def test_many_foreign_key_ids_give_a_short_message(district, synced):
    ids = [{"keyid": f"{n:016x}", "alg": "ed25519", "sig": "AAAA"} for n in range(12)]
    (district.feed / "manifest.json").write_bytes(json.dumps({"format": ENVELOPE_FORMAT, "signed": "{}",
                                                              "signatures": ids}).encode())
    source = refused(synced, "wrong-key")
    assert "0000000000000003" not in source.message and len(source.message) < 600  # 3 ids shown, not all 12
    ids *= 100
    (district.feed / "manifest.json").write_bytes(json.dumps({"format": ENVELOPE_FORMAT, "signed": "{}",
                                                              "signatures": ids}).encode())
    assert "too many signatures" in refused(synced, "malformed").message


# ---- item 12: cross-feed replay ------------------------------------------------------------------------------


def test_district_id_is_required(tmp_path, district):
    station = make_station(tmp_path / "xa-a", feed={"url": "http://x/", "public_key": str(district.pub),
                                                    "district": "''"})
    with pytest.raises(BroadcasterError) as err:
        feed_settings(station)
    assert "feed.district" in {p.field for p in err.value.problems}


def test_another_districts_manifest_under_the_same_key_is_refused_and_the_genuine_one_still_accepted(
        tmp_path, district, synced):
    genuine = (district.feed / "manifest.json").read_bytes()
    now = datetime.now(UTC)
    other = Manifest("binh-giang", 50, utc_iso(now), utc_iso(now + timedelta(days=7)))  # same key, other district
    (district.feed / "manifest.json").write_bytes(seal(other, signing.load_private(district.key)))
    assert "binh-giang" in refused(synced, "wrong-district").message
    assert open_library(synced).get(synced.first_clip) is not None  # the genuine clip was not retired
    (district.feed / "manifest.json").write_bytes(genuine)
    _, second = district.publish(make_audio(tmp_path / "src" / "b.mp3", freq=660))
    result = sync_once(synced)
    assert result.ok and result.added == [second.sha256]  # v2 is no "rollback" from binh-giang's 50


# ---- item 13: expiry values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [36500, -1, 0, math.nan, math.inf, 3650000, 30.5])
def test_district_refuses_lifetimes_outside_0_to_30_days(tmp_path, district, days):
    audio = make_audio(tmp_path / "src" / "a.mp3")
    with pytest.raises(BroadcasterError) as err:
        district.publish(audio, expires_days=days)
    assert err.value.problems[0].file == "--expires-days" and "30" in err.value.problems[0].message_en
    assert not (district.feed / "manifest.json").exists()


def test_cli_refresh_with_nan_is_a_message_not_a_traceback(tmp_path, district, capsys):
    district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    before = (district.feed / "manifest.json").read_bytes()
    for days in ("nan", "inf", "-1", "3650000"):
        code = cli(["district", "refresh", "--feed", str(district.feed), "--key", str(district.key),
                    "--expires-days", days])
        err = capsys.readouterr().err
        assert code == 2 and "--expires-days" in err and "Traceback" not in err
    assert (district.feed / "manifest.json").read_bytes() == before


def test_commune_caps_the_lifetime_it_accepts(tmp_path, district, feed_server):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    now = datetime.now(UTC)
    current = publish.current(district.feed, signing.load_private(district.key))
    long_lived = Manifest("cam-giang", current.version + 1, utc_iso(now), utc_iso(now + timedelta(days=365)),
                          current.clips)
    (district.feed / "manifest.json").write_bytes(seal(long_lived, signing.load_private(district.key)))
    station = make_station(tmp_path / "xa-a", feed={"url": feed_server.url, "public_key": str(district.pub)})
    assert "max_expires_days" in refused(station, "too-long").message
    generous = make_station(tmp_path / "xa-b", station_id="xa-b", feed={
        "url": feed_server.url, "public_key": str(district.pub), "max_expires_days": 366})
    assert sync_once(generous).added == [clip.sha256]  # the cap is the commune's own setting


def test_district_recovers_after_signing_an_expired_manifest(tmp_path, district, synced):
    private = signing.load_private(district.key)
    current = publish.current(district.feed, private)
    now = datetime.now(UTC)
    expired = Manifest("cam-giang", current.version + 1, utc_iso(now), utc_iso(now - timedelta(days=1)),
                       current.clips)  # what `refresh --expires-days -1` used to sign
    (district.feed / "manifest.json").write_bytes(seal(expired, private))
    refused(synced, "malformed")
    manifest, _ = publish.revoke(district.feed, district.key, synced.first_clip)  # the district can still act
    assert manifest.version == current.version + 2
    result = sync_once(synced)
    assert result.ok and result.sources[0].withdrawn == [synced.first_clip]


# ---- item 15: revokes across a key rotation ------------------------------------------------------------------


def test_revoke_signed_by_a_new_key_withdraws_a_clip_taken_under_the_old_one(tmp_path, district, synced):
    assert district_rules(synced)
    new_private, new_public = signing.generate(tmp_path / "new-keys")
    config = synced.file
    config.write_text(config.read_text(encoding="utf-8").replace(str(district.pub), str(new_public)),
                      encoding="utf-8")
    from broadcaster.station.config import load_station

    rotated = load_station(config)
    now = datetime.now(UTC)
    revocation = Manifest("cam-giang", 1, utc_iso(now), utc_iso(now + timedelta(days=7)), (),
                          (Revocation(synced.first_clip, utc_iso(now), "first"),))
    (district.feed / "manifest.json").write_bytes(seal(revocation, signing.load_private(new_private)))
    result = sync_once(rotated)
    assert result.ok and result.sources[0].withdrawn == [synced.first_clip]
    assert open_library(rotated).get(synced.first_clip) is None  # out of the library
    assert district_rules(rotated) == []  # and its quota with it
