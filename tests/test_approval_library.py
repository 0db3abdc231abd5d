"""Approval state in the library: kept in the sidecar and the catalogue, survives a rebuild, defaults to approved
for catalogues made before it existed, and district-signed clips count as approved."""

from __future__ import annotations

import sqlite3

from broadcaster.bulletins.approval import DISTRICT_SIGNED, approvers_by_audio
from broadcaster.library.catalogue import Library
from broadcaster.model import Approval
from broadcaster.station.config import load_station
from tests.engine_audio import noise, write_wav


def library(tmp_path) -> Library:
    return Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio")


def test_pending_state_survives_a_rebuild_from_the_sidecars(tmp_path):
    lib = library(tmp_path)
    item = lib.ingest(write_wav(tmp_path / "a.wav", noise(1, 2.0)), category="loa",
                      approval=Approval.PENDING).item
    assert "approval: pending" in (tmp_path / "audio" / (item.file + ".meta.yaml")).read_text(encoding="utf-8")
    (tmp_path / "data" / "library.sqlite").unlink()
    lib.rebuild()
    assert lib.get(item.sha256).approval == Approval.PENDING


def test_catalogue_from_before_approval_reads_every_item_as_approved(tmp_path):
    lib = library(tmp_path)
    item = lib.ingest(write_wav(tmp_path / "a.wav", noise(1, 2.0)), category="loa").item
    with sqlite3.connect(tmp_path / "data" / "library.sqlite") as db:
        db.execute("ALTER TABLE items DROP COLUMN approval")  # the catalogue as older versions wrote it
    assert lib.get(item.sha256).approval == Approval.APPROVED
    assert lib.set_approval(item.sha256, Approval.REJECTED).approval == Approval.REJECTED
    assert lib.get(item.sha256).approval == Approval.REJECTED


def test_district_signed_clips_are_approved_and_named_as_such(tmp_path):
    (tmp_path / "config.yaml").write_text("station: {commune: Xã Thử, name: Đài xã Thử}\nslots: []\n",
                                          encoding="utf-8")
    station = load_station(tmp_path / "config.yaml")
    lib = Library(station.paths.catalogue, station.paths.audio)
    item = lib.ingest(write_wav(tmp_path / "a.wav", noise(1, 2.0)), category="bluezone", source="district:cam-giang",
                      ).item
    assert item.approval == Approval.APPROVED
    assert approvers_by_audio(station) == {item.sha256: DISTRICT_SIGNED}
