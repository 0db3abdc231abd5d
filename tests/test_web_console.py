"""The console in a real browser (Debian's chromium) against `python main.py web` on a loopback port: what a
commune officer who never opens a terminal does — set up slots and blackouts, see what plays tomorrow, upload
clips, read what aired, download the month's report."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.support.web import (
    ROOT,
    login,
    mp3,
    needs_chromium,
    screenshot,
)

pytestmark = needs_chromium
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def station_today() -> date:
    return datetime.now(ZONE).date()


def test_login_shows_the_dashboard_in_vietnamese_with_its_diacritics(browser, console, tmp_path):
    page = login(browser, console, "operator")
    assert page.locator("h1").inner_text().startswith("Tổng quan — Đài truyền thanh xã Cẩm Hưng")
    assert page.locator("nav").inner_text().split("\n")[:3] == ["Tổng quan", "Lịch phát", "Buổi phát & giờ cấm phát"]
    # The glyphs are drawn by a font that has them (not boxes): the stylesheet's DejaVu Sans covers Vietnamese.
    assert page.evaluate("document.fonts.check('16px \"DejaVu Sans\"', 'Đài truyền thanh xã Cẩm Hưng')")
    width = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '16px "DejaVu Sans"'; return [c.measureText('ệ').width, c.measureText('\\u0378').width]; }""")
    assert width[0] > 0 and width[0] != width[1]  # 'ệ' is a real glyph, unlike an unassigned code point
    assert page.locator("#heartbeat").inner_text() == "không chạy"  # no daemon in this test
    screenshot(page, "dashboard", tmp_path)
    page.click("button:has-text('English')")
    assert page.locator("h1").inner_text().startswith("Dashboard")
    page.context.close()


def test_a_wrong_password_is_refused(browser, console):
    context = browser.new_context(base_url=console.url)
    page = context.new_page()
    page.goto("/plan/")
    assert page.url.startswith(console.url + "/login/")  # every page needs a login
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "Sai tên đăng nhập hoặc mật khẩu" in page.locator(".error").inner_text()
    context.close()


def _add_window(page, kind: str, **fields) -> None:
    page.goto(f"/schedule/{kind}/new/")
    for name, value in fields.items():
        if name == "weekdays":
            for box in page.locator("input[name=weekdays]").all():
                box.set_checked(box.get_attribute("value") in value)
        else:
            page.fill(f"[name={name}]", value)
    page.click("#preview-button")


def test_add_a_slot_preview_7_days_then_save_keeps_comments_and_it_is_in_tomorrows_plan(browser, console, tmp_path):
    page = login(browser, console, "operator")
    before = console.config.read_text(encoding="utf-8")
    _add_window(page, "slots", id="toi", name="Buổi tối", start="19:00", end="19:30", playlist="covid-2021")
    assert page.locator("#preview svg.timeline g[data-date]").count() == 7  # the 7-day preview, before saving
    assert "+  - id: toi" in page.locator("pre.diff").text_content()
    assert console.config.read_text(encoding="utf-8") == before  # nothing written by the preview
    screenshot(page, "slot-preview", tmp_path)
    page.click("#save-button")
    page.wait_for_url(console.url + "/schedule/")
    assert "Đã lưu" in page.locator(".messages").inner_text()
    after = console.config.read_text(encoding="utf-8")
    # Every comment line of the operator's file is still there, in the same order, and the slot is added.
    comments = [line.strip() for line in before.splitlines() if "#" in line]
    assert [line.strip() for line in after.splitlines() if "#" in line] == comments
    assert "  - id: toi\n    name: Buổi tối\n    days: daily\n    start: 19:00\n    end: 19:30\n" in after
    assert after.index("id: toi") < after.index("# Giờ cấm phát")  # still under slots:, above the blackouts

    tomorrow = station_today() + timedelta(days=1)
    page.goto("/plan/")
    page.click("#plan-tomorrow")
    day = page.locator(f"section.day[data-date='{tomorrow}']")
    assert "Buổi phát Buổi tối (toi) 19:00:00–19:30:00" in day.inner_text()
    rows = day.locator("table.items tr").all_inner_texts()
    evening = [r for r in rows if r.split("\t")[0].startswith("19:")]
    assert evening and all("\ttoi\t" in r for r in evening)
    assert any(re.search(r"audio/|\.mp3", r) for r in evening)  # each item shows its file
    assert any("covid-2021:" in r for r in evening)  # and the rule that placed it
    page.context.close()


def test_a_blackout_that_clips_a_slot_shows_its_warning_next_to_its_times(browser, console, tmp_path):
    page = login(browser, console, "operator")
    _add_window(page, "blackouts", id="hop-thon", name="Họp thôn", start="05:00", end="05:45",
                date_from="2030-01-01", date_until="2030-01-31")
    error = page.locator("#field-start .field-error").inner_text()
    assert "buổi phát 'sang'" in error and "bị cắt bởi giờ cấm phát 'hop-thon'" in error
    assert page.locator("#save-button").is_visible()  # a warning, not an error: it may still be saved
    screenshot(page, "blackout-warning", tmp_path)
    page.fill("[name=end]", "04:00")  # end before start: an error, next to the end field, and no save button
    page.click("#preview-button")
    assert "không sau giờ bắt đầu" in page.locator("#field-end .field-error").inner_text()
    assert page.locator("#save-button").count() == 0
    page.context.close()


def test_a_save_from_a_stale_copy_is_refused(browser, console):
    page = login(browser, console, "operator")
    _add_window(page, "blackouts", id="le-hoi", name="Lễ hội", start="20:00", end="22:00", dates="2030-02-01")
    hand_edit = console.config.read_text(encoding="utf-8") + "# sửa tay trong lúc đó / edited by hand meanwhile\n"
    console.config.write_text(hand_edit, encoding="utf-8")
    page.click("#save-button")
    assert "tệp đã thay đổi từ khi bạn mở nó" in page.locator("#stale").inner_text()
    assert console.config.read_text(encoding="utf-8") == hand_edit  # the hand edit is kept, nothing lost
    page.context.close()


def test_plan_of_the_week_shades_blackouts_and_lists_exceptions(browser, console, tmp_path):
    page = login(browser, console, "viewer")
    page.goto("/plan/?date=2021-02-22&days=7")  # the demo's online-lessons week
    assert page.locator("section.day").count() == 7
    monday = page.locator("section.day[data-date='2021-02-22']")
    assert "Giờ cấm phát 07:30–11:30 Học trực tuyến buổi sáng" in monday.inner_text()
    assert page.locator("svg.timeline rect.blackout").count() >= 11  # Mon–Sat mornings, Mon–Fri afternoons
    assert page.locator("section.day .problems li").count() > 0  # exceptions (quotas the tones cannot meet)
    screenshot(page, "plan-week", tmp_path, full_page=False)  # the timeline and the first day
    page.context.close()


def test_upload_a_good_mp3_and_a_corrupt_file_gives_a_result_for_each(browser, console, tmp_path):
    good = mp3(tmp_path / "Thông báo tiêm chủng.mp3", 880, 3)
    corrupt = tmp_path / "hong.mp3"
    corrupt.write_bytes(b"ID3" + bytes(range(256)) * 40)
    page = login(browser, console, "operator")
    page.goto("/library/")
    page.set_input_files("#upload-files", [str(good), str(corrupt)])
    page.fill("[name=category]", "thong-bao")
    page.click("#upload-button")
    results = page.locator(".upload-results li")
    results.nth(1).wait_for()
    ok = page.locator(".upload-results li[data-file='Thông báo tiêm chủng.mp3']")
    bad = page.locator(".upload-results li[data-file='hong.mp3']")
    assert "✔" in ok.inner_text() and "đã thêm → thong-bao/thong-bao-tiem-chung.mp3" in ok.inner_text()
    assert "✖" in bad.inner_text() and "ok" not in (bad.get_attribute("class") or "")
    screenshot(page, "library-upload", tmp_path)
    page.goto("/library/?category=thong-bao")
    assert page.locator("table.library audio").count() == 1
    assert (console.config.parent / "audio" / "thong-bao" / "thong-bao-tiem-chung.mp3").is_file()
    page.context.close()


def test_three_files_are_sent_one_at_a_time_each_with_its_own_progress_and_result(browser, console, tmp_path):
    names = ["Lịch họp thôn Tây.mp3", "Thông báo thu thuế.mp3", "rỗng.mp3"]
    mp3(tmp_path / names[0], 1010, 2)
    mp3(tmp_path / names[1], 1090, 2)
    (tmp_path / names[2]).write_bytes(b"")  # ingest refuses it: its row says so, the others are not held up
    page = login(browser, console, "operator")
    page.goto("/library/")
    # Watched from inside the page (the XHRs themselves are untouched): one request per file, each sent after
    # the one before was answered.
    page.evaluate("""() => { window.uploads = []; const send = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function (body) {
            window.uploads.push("sent " + body.getAll("files").length);
            this.addEventListener("readystatechange", () => this.readyState === 4
                                  && window.uploads.push("answered " + this.status));  // before "load"
            return send.call(this, body); }; }""")
    page.set_input_files("#upload-files", [str(tmp_path / n) for n in names])
    page.fill("[name=category]", "thong-bao")
    page.click("#upload-button")
    rows = page.locator("#upload-results li")
    assert [text.split(".mp3")[0] for text in rows.all_inner_texts()] == [n[:-4] for n in names]
    assert page.locator("#upload-results li progress").count() == 3  # a bar per file, from the start
    done = [page.locator(f".upload-results li[data-file='{n}']") for n in names]
    assert "✖" in done[2].inner_text()  # waits for the last result
    assert "✔" in done[0].inner_text() and "thong-bao/lich-hop-thon-tay.mp3" in done[0].inner_text()
    assert "✔" in done[1].inner_text() and "thong-bao/thong-bao-thu-thue.mp3" in done[1].inner_text()
    assert [bar.get_attribute("value") for bar in page.locator(".upload-results li progress").all()] == ["100"] * 3
    assert page.evaluate("window.uploads") == ["sent 1", "answered 200"] * 3
    assert page.locator("#upload-button").is_enabled()
    page.context.close()


def test_upload_without_javascript_posts_the_form_and_shows_a_result_page(browser, console, tmp_path):
    clip = mp3(tmp_path / "Không có JS.mp3", 1170, 2)
    page = login(browser, console, "operator", java_script_enabled=False)
    page.goto("/library/")
    page.set_input_files("#upload-files", [str(clip)])
    page.fill("[name=category]", "thong-bao")
    page.click("#upload-button")
    page.wait_for_url(console.url + "/library/upload/")
    assert "✔" in page.locator(".upload-results li[data-file='Không có JS.mp3']").inner_text()
    assert page.locator("h1").inner_text() == "Tải lên"
    page.context.close()


def test_retire_an_item_then_restore_it_from_the_library_page(browser, console):
    page = login(browser, console, "operator")
    page.goto("/library/?q=bản tin thời sự")
    assert page.locator("table.library audio").count() == 1
    page.click("table.library button:has-text('Gỡ khỏi lịch')")
    assert "Đã gỡ: Bản tin thời sự 10" in page.locator(".messages").inner_text()
    assert (console.config.parent / "audio" / ".retired" / "news").is_dir()  # moved aside, not deleted
    page.goto("/library/?q=bản tin thời sự")
    assert page.locator("table.library audio").count() == 0
    page.click("li:has-text('Bản tin thời sự 10') button:has-text('Đưa trở lại')")
    assert "Đã đưa trở lại: Bản tin thời sự 10" in page.locator(".messages").inner_text()
    page.goto("/library/?q=bản tin thời sự")
    assert page.locator("table.library audio").count() == 1
    page.context.close()


def _fill_asrun(config: Path, day: date) -> None:
    """A morning's as-run rows, written the way the engine writes them."""
    from broadcaster.asrun.log import AsRunLog

    start = datetime.combine(day, datetime.min.time(), ZONE).replace(hour=5, minute=30)
    with AsRunLog(config.parent / "data" / "asrun.sqlite") as log:
        for n, (category, title, status) in enumerate([
                ("ident", "Mở đầu chương trình", "aired"), ("bluezone", "Lời kêu gọi cài đặt Bluezone 3", "aired"),
                ("covid-song", "Bài hát phòng chống Covid 6", "partial"), ("news", "Bản tin thời sự 10", "aired")]):
            at = start + timedelta(minutes=3 * n)
            log.append(planned_start=at, actual_start=at, actual_end=at + timedelta(minutes=2), slot="sang",
                       category=category, title=title, file=f"{category}/x-{n}.mp3", sha256=f"{n:064d}",
                       level="normal", status=status, reason="" if status == "aired" else "bị cắt / cut")


def test_read_what_aired_filter_verify_and_export_csv(browser, console, tmp_path):
    day = date(2021, 2, 22)
    _fill_asrun(console.config, day)
    page = login(browser, console, "viewer")
    page.goto(f"/asrun/?from={day}&to={day}")
    assert "Chuỗi băm nguyên vẹn (4 dòng)" in page.locator("#verify").inner_text()
    assert page.locator("table.asrun tr").count() == 5
    page.select_option("select[name=status]", "partial")
    page.click("button:has-text('Lọc')")
    rows = page.locator("table.asrun tr").all_inner_texts()
    assert len(rows) == 2 and "Bài hát phòng chống Covid 6" in rows[1]
    screenshot(page, "asrun", tmp_path)
    with page.expect_download() as download:
        page.click("#asrun-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("id,planned_start,actual_start")
    assert len(text.splitlines()) == 2 and "partial" in text.splitlines()[1]
    page.context.close()


def test_download_the_months_report_as_docx_that_opens_and_the_weekly_logbook(browser, console, tmp_path):
    from docx import Document

    day = date(2021, 3, 1)
    _fill_asrun(console.config, day)
    page = login(browser, console, "viewer")
    page.goto("/reports/")
    page.fill("#report-month", "2021-03")
    with page.expect_download() as download:
        page.click("#report-docx")
    assert download.value.suggested_filename == "bao-cao-2021-03-01-2021-03-31.docx"
    document = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "Kết quả tuyên truyền trên hệ thống truyền thanh xã từ ngày 01/03/2021 đến ngày 31/03/2021" in text
    assert "Cài đặt ứng dụng Bluezone" in text and "TRƯỞNG ĐÀI" in text  # topics by their names
    screenshot(page, "reports", tmp_path)
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK"), ("json", b"{")):
        with page.expect_download() as other:
            page.click(f"#report-{fmt}")
        assert Path(other.value.path()).read_bytes().startswith(magic), fmt
    with page.expect_download() as items_csv:
        page.click("#report-csv")
    assert "Mở đầu chương trình" in Path(items_csv.value.path()).read_text(encoding="utf-8-sig")
    page.fill("#logbook-week", "2021-W09")
    with page.expect_download() as logbook:
        page.click("#logbook-docx")
    book = Document(io.BytesIO(Path(logbook.value.path()).read_bytes()))
    assert any("Mở đầu chương trình" in c.text for t in book.tables for r in t.rows for c in r.cells)
    page.context.close()


def test_the_emergency_button_is_reachable_on_a_360_pixel_phone(browser, console, tmp_path):
    page = login(browser, console, "approver", viewport={"width": 360, "height": 740}, is_mobile=True,
                 has_touch=True)
    button = page.locator("#emergency-button")
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 740
    assert box["height"] >= 40  # a thumb can hit it
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1  # no sideways scrolling needed
    screenshot(page, "phone-dashboard", tmp_path)
    button.tap()
    page.wait_for_url(console.url + "/breakin/")
    assert page.locator("#breakin-submit").is_visible()
    screenshot(page, "phone-breakin", tmp_path)
    page.context.close()


def test_other_pages_render_for_an_admin(browser, console, tmp_path):
    page = login(browser, console, "admin")
    for path, name, heading in (("/schedule/", "schedule", "Buổi phát & giờ cấm phát"),
                                ("/playlists/", "playlists", "Danh sách phát"),
                                ("/feed/", "feed", "Nguồn huyện"), ("/users/", "users", "Người dùng"),
                                ("/audit/", "audit", "Nhật ký thao tác"), ("/library/", "library", "Thư viện")):
        page.goto(path)
        assert page.locator("h1").inner_text().startswith(heading), path
        screenshot(page, name, tmp_path)
    assert ROOT.exists()
    page.context.close()
