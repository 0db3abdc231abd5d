"""Approval state in the library: kept in the sidecar and the catalogue, survives a rebuild, defaults to approved
for catalogues made before it existed, and district-signed clips count as approved."""

from __future__ import annotations

import sqlite3

from broadcaster.bulletins.approval import DISTRICT_SIGNED, approvers_by_audio
from broadcaster.library.catalogue import Library
from broadcaster.model import Approval
from broadcaster.station.config import load_station
from tests.support.audio import noise, write_wav


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


def test_a_file_dropped_in_by_hand_arrives_pending_at_a_rebuild_where_local_content_needs_approval(tmp_path):
    lib = library(tmp_path)
    approved = lib.ingest(write_wav(tmp_path / "a.wav", noise(1, 2.0)), category="loa").item  # has a sidecar
    pending = lib.ingest(write_wav(tmp_path / "b.wav", noise(2, 2.0)), category="loa", approval=Approval.PENDING).item
    dropped = write_wav(tmp_path / "audio" / "loa" / "chep-tay.wav", noise(3, 2.0))  # copied in by hand
    lib.rebuild(arriving=Approval.PENDING)
    by_file = {i.file: i.approval for i in lib.items()}
    assert by_file == {approved.file: Approval.APPROVED, pending.file: Approval.PENDING,
                       "loa/chep-tay.wav": Approval.PENDING}
    lib.set_approval(lib.by_file("loa/chep-tay.wav").sha256, Approval.APPROVED)
    lib.rebuild(arriving=Approval.PENDING)  # known now: its approval stays
    assert lib.by_file("loa/chep-tay.wav").approval == Approval.APPROVED
    assert dropped.is_file()


def test_library_rebuild_from_the_command_line_follows_the_stations_approval_rules(tmp_path, capsys):
    from broadcaster.cli import main

    for required, expected in (("[bulletin, local]", Approval.PENDING), ("[bulletin]", Approval.APPROVED)):
        folder = tmp_path / required.strip("[]").replace(", ", "-")
        (folder / "config.yaml").parent.mkdir(parents=True)
        (folder / "config.yaml").write_text("station: {commune: Xã Thử, name: Đài xã Thử}\nslots: []\n"
                                            f"approval: {{required_for: {required}, approvers: [chu-tich]}}\n",
                                            encoding="utf-8")
        write_wav(folder / "audio" / "loa" / "chep-tay.wav", noise(3, 2.0))
        assert main(["library", "rebuild", "--config", str(folder / "config.yaml")]) == 0
        station = load_station(folder / "config.yaml")
        [item] = Library(station.paths.catalogue, station.paths.audio).items()
        assert item.approval == expected, required
