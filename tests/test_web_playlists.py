"""Editing a playlist in the console, in a real browser against `python main.py web`: the file keeps its
comments and key order, the playlist checker `validate` runs puts each message beside its box, and a bad value
writes nothing."""

from __future__ import annotations

from tests.support.web import login, needs_chromium, screenshot

pytestmark = needs_chromium


def _playlist(console):
    return console.config.parent / "playlists" / "covid-2021.yaml"


def test_edit_a_quota_and_a_step_and_the_file_keeps_its_comments(browser, console, tmp_path):
    before = _playlist(console).read_text(encoding="utf-8")
    page = login(browser, console, "operator")
    page.goto("/playlists/")
    page.click("#edit-covid-2021")
    page.fill("tr[data-category=bluezone] [name=cat_plays]", "4-6")
    page.fill("[name=sequence]", page.input_value("[name=sequence]") + "\nident | Kết thúc chương trình")
    page.click("#save-button")
    page.wait_for_url(console.url + "/playlists/")
    assert "Đã lưu" in page.locator(".messages").inner_text()
    after = _playlist(console).read_text(encoding="utf-8")
    expected = before.replace(
        "    plays_per_day: 3-5          # Sở TT&TT", "    plays_per_day: 4-6          # Sở TT&TT").replace(
        "once approved\n", "once approved\n  - category: ident\n    title: Kết thúc chương trình\n")
    assert after == expected  # only those two changes: every comment, key and blank line as it was
    assert "4–6" in page.locator("section.card", has_text="covid-2021").inner_text()
    page.context.close()


def test_a_bad_quota_is_told_beside_its_box_and_the_file_is_unchanged(browser, console, tmp_path):
    before = _playlist(console).read_text(encoding="utf-8")
    page = login(browser, console, "operator")
    page.goto("/playlists/covid-2021/edit/")
    page.fill("tr[data-category=khai-bao-y-te] [name=cat_plays]", "ba-năm")
    page.fill("tr[data-row='0'] [name=item_weight]", "nặng")
    page.click("#save-button")
    quota = page.locator("tr[data-category=khai-bao-y-te] .field-error").inner_text()
    assert "số lần phát/ngày không hợp lệ: 'ba-năm'" in quota
    assert "'weight' phải là số" in page.locator("tr[data-row='0'] .field-error").inner_text()
    assert page.input_value("tr[data-category=khai-bao-y-te] [name=cat_plays]") == "ba-năm"  # as typed
    screenshot(page, "playlist-error", tmp_path)
    assert _playlist(console).read_text(encoding="utf-8") == before
    page.context.close()


def test_a_save_from_a_stale_copy_of_the_playlist_is_refused(browser, console):
    page = login(browser, console, "operator")
    page.goto("/playlists/covid-2021/edit/")
    hand_edit = _playlist(console).read_text(encoding="utf-8") + "# sửa tay / edited by hand\n"
    _playlist(console).write_text(hand_edit, encoding="utf-8")
    page.fill("tr[data-category=news] [name=cat_sep]", "200")
    page.click("#save-button")
    assert "tệp đã thay đổi từ khi bạn mở nó" in page.locator("#stale").inner_text()
    assert _playlist(console).read_text(encoding="utf-8") == hand_edit
    page.context.close()
