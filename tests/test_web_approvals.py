"""Local clips waiting for approval (issue 12), in a real browser against `python main.py web`: an operator's
upload waits and the plan says so; an approver listens, rejects one (a reason is required) and approves another
on the waiting page, through the same approval code as `python main.py library approve|reject`; the record
names the console login, and the console's audit has a row. Roles that may not decide get 403."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.web import csrf, login, mp3, needs_chromium, screenshot

pytestmark = needs_chromium
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
APPROVE, REJECT = "Họp dân thôn Bắc", "Quảng cáo bán phân bón"


def _item(console, title: str):
    from broadcaster.library.catalogue import Library

    folder = console.config.parent
    return next(i for i in Library(folder / "data" / "library.sqlite", folder / "audio").items() if i.title == title)


def _records(console, sha256: str):
    from broadcaster.bulletins.store import BulletinStore

    return BulletinStore(console.config.parent / "data" / "bulletins.sqlite").records(audio_sha256=sha256)


def _audit(console, action: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(console.config.parent / "data" / "web.sqlite3") as db:
        return db.execute("SELECT username, role, target FROM console_auditentry WHERE action = ?",
                          (action,)).fetchall()


def _waiting_in_plan(page) -> str:
    page.goto(f"/plan/?date={datetime.now(ZONE).date() + timedelta(days=1)}")
    problems = page.locator("section.day .problems")
    return problems.inner_text() if problems.count() else ""


def _upload(page, tmp_path, titles: list[str]) -> None:
    page.goto("/library/")
    page.set_input_files("#upload-files", [str(mp3(tmp_path / f"{t}.mp3", 600 + 50 * n, 2))
                                           for n, t in enumerate(titles)])
    page.fill("[name=category]", "thong-bao")
    page.click("#upload-button")
    for title in titles:
        assert "chờ duyệt" in page.locator(f".upload-results li[data-file='{title}.mp3']").inner_text()


def test_an_operators_clip_waits_until_an_approver_approves_or_rejects_it_on_the_waiting_page(browser, console,
                                                                                              tmp_path):
    page = login(browser, console, "operator")
    _upload(page, tmp_path, [APPROVE, REJECT])
    waiting, rejected = _item(console, APPROVE), _item(console, REJECT)
    assert (waiting.approval, rejected.approval) == ("pending", "pending")
    assert f"«{APPROVE}»" in _waiting_in_plan(page) and "chờ duyệt" in _waiting_in_plan(page)
    page.click("#nav-approvals")
    assert page.locator("tr.waiting").count() == 2 and page.locator("tr.waiting form").count() == 0
    refused = page.request.post(f"/library/{waiting.sha256}/decide/", form={
        "csrfmiddlewaretoken": csrf(page), "decision": "approve"}, max_redirects=0)
    assert refused.status == 403 and _item(console, APPROVE).approval == "pending"
    page.context.close()

    page = login(browser, console, "approver")
    page.click("#nav-approvals")
    row = page.locator("tr.waiting", has_text=APPROVE)
    clip = page.request.get(row.locator("audio").get_attribute("src"))
    assert clip.status == 200 and len(clip.body()) > 2000  # the clip itself, to listen to before deciding
    # A rejection without its reason: the browser asks for one; sent anyway, the service refuses it, nothing moves.
    other = page.locator("tr.waiting", has_text=REJECT)
    assert other.locator("form.reject input[name=comment]").get_attribute("required") is not None
    unexplained = page.request.post(f"/library/{rejected.sha256}/decide/", form={
        "csrfmiddlewaretoken": csrf(page), "decision": "reject", "comment": " "})
    assert "từ chối cần ghi lý do" in unexplained.text() and _item(console, REJECT).approval == "pending"
    other.locator("form.reject input[name=comment]").fill("quảng cáo thương mại, không phát trên đài xã")
    other.locator("form.reject button").click()
    assert f"Đã từ chối: {REJECT}" in page.locator(".messages").inner_text()
    screenshot(page, "approvals", tmp_path)
    row.locator("form.approve button").click()
    assert f"Đã duyệt: {APPROVE}" in page.locator(".messages").inner_text()
    assert page.locator("tr.waiting").count() == 0 and page.locator("#nothing-waits").is_visible()
    assert page.locator("table.history tr.decision-approved", has_text=APPROVE).count() == 1

    assert (_item(console, APPROVE).approval, _item(console, REJECT).approval) == ("approved", "rejected")
    [approved] = _records(console, waiting.sha256)
    assert (approved.by, approved.role, approved.decision, approved.kind) == ("approver", "approver", "approved",
                                                                              "local")
    [refusal] = _records(console, rejected.sha256)
    assert (refusal.by, refusal.decision, refusal.comment) == ("approver", "rejected",
                                                               "quảng cáo thương mại, không phát trên đài xã")
    assert _audit(console, "library.approve") == [("approver", "approver", waiting.file)]
    assert _audit(console, "library.reject") == [("approver", "approver", rejected.file)]
    assert APPROVE not in _waiting_in_plan(page) and REJECT not in _waiting_in_plan(page)
    page.context.close()


def test_an_approvers_own_upload_is_approved_at_once_with_its_record(browser, console, tmp_path):
    page = login(browser, console, "approver")
    page.goto("/library/")
    page.set_input_files("#upload-files", [str(mp3(tmp_path / "Lời chào.mp3", 930, 2))])
    page.fill("[name=category]", "thong-bao")
    page.click("#upload-button")
    result = page.locator(".upload-results li[data-file='Lời chào.mp3']").inner_text()
    assert "✔" in result and "chờ duyệt" not in result
    item = _item(console, "Lời chào")
    assert item.approval == "approved"
    assert [(r.by, r.decision) for r in _records(console, item.sha256)] == [("approver", "approved")]
    page.context.close()
