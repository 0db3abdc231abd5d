"""An offline root key certifying the online signing key (issue 11, item 14), with TUF's root semantics, and TUF's
attack list against it: arbitrary installation, fast-forward, indefinite freeze, key compromise followed by
rotation, root rotation. (Rollback, mix-and-match, endless data and slow retrieval are in test_feed_attacks,
test_feed_trust and test_feed_network.) Real keys, a real HTTP server on loopback, real audio."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from broadcaster.cli import main as cli
from broadcaster.feed import publish, signing
from broadcaster.feed import root as roots
from broadcaster.feed.library_access import open_library
from broadcaster.feed.manifest import Clip, Manifest, seal, utc_iso
from broadcaster.feed.sync import sync_once
from tests.support.feed import make_audio, make_station, snapshot


@pytest.fixture
def rooted(tmp_path, district, feed_server):
    """A district whose offline root key (on a 'USB stick') certifies its online key; a commune pinning the root
    key and holding the first clip."""
    stick = tmp_path / "usb-stick"
    root_key, root_pub = signing.generate(stick)
    assert cli(["district", "root", "init", "--feed", str(district.feed), "--root-key", str(root_key),
                "--online-key", str(district.pub), "--district", "cam-giang"]) == 0
    _, clip = district.publish(make_audio(tmp_path / "src" / "first.mp3"))
    station = make_station(tmp_path / "xa-a", feed={"url": feed_server.url, "public_key": str(root_pub)})
    assert sync_once(station).added == [clip.sha256]
    return station, root_key, clip


def source_of(station):
    return sync_once(station).sources[0]


def test_manifest_signed_by_the_online_key_the_root_certifies_is_taken(rooted):
    station, _, clip = rooted
    assert open_library(station).get(clip.sha256) is not None


def test_arbitrary_installation_with_a_key_the_root_does_not_name_is_refused(tmp_path, district, rooted):
    station, _, _ = rooted
    intruder, _ = signing.generate(tmp_path / "intruder")
    now = datetime.now(UTC)
    current = publish.current(district.feed, signing.load_private(district.key))
    forged = Manifest("cam-giang", current.version + 1, utc_iso(now), utc_iso(now + timedelta(days=7)),
                      current.clips + (Clip("b" * 64, 10, f"clips/{'b' * 64}.mp3", "x", "forged"),))
    (district.feed / "manifest.json").write_bytes(seal(forged, signing.load_private(intruder)))
    before = snapshot(station)
    source = source_of(station)
    assert (source.status, source.code) == ("rejected", "wrong-key") and snapshot(station) == before


def test_key_compromise_then_rotation_recovers_from_fast_forward_without_visiting_communes(
        tmp_path, district, rooted):
    station, root_key, clip = rooted
    stolen = signing.load_private(district.key)
    now = datetime.now(UTC)
    current = publish.current(district.feed, stolen)
    # The thief signs version 1,000,000 (no clips: everything withdrawn) and gets it to the commune by USB.
    evil = Manifest("cam-giang", 1_000_000, utc_iso(now), utc_iso(now + timedelta(days=7)))
    usb = station.paths.inbox / "usb"
    shutil.copytree(district.feed, usb)
    (usb / "manifest.json").write_bytes(seal(evil, stolen))
    assert sync_once(station, http=False).sources[0].version == 1_000_000  # valid until rotated
    shutil.rmtree(usb)

    # The district rotates from its offline stick: a new online key; the stolen one is no longer named.
    new_key, new_pub = signing.generate(tmp_path / "new-online")
    assert cli(["district", "root", "rotate", "--feed", str(district.feed), "--root-key", str(root_key),
                "--online-key", str(new_pub)]) == 0
    manifest, again = publish.publish(district.feed, new_key, make_audio(tmp_path / "src" / "first.mp3"),
                                      category="bluezone", title="first", district="cam-giang")
    assert manifest.version == current.version + 1  # far below the thief's 1,000,000

    result = sync_once(station)  # no one visited the commune: the root chain told it
    assert result.ok and result.sources[0].version == manifest.version, result
    assert open_library(station).get(clip.sha256) is not None

    evil2 = Manifest("cam-giang", 2_000_000, utc_iso(now), utc_iso(now + timedelta(days=7)))
    (district.feed / "manifest.json").write_bytes(seal(evil2, stolen))
    source = source_of(station)
    assert (source.status, source.code) == ("rejected", "wrong-key")  # the stolen key is revoked


def test_root_rotation_new_root_signed_by_old_then_old_root_alone_is_refused(tmp_path, district, rooted):
    station, old_root, _ = rooted
    new_root, _ = signing.generate(tmp_path / "new-stick")
    assert cli(["district", "root", "rotate", "--feed", str(district.feed), "--root-key", str(old_root),
                "--new-root-key", str(new_root)]) == 0
    assert sync_once(station).ok
    # Root 3 signed by the old root key alone (say it was stolen later): not enough any more.
    latest = roots.load_trusted((district.feed / "root" / "2.root.json").read_bytes(), "test")
    bad = roots.new_root("cam-giang", 3, [signing.load_private(old_root).public_key()],
                         list(latest.online.keys.values()), 30)
    (district.feed / "root" / "3.root.json").write_bytes(roots.seal_root(bad, [signing.load_private(old_root)]))
    before = snapshot(station)
    source = source_of(station)
    assert (source.status, source.code) == ("rejected", "wrong-key") and snapshot(station) == before
    # The same root signed by the new root key (and the old one, whose key it names) is taken.
    (district.feed / "root" / "3.root.json").write_bytes(roots.seal_root(
        bad, [signing.load_private(new_root), signing.load_private(old_root)]))
    assert sync_once(station).ok


def test_indefinite_freeze_an_expired_root_is_refused(tmp_path, district, rooted):
    station, root_key, _ = rooted
    latest = roots.load_trusted((district.feed / "root" / "1.root.json").read_bytes(), "test")
    stale = roots.new_root("cam-giang", 2, [signing.load_private(root_key).public_key()],
                           list(latest.online.keys.values()), 1, now=datetime.now(UTC) - timedelta(days=2))
    (district.feed / "root" / "2.root.json").write_bytes(roots.seal_root(stale, [signing.load_private(root_key)]))
    source = source_of(station)
    assert (source.status, source.code) == ("rejected", "expired") and "root" in source.message


def test_a_commune_that_trusts_a_root_never_falls_back_to_the_plain_pinned_key(tmp_path, district, rooted):
    station, root_key, _ = rooted
    shutil.rmtree(district.feed / "root")  # an attacker hides the roots and signs with the root key itself?
    now = datetime.now(UTC)
    plain = Manifest("cam-giang", 99, utc_iso(now), utc_iso(now + timedelta(days=7)))
    (district.feed / "manifest.json").write_bytes(seal(plain, signing.load_private(root_key)))
    source = source_of(station)
    assert (source.status, source.code) == ("rejected", "wrong-key")  # the trusted root says: online keys only


def test_root_lifetime_is_bounded(tmp_path, district, capsys):
    key, _ = signing.generate(tmp_path / "stick")
    code = cli(["district", "root", "init", "--feed", str(district.feed), "--root-key", str(key), "--online-key",
                str(district.pub), "--district", "cam-giang", "--expires-days", "100000"])
    assert code == 2 and "731" in capsys.readouterr().err
