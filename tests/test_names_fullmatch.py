"""Names that become folders or keys are checked whole (fullmatch): with `$`, "bluezone\\n" passed the check
and a signed clip made the folder `audio/bluezone\\n/`."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broadcaster.feed import publish, signing
from broadcaster.feed.manifest import Manifest, open_envelope, seal, utc_iso
from broadcaster.feed.sync import sync_once
from broadcaster.library.catalogue import Library
from broadcaster.problems import BroadcasterError
from tests.fixtures_feed import district, feed_server, make_audio, make_station, snapshot  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def test_a_signed_clip_whose_category_ends_in_a_newline_is_refused_and_makes_no_folder(tmp_path, district,
                                                                                        feed_server):
    district.publish(make_audio(tmp_path / "src" / "first.mp3"))
    station = make_station(tmp_path / "xa-a", feed={"url": feed_server.url, "public_key": str(district.pub),
                                                    "district": "cam-giang"})
    assert sync_once(station).sources[0].status == "accepted"
    _, second = district.publish(make_audio(tmp_path / "src" / "second.mp3", freq=660))
    signed = open_envelope((district.feed / "manifest.json").read_bytes(), signing.load_public(district.pub),
                           "x").manifest
    now = datetime.now(UTC)
    evil = Manifest(signed.district, signed.version + 1, utc_iso(now), utc_iso(now + timedelta(days=7)),
                    tuple(replace(c, category="bluezone\n") if c.sha256 == second.sha256 else c
                          for c in signed.clips))
    (district.feed / "manifest.json").write_bytes(seal(evil, signing.load_private(district.key)))  # the real key
    before = snapshot(station)
    source = sync_once(station).sources[0]
    assert (source.status, source.code) == ("rejected", "malformed"), source
    assert "category" in source.message
    assert snapshot(station) == before
    assert [p.name for p in station.paths.audio.iterdir() if "\n" in p.name] == []


@pytest.mark.parametrize("field, value", [("category", "bluezone\n"), ("district", "cam-giang\n")])
def test_publish_refuses_a_name_ending_in_a_newline(tmp_path, district, field, value):
    audio = make_audio(tmp_path / "src" / "clip.mp3")
    kwargs = {"category": "bluezone", "title": "t", "district": "cam-giang", field: value}
    with pytest.raises(BroadcasterError):
        publish.publish(district.feed, district.key, audio, **kwargs)
    assert not (district.feed / "manifest.json").exists()


def test_ingest_refuses_a_category_ending_in_a_newline_and_writes_nothing(tmp_path):
    library = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio")
    with pytest.raises(BroadcasterError) as err:
        library.ingest(make_audio(tmp_path / "clip.mp3"), category="bluezone\n")
    assert "invalid category 'bluezone\\n'" in err.value.problems[0].message_en
    assert not (tmp_path / "audio").exists() or list((tmp_path / "audio").iterdir()) == []


def test_a_topic_slug_ending_in_a_newline_is_refused_in_config(tmp_path):
    from broadcaster.station.config import load_station

    path = tmp_path / "config.yaml"
    path.write_text('station: {commune: A, name: A}\nslots: []\ntopics:\n  "bluezone\\n": Bluezone\n',
                    encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        load_station(path)
    assert any(p.line == 4 for p in err.value.problems), [str(p) for p in err.value.problems]


def test_no_name_check_in_broadcaster_uses_match_or_a_dollar_anchor():
    """A pattern checked with .match or ending in `$` accepts a trailing newline; fullmatch does not."""
    found = []
    for path in sorted((ROOT / "broadcaster").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "match":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .match()")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "compile"
                    and node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).endswith("$")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} pattern ending in $")
    assert found == []
