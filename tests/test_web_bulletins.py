"""Bulletins in the console, in a real browser against `python main.py web`: an operator writes one (espeak-ng
reads it, the same desk functions as `python main.py bulletin new`), it waits as a draft the plan does not air,
an approver approves it and tomorrow's plan airs it; roles that may not decide get 403; bad text is told next to
its field and nothing is made."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.daemon import tone
from tests.support.web import csrf, login, needs_chromium, screenshot, start_console, stop_console

pytestmark = needs_chromium
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE = "Lịch tiêm chủng thôn Đông"
TEXT = "UBND xã thông báo: ngày 17/02/2021 tiêm chủng tại nhà văn hóa thôn Đông, từ 7h30.\n\nMang theo CCCD."


@pytest.fixture(scope="module")
def desk_console(console):
    """The module's console, its library given the opening chime config.yaml names (audio/chuong/
    chuong-thong-bao.wav); the desk reads the chime when it writes a bulletin."""
    from broadcaster.library.catalogue import Library

    folder = console.config.parent
    (folder / "src").mkdir(exist_ok=True)
    chime = Library(folder / "data" / "library.sqlite", folder / "audio").ingest(
        tone(folder / "src" / "chuong.wav", 990, 1.0), category="chuong", title="Chuông thông báo")
    assert chime.item.file == "chuong/chuong-thong-bao.wav"
    return console


def _store(console):
    from broadcaster.bulletins.store import BulletinStore

    return BulletinStore(console.config.parent / "data" / "bulletins.sqlite")


def _tomorrow() -> str:
    return str(datetime.now(ZONE).date() + timedelta(days=1))


def _plan_titles(page) -> list[str]:
    page.goto(f"/plan/?date={_tomorrow()}")
    return [r.split("\t")[4] for r in page.locator("table.items tr").all_inner_texts()[1:]]


def test_operator_writes_a_bulletin_an_approver_approves_it_and_tomorrows_plan_airs_it(browser, desk_console,
                                                                                       tmp_path):
    page = login(browser, desk_console, "operator")
    page.click("nav >> text=Thông báo")
    page.click("#bulletin-new")
    assert page.locator("[name=approve]").count() == 0  # an operator cannot write-and-approve
    page.fill("[name=title]", TITLE)
    page.fill("[name=text]", TEXT)
    page.select_option("[name=voice]", "south")
    page.fill("[name=plays_per_day]", "2-2")
    screenshot(page, "bulletin-new", tmp_path)
    page.click("#bulletin-submit")
    page.wait_for_url(re.compile(r".*/bulletins/\d+/$"))
    bulletin_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert page.locator("#bulletin-status").inner_text() == "Chờ duyệt"
    assert "Mang theo CCCD." in page.locator("#bulletin-text").inner_text()
    assert page.locator("#decide").count() == 0 and page.locator("#waits").is_visible()
    clip = page.request.get(page.locator("#bulletin-audio").get_attribute("src"))
    assert clip.status == 200 and clip.body()[:4] == b"RIFF" and len(clip.body()) > 44100  # seconds of speech
    stored = _store(desk_console).get(bulletin_id)
    assert (stored.created_by, stored.voice, stored.plays_min, stored.plays_max) == ("operator", "south", 2, 2)
    assert TITLE not in _plan_titles(page)  # a draft is never planned: it is an exception instead
    assert TITLE in page.locator("section.day .problems").inner_text()
    page.goto("/library/?category=thong-bao")
    assert page.locator("table.library .approval-pending").count() == 1
    page.context.close()

    page = login(browser, desk_console, "approver")
    page.goto("/bulletins/?status=draft")
    page.click(f"text={TITLE}")
    page.fill("#approve-comment", "Đồng ý phát")
    page.click("#approve-button")
    assert page.locator("#bulletin-status").inner_text() == "Đã duyệt"
    history = page.locator("table.history tr.decision-approved").inner_text()
    assert "approver (approver)" in history and "Đồng ý phát" in history
    screenshot(page, "bulletin-approved", tmp_path)
    record = _store(desk_console).records(bulletin_id=bulletin_id)[-1]
    assert (record.by, record.role, record.decision, record.audio_sha256) == (
        "approver", "approver", "approved", stored.audio_sha256)
    assert _plan_titles(page).count(TITLE) == 2  # its own plays per day
    page.goto(f"/bulletins/{bulletin_id}/")
    page.click("#air-now")  # to air it at once: the break-in page, filled in, with its own confirmations
    assert page.input_value("#breakin-item") == stored.audio_sha256
    assert page.input_value("#breakin-reason") == f"thông báo #{bulletin_id} «{TITLE}», duyệt / approved: approver"
    assert page.is_checked("input[name=level][value=emergency]")
    page.goto("/library/?category=thong-bao")
    assert page.locator("table.library .approval-pending").count() == 0
    page.goto(f"/bulletins/{bulletin_id}/")
    page.click("button:has-text('English')")
    assert page.locator("#bulletin-status").inner_text() == "approved"
    page.context.close()


@pytest.fixture(scope="module")
def draft_id(desk_console) -> int:
    """A draft written through the desk (as `bulletin new` does), for the tests that try to decide it."""
    from broadcaster.bulletins.approval import Person
    from broadcaster.bulletins.desk import Draft, write_bulletin
    from broadcaster.station.config import load_station

    station = load_station(desk_console.config)
    return write_bulletin(station, Draft("Họp thôn Tây", "Tối nay họp thôn Tây lúc 19h."), Person("operator")).id


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_viewer_or_operator_cannot_approve_reject_or_withdraw(browser, desk_console, draft_id, role):
    page = login(browser, desk_console, role)
    page.goto(f"/bulletins/{draft_id}/")
    assert page.locator("#approve-button").count() == 0 and page.locator("#air-now").count() == 0
    for decision in ("approve", "reject", "withdraw"):
        answer = page.request.post(f"/bulletins/{draft_id}/decide/", form={
            "csrfmiddlewaretoken": csrf(page), "decision": decision, "comment": "x"}, max_redirects=0)
        assert answer.status == 403, decision
    answer = page.request.post("/bulletins/new/", form={  # write-and-approve is an approver's too
        "csrfmiddlewaretoken": csrf(page), "title": "t", "text": "Xin chào.", "voice": "north", "approve": "on"},
        max_redirects=0)
    assert answer.status == 403
    assert _store(desk_console).get(draft_id).status == "draft"
    page.context.close()


def test_a_rejection_needs_a_reason_and_then_the_draft_is_rejected(browser, desk_console, draft_id):
    page = login(browser, desk_console, "approver")
    page.goto(f"/bulletins/{draft_id}/")
    page.locator("#reject-comment").evaluate("e => e.removeAttribute('required')")  # the server checks too
    page.click("#reject-button")
    assert "từ chối cần ghi lý do" in page.locator(".messages").inner_text()
    assert _store(desk_console).get(draft_id).status == "draft"
    page.fill("#reject-comment", "Sai giờ họp")
    page.click("#reject-button")
    assert page.locator("#bulletin-status").inner_text() == "Từ chối"
    assert page.request.get(f"/bulletins/{draft_id}/audio/").status == 200  # still heard, from audio/.retired/
    page.context.close()


def test_editing_an_approved_bulletin_makes_a_draft_and_the_approved_one_keeps_airing(browser, desk_console):
    from broadcaster.bulletins.approval import Person
    from broadcaster.bulletins.desk import Draft, approve_bulletin, write_bulletin
    from broadcaster.station.config import load_station

    station = load_station(desk_console.config)
    first = write_bulletin(station, Draft("Đổ rác đúng giờ", "Đổ rác trước 6h sáng.", voice="central"),
                           Person("operator"))
    approve_bulletin(station, first.id, Person("approver", "approver"))
    page = login(browser, desk_console, "operator")
    page.goto(f"/bulletins/{first.id}/")
    page.click("#edit-bulletin")
    assert page.input_value("[name=text]") == "Đổ rác trước 6h sáng." and page.input_value("[name=voice]") == "central"
    page.fill("[name=text]", "Đổ rác trước 6h30 sáng.")
    page.click("#bulletin-submit")
    page.wait_for_url(re.compile(r".*/bulletins/\d+/$"))
    assert page.locator("#bulletin-status").inner_text() == "Chờ duyệt"
    new = _store(desk_console).get(int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert (new.replaces, new.text, new.voice, new.created_by) == (first.id, "Đổ rác trước 6h30 sáng.", "central",
                                                                   "operator")
    assert _store(desk_console).get(first.id).status == "approved"  # airs until the edit is approved
    page.context.close()


def test_text_the_engine_cannot_speak_is_told_beside_the_field_and_nothing_is_made(browser, desk_console):
    before = len(_store(desk_console).bulletins())
    page = login(browser, desk_console, "operator")
    page.goto("/bulletins/new/")
    page.fill("[name=title]", "Thông báo lỗi")
    page.fill("[name=text]", "Dòng một.\nDòng hai có chữ 中文.")
    page.fill("[name=plays_per_day]", "ba")
    page.click("#bulletin-submit")
    error = page.locator("#field-plays_per_day .field-error").inner_text()
    assert "số lần phát/ngày không hợp lệ" in error
    page.fill("[name=plays_per_day]", "")
    page.click("#bulletin-submit")
    error = page.locator("#field-text .field-error").first.inner_text()
    assert error.startswith("dòng 2: ký tự máy đọc không đọc được: '中'")
    page.click("button:has-text('English')")
    page.fill("[name=title]", "Thông báo lỗi")
    page.fill("[name=text]", "Dòng một.\nDòng hai có chữ 中文.")
    page.click("#bulletin-submit")
    assert page.locator("#field-text .field-error").first.inner_text().startswith(
        "line 2: a character the speech engine cannot say: '中'")
    assert len(_store(desk_console).bulletins()) == before
    page.context.close()


def test_a_page_does_not_wait_for_slow_speech_and_the_bulletin_arrives_after(browser, desk_console):
    impatient = start_console(desk_console.config, env=os.environ | {"BROADCASTER_WEB_SPEECH_WAIT": "0"})
    try:
        page = login(browser, impatient, "operator")
        page.goto("/bulletins/new/")
        page.fill("[name=title]", "Thông báo đọc chậm")
        page.fill("[name=text]", "Chiều nay thôn Bắc phun thuốc khử khuẩn.")
        page.click("#bulletin-submit")
        page.wait_for_url(impatient.url + "/bulletins/")
        assert "Máy vẫn đang đọc “Thông báo đọc chậm”" in page.locator(".messages").inner_text()
        deadline = time.monotonic() + 120
        while not any(b.title == "Thông báo đọc chậm" for b in _store(desk_console).bulletins()):
            assert time.monotonic() < deadline, "the bulletin never arrived"
            time.sleep(0.2)
        page.reload()
        assert "Thông báo đọc chậm" in page.locator("table.bulletins").inner_text()
        page.context.close()
        page = login(browser, impatient, "admin")
        for _ in range(50):  # written by the speech thread just after the bulletin, the page long gone
            page.goto("/audit/")
            if "Thông báo đọc chậm" in page.locator("main").inner_text():
                break
            time.sleep(0.2)
        assert "bulletin.new" in page.locator("tr", has_text="Thông báo đọc chậm").inner_text()
        page.context.close()
    finally:
        stop_console(impatient)
