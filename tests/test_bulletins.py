"""Commune bulletins end to end with the real parts: espeak-ng speaks, pydub composes, the library ingests
(loudness, catalogue in SQLite), the bulletin store keeps the approval record, and the planner plans from disk."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date

import pytest

from broadcaster.bulletins.approval import Person, station_store
from broadcaster.bulletins.desk import (
    Draft,
    approve_bulletin,
    edit_bulletin,
    reject_bulletin,
    withdraw_bulletin,
    write_bulletin,
)
from broadcaster.bulletins.store import BulletinStatus
from broadcaster.cli import main
from broadcaster.library.catalogue import station_library
from broadcaster.planning.inputs import make_plans
from broadcaster.problems import BroadcasterError
from broadcaster.station.config import load_station
from broadcaster.station.playlists import Quota
from tests.fixtures_sound import pulse  # noqa: F401 (fixture)

DAY = date(2021, 2, 22)
LEADER = Person("Nguyễn Văn An")
CLERK = Person("Trần Thị Bình")

CONFIG = """station: {commune: Xã Thử, name: Đài xã Thử}
slots:
  - {id: sang, start: "05:30", end: "05:40", playlist: p}
audio: {station_copies: false}
approval:
  approvers: [Nguyễn Văn An]
  approver_roles: [lanh-dao]
bulletins: {pause_seconds: 0.3, rate: 220}
"""
PLAYLIST = "name: p\nsequence:\n  - category: thong-bao\ncategories:\n  thong-bao: {plays_per_day: 0-3}\n"
TEXT = "UBND xã thông báo: tiêm chủng lúc 7h30 ngày 23/02/2021.\n\nĐề nghị bà con đến đúng giờ."


@pytest.fixture
def station(tmp_path):
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "playlists").mkdir()
    (tmp_path / "playlists" / "p.yaml").write_text(PLAYLIST, encoding="utf-8")
    return load_station(tmp_path / "config.yaml")


def planned(station) -> tuple[list[str], list[str]]:
    _, (plan,) = make_plans(station.file, [DAY])
    return [i.sha256 for i in plan.items], [e.message for e in plan.exceptions if e.rule == "approval"]


def audio_files(station) -> list[str]:
    return sorted(p.name for p in station.paths.audio.rglob("*") if p.is_file())


def test_draft_is_never_planned_and_shows_as_waiting(station):
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    assert draft.status == BulletinStatus.DRAFT
    items, waiting = planned(station)
    assert draft.audio_sha256 not in items
    assert waiting == ["1 mục chờ duyệt / 1 items wait for approval: «Tiêm chủng»"]


@pytest.mark.parametrize("plays", [None, Quota(1, 1), Quota(2, 2)])
def test_approved_bulletin_is_planned_with_its_plays_per_day(station, tmp_path, plays):
    from tests.engine_audio import noise, write_wav

    (station.paths.playlists / "p.yaml").write_text(PLAYLIST.replace("thong-bao\n", "thong-bao\n  - nhac\n")
                                                    + "fill: nhac\n", encoding="utf-8")
    for seed in (1, 2, 3):  # songs between the repeats
        station_library(station).ingest(write_wav(tmp_path / f"nhac{seed}.wav", noise(seed, 40.0)), category="nhac")
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT, plays=plays), CLERK)
    approved = approve_bulletin(station, draft.id, LEADER, "Đồng ý")
    assert approved.status == BulletinStatus.APPROVED
    items, waiting = planned(station)
    assert items.count(draft.audio_sha256) == (plays.max if plays else 3) and waiting == []


def test_clip_is_speech_at_the_station_loudness_with_paragraph_pause(station):
    one = write_bulletin(station, Draft("Một đoạn", "Đề nghị bà con đến đúng giờ."), CLERK)
    two = write_bulletin(station, Draft("Hai đoạn", "Đề nghị bà con đến đúng giờ.\n\nĐề nghị bà con đến đúng giờ."),
                         CLERK)
    item = station_library(station).get(one.audio_sha256)
    assert item.file.startswith("thong-bao/") and item.source == "bulletin" and item.approval == "pending"
    # on target as played on the stereo output (mono counts 3 dB louder there), not held under it by its peaks
    assert item.loudness_lufs + 3.01 + item.gain_db == pytest.approx(station.audio.target_lufs, abs=0.3)
    # the second paragraph adds its speech plus the 0.3 s pause
    assert two.duration - 2 * one.duration == pytest.approx(0.3 - 0.6, abs=0.1)


def test_each_accent_is_its_own_voice(station):
    clips = {voice: write_bulletin(station, Draft(f"Giọng {voice}", "Bà con chú ý.", voice=voice), CLERK)
             for voice in ("north", "central", "south")}
    assert len({c.audio_sha256 for c in clips.values()}) == 3
    assert all(c.voice == voice and c.engine == "espeak-ng" for voice, c in clips.items())


def test_approval_record_holds_who_when_and_both_hashes_and_cannot_be_changed(station):
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    approve_bulletin(station, draft.id, Person("Lê Văn Cường", role="lanh-dao"))
    (record,) = station_store(station).records(bulletin_id=draft.id)
    assert (record.by, record.role, record.decision) == ("Lê Văn Cường", "lanh-dao", "approved")
    assert record.text_sha256 == hashlib.sha256(TEXT.encode()).hexdigest()
    audio = station.paths.audio / draft.audio_file
    assert record.audio_sha256 == hashlib.sha256(audio.read_bytes()).hexdigest()
    assert record.at.endswith("+07:00")  # the station's zone
    db = sqlite3.connect(station_store(station).path)
    for sql in ("UPDATE approvals SET by = 'x'", "DELETE FROM approvals"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
    db.close()


@pytest.mark.parametrize(("who", "bulletin_id", "vi", "en"), [
    (CLERK, 1, "không có quyền duyệt", "may not approve"),
    (Person("Trần Thị Bình", role="van-thu"), 1, "không có quyền duyệt", "may not approve"),
    (Person(""), 1, "chưa ghi ai duyệt", "who approves is not given"),
    (LEADER, 7, "không có thông báo số 7", "no bulletin 7"),
])
def test_approval_refused_clearly_and_nothing_changes(station, who, bulletin_id, vi, en):
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    with pytest.raises(BroadcasterError) as err:
        approve_bulletin(station, bulletin_id, who)
    assert vi in str(err.value) and en in str(err.value)
    assert station_store(station).get(draft.id).status == BulletinStatus.DRAFT
    assert station_store(station).records() == []
    assert station_library(station).get(draft.audio_sha256).approval == "pending"


def test_approving_twice_is_refused_naming_the_first_approval(station):
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    approve_bulletin(station, draft.id, LEADER)
    with pytest.raises(BroadcasterError) as err:
        approve_bulletin(station, draft.id, LEADER)
    assert "đang ở trạng thái 'approved'" in str(err.value)
    assert "already approved" in str(err.value) and "Nguyễn Văn An" in str(err.value)
    assert len(station_store(station).records()) == 1


def test_edit_keeps_the_approved_audio_airing_until_the_edit_is_approved(station):
    first = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    approve_bulletin(station, first.id, LEADER)
    edit = edit_bulletin(station, first.id, CLERK, text=TEXT.replace("7h30", "8h00"))
    assert edit.status == BulletinStatus.DRAFT and edit.replaces == first.id
    items, waiting = planned(station)
    assert first.audio_sha256 in items and edit.audio_sha256 not in items and len(waiting) == 1
    approve_bulletin(station, edit.id, LEADER)
    items, waiting = planned(station)
    assert edit.audio_sha256 in items and first.audio_sha256 not in items and waiting == []
    assert station_store(station).get(first.id).status == BulletinStatus.REPLACED
    assert station_library(station).get(first.audio_sha256) is None  # retired to audio/.retired
    assert (station.paths.audio / ".retired" / first.audio_file).exists()


def test_reject_needs_a_reason_and_takes_the_audio_out(station):
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    with pytest.raises(BroadcasterError, match="a rejection needs a reason"):
        reject_bulletin(station, draft.id, LEADER, " ")
    rejected = reject_bulletin(station, draft.id, LEADER, "Sai giờ tiêm")
    assert rejected.status == BulletinStatus.REJECTED
    assert station_library(station).get(draft.audio_sha256) is None
    assert planned(station) == ([], [])
    (record,) = station_store(station).records(bulletin_id=draft.id)
    assert (record.decision, record.comment) == ("rejected", "Sai giờ tiêm")


def test_withdrawn_bulletin_stops_airing_and_is_recorded(station):
    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    approve_bulletin(station, draft.id, LEADER)
    withdraw_bulletin(station, draft.id, CLERK, "Đã tiêm xong")
    assert planned(station) == ([], [])
    assert [r.decision for r in station_store(station).records(bulletin_id=draft.id)] == ["approved", "withdrawn"]
    with pytest.raises(BroadcasterError, match="nothing to withdraw"):
        withdraw_bulletin(station, draft.id, CLERK)


def test_emergency_written_and_approved_in_one_step_only_by_an_approver(station):
    with pytest.raises(BroadcasterError, match="may not approve"):
        write_bulletin(station, Draft("Cháy", "Cháy ở thôn Đông.", emergency=True), CLERK, approve=True)
    assert audio_files(station) == [] and station_store(station).bulletins() == []
    urgent = write_bulletin(station, Draft("Cháy", "Cháy ở thôn Đông.", emergency=True), LEADER, approve=True)
    assert urgent.status == BulletinStatus.APPROVED and urgent.emergency
    assert station_library(station).get(urgent.audio_sha256).priority == "emergency"
    (record,) = station_store(station).records(bulletin_id=urgent.id)
    assert record.emergency and record.by == "Nguyễn Văn An"


@pytest.mark.parametrize(("draft", "vi", "en"), [
    (Draft("Trống", ""), "trống", "empty"),
    (Draft("Dài", "Bà con chú ý. " * 500), "quá giới hạn", "over the limit"),
    (Draft("Biểu tượng", "Chào bà con 😀"), "không đọc được", "cannot say"),
    (Draft("Chữ Hán", "Thông báo 通知"), "không đọc được", "cannot say"),
    (Draft("Giọng lạ", "Bà con chú ý.", voice="hanoi"), "giọng đọc không biết", "unknown voice"),
    (Draft("", "Bà con chú ý."), "thiếu tiêu đề", "no title"),
])
def test_bad_input_is_refused_and_leaves_nothing_behind(station, draft, vi, en):
    with pytest.raises(BroadcasterError) as err:
        write_bulletin(station, draft, CLERK)
    assert vi in str(err.value) and en in str(err.value)
    assert audio_files(station) == []
    assert station_store(station).bulletins() == []
    assert not [p for p in station.paths.state.glob(".bulletin-*")]


def test_piper_chosen_but_not_installed_is_a_clear_error(station):
    # Piper and its voice models are not on this machine (model hubs are out of reach): only the refusal runs here.
    config = station.file.read_text(encoding="utf-8").replace("bulletins: {", "bulletins: {engine: piper, ")
    station.file.write_text(config, encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        write_bulletin(load_station(station.file), Draft("Tiêm chủng", TEXT), CLERK)
    assert "piper" in str(err.value) and "espeak-ng" in str(err.value)


def test_opening_and_closing_chime_from_the_library(station, tmp_path):
    import numpy as np
    from pydub import AudioSegment

    tone = (0.3 * np.sin(2 * np.pi * 880 * np.arange(22050) / 22050) * 32767).astype(np.int16)
    chime = tmp_path / "chuong.wav"
    AudioSegment(tone.tobytes(), frame_rate=22050, sample_width=2, channels=1).export(chime, format="wav")
    plain = write_bulletin(station, Draft("Không chuông", "Bà con chú ý."), CLERK)
    config = station.file.read_text(encoding="utf-8").replace(
        "bulletins: {", f"bulletins: {{opening_chime: {chime}, closing_chime: {chime}, ")
    station.file.write_text(config, encoding="utf-8")
    chimed = write_bulletin(load_station(station.file), Draft("Có chuông", "Bà con chú ý."), CLERK)
    assert chimed.duration == pytest.approx(plain.duration + 2 * (1.0 + 0.3), abs=0.05)  # chime + pause, twice


def test_ingest_by_a_non_approver_waits_and_an_approvers_ingest_is_recorded(station, tmp_path, capsys):
    from tests.engine_audio import noise, write_wav

    config = str(station.file)
    clip = write_wav(tmp_path / "in" / "loa.wav", noise(1, 3.0))
    other = write_wav(tmp_path / "in" / "loa2.wav", noise(2, 3.0))
    assert main(["ingest", str(clip), "--category", "thong-bao", "--by", "Trần Thị Bình", "--config", config]) == 0
    assert "1 items wait for approval" in capsys.readouterr().out
    assert main(["ingest", str(other), "--category", "thong-bao", "--by", "Nguyễn Văn An", "--config", config]) == 0
    items = {i.title: i for i in station_library(station).items()}
    assert (items["loa"].approval, items["loa2"].approval) == ("pending", "approved")
    (record,) = station_store(station).records()
    assert (record.by, record.kind, record.audio_sha256, record.text_sha256) == (
        "Nguyễn Văn An", "local", items["loa2"].sha256, None)
    found, waiting = planned(station)
    assert items["loa2"].sha256 in found and items["loa"].sha256 not in found and len(waiting) == 1
    assert main(["library", "approve", items["loa"].file, "--by", "Trần Thị Bình", "--config", config]) == 2
    assert "may not approve" in capsys.readouterr().err
    assert main(["library", "approve", items["loa"].file, "--by", "Nguyễn Văn An", "--config", config]) == 0
    found, waiting = planned(station)
    assert items["loa"].sha256 in found and waiting == []


def test_cli_new_approve_list_show(station, tmp_path, capsys):
    text = tmp_path / "tb.txt"
    text.write_text(TEXT, encoding="utf-8")
    config = str(station.file)
    assert main(["bulletin", "new", "--title", "Tiêm chủng", "--text-file", str(text), "--voice", "south",
                 "--plays-per-day", "1-2", "--valid-from", "2021-02-20", "--by", "Trần Thị Bình",
                 "--config", config]) == 0
    assert "Chờ duyệt / draft" in capsys.readouterr().out
    assert main(["bulletin", "approve", "1", "--by", "Nguyễn Văn An", "--comment", "Đồng ý", "--config", config]) == 0
    assert main(["bulletin", "approve", "1", "--by", "Nguyễn Văn An", "--config", config]) == 2
    assert "already approved" in capsys.readouterr().err
    assert main(["bulletin", "list", "--config", config]) == 0
    assert "Đã duyệt" in capsys.readouterr().out
    assert main(["bulletin", "show", "1", "--config", config]) == 0
    shown = capsys.readouterr().out
    assert "bảy giờ ba mươi ngày hai mươi ba tháng hai" in shown and "Đồng ý" in shown and "south" in shown
    assert main(["bulletin", "new", "--title", "X", "--text-file", str(tmp_path / "none.txt"),
                 "--config", config]) == 2
    assert "does not exist" in capsys.readouterr().err
    text.write_text(TEXT.replace("7h30", "8h00"), encoding="utf-8")
    assert main(["bulletin", "edit", "1", "--text-file", str(text), "--by", "Trần Thị Bình", "--config", config]) == 0
    assert "edits #1; the old one airs until this one is approved" in capsys.readouterr().out
    assert main(["bulletin", "new", "--title", "Nhanh", "--text-file", str(text), "--rate", "900",
                 "--config", config]) == 2
    assert "80-450" in capsys.readouterr().err


def test_logbook_names_the_approver_and_the_report_lists_aired_bulletins(station, tmp_path, capsys):
    import json
    import subprocess

    from openpyxl import load_workbook

    from broadcaster.commands.simulate import simulate_plans

    draft = write_bulletin(station, Draft("Tiêm chủng", TEXT, plays=Quota(1, 1)), CLERK)
    approve_bulletin(station, draft.id, LEADER)
    _, plans = make_plans(station.file, [DAY])
    simulate_plans(station, plans, tmp_path / "sim", audio=False)  # the real engine on a simulated clock
    log, config = str(tmp_path / "sim" / "asrun.sqlite"), str(station.file)

    book = tmp_path / "so.xlsx"
    assert main(["logbook", "--week", "2021-W08", "--format", "xlsx", "--out", str(book), "--log", log,
                 "--config", config]) == 0
    rows = list(load_workbook(book).active.iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "Ngày")
    (aired,) = [r for r in rows if r[7] == "Tiêm chủng"]
    assert aired[header.index("Người duyệt")] == "Nguyễn Văn An"

    report = tmp_path / "bc.json"
    assert main(["report", "--from", "2021-02-22", "--to", "2021-02-22", "--format", "json", "--out", str(report),
                 "--log", log, "--config", config]) == 0
    (listed,) = json.loads(report.read_text(encoding="utf-8"))["bulletins"]
    assert (listed["id"], listed["plays"], listed["approved_by"]) == (draft.id, 1, "Nguyễn Văn An")
    assert listed["first_aired"].startswith("2021-02-22 05:3")

    pdf = tmp_path / "bc.pdf"
    assert main(["report", "--from", "2021-02-22", "--to", "2021-02-22", "--format", "pdf", "--out", str(pdf),
                 "--log", log, "--config", config]) == 0
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    appendix = " ".join(text[text.index("PHỤ LỤC: THÔNG BÁO CỦA XÃ ĐÃ PHÁT VÀ NGƯỜI DUYỆT"):].split())
    assert "Tiêm chủng" in appendix and "Nguyễn Văn An" in appendix and "22/02/2021 05:3" in appendix


def test_a_second_edit_replaces_the_first_waiting_one_and_a_failed_edit_changes_nothing(station):
    first = write_bulletin(station, Draft("Tiêm chủng", TEXT), CLERK)
    approve_bulletin(station, first.id, LEADER)
    one = edit_bulletin(station, first.id, CLERK, text=TEXT.replace("7h30", "8h00"))
    with pytest.raises(BroadcasterError, match="cannot say"):
        edit_bulletin(station, first.id, CLERK, text="Giờ mới 😀")
    assert station_store(station).get(one.id).status == BulletinStatus.DRAFT
    two = edit_bulletin(station, first.id, CLERK, text=TEXT.replace("7h30", "9h00"))
    assert station_store(station).get(one.id).status == BulletinStatus.REPLACED
    assert station_library(station).get(one.audio_sha256) is None
    items, waiting = planned(station)
    assert first.audio_sha256 in items and waiting == ["1 mục chờ duyệt / 1 items wait for approval: «Tiêm chủng»"]
    assert two.replaces == first.id


def test_emergency_air_now_breaks_in_on_the_sound_card_and_is_logged(station, tmp_path, capsys, pulse):
    # No daemon runs: play-now's own path plays it on the configured device (the private PulseAudio null sink).
    from broadcaster.asrun.log import AsRunLog

    text = tmp_path / "chay.txt"
    text.write_text("Cháy ở thôn Đông.", encoding="utf-8")
    config = str(station.file)
    assert main(["bulletin", "new", "--title", "Cháy", "--text-file", str(text), "--air-now", "--by",
                 "Nguyễn Văn An", "--config", config]) == 2
    assert "--air-now needs --emergency --approve" in capsys.readouterr().err
    assert main(["bulletin", "new", "--title", "Cháy", "--text-file", str(text), "--emergency", "--approve",
                 "--air-now", "--by", "Nguyễn Văn An", "--config", config]) == 0
    assert "aired" in capsys.readouterr().out
    with AsRunLog(station.paths.asrun_log) as log:
        (row,) = log.entries()
    assert (row.level, row.status) == ("emergency", "aired") and "Nguyễn Văn An" in row.reason


def test_validate_names_the_line_of_a_bad_approval_setting_and_warns_of_a_missing_chime(station, capsys):
    config = station.file.read_text(encoding="utf-8").replace(
        "  approver_roles: [lanh-dao]\n", "  approver_roles: [lanh-dao]\n  required_for: [bulletin, radio]\n")
    station.file.write_text(config.replace("bulletins: {", "bulletins: {opening_chime: chuong/khong-co.wav, "),
                            encoding="utf-8")
    assert main(["validate", "--config", str(station.file)]) == 2
    out = capsys.readouterr().out
    assert "config.yaml:8 [approval.required_for]" in out and "unknown content kind 'radio'" in out
    assert "[bulletins.opening_chime]" in out and "no chime file" in out
