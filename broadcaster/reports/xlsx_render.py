"""Reports and logbooks as XLSX (openpyxl, write-only so a province-year of rows streams through).

Report: a totals sheet ("Tổng hợp"), a sheet of every aired item ("Chi tiết", continued on further sheets past
Excel's 1,048,576-row limit) and a sheet of failures ("Sự cố"). Figures are stored as numbers, not text."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from broadcaster.asrun.figures import LoggedItem, Report
from broadcaster.asrun.logbook import Logbook
from broadcaster.reports.logbook_outline import logbook_heading, session_label
from broadcaster.reports.report_outline import KIND_VI, LEVEL_VI, STATUS_VI, integrity_alert

ROWS_PER_SHEET = 1_048_575  # Excel's limit less the header row
ITEM_COLUMNS = ["ID", "Ngày", "Bắt đầu", "Kết thúc", "Thời lượng (giây)", "Buổi", "Chủ đề", "Tiêu đề", "Tệp",
                "SHA-256", "Mức", "Tình trạng", "Lý do"]
BOLD = Font(bold=True)
RED = Font(bold=True, color="C00000")


def _bold_row(sheet, values: list, font: Font = BOLD) -> list:
    row = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = font
        row.append(cell)
    return row


def _widths(sheet, widths: list[float]) -> None:
    """Column widths, and print landscape one page wide: a printed sheet keeps each row on one line."""
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def render_report_xlsx(report: Report, items: Iterable[LoggedItem], out: str | Path) -> None:
    book = Workbook(write_only=True)
    totals = book.create_sheet("Tổng hợp")
    _widths(totals, [34, 28, 14, 12, 22, 22, 30])
    add = totals.append
    add(_bold_row(totals, [f"BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN — {report.station.name}"]))
    add(["Từ ngày", report.first.isoformat(), "Đến ngày", report.last.isoformat()])
    if report.ref:
        add(["Văn bản chỉ đạo", report.ref])
    if not report.integrity.ok:
        add(_bold_row(totals, [integrity_alert(report.integrity).text], RED))
    if report.empty:
        add(_bold_row(totals, ["Trong kỳ báo cáo không ghi nhận buổi phát nào. / No broadcasts were recorded."],
                      RED))
    add([])
    add(_bold_row(totals, ["Tổng số lượt phát", "Số tin bài", "Tổng thời lượng (phút)", "Số buổi phát",
                           "Lượt phát không trọn vẹn", "Thời gian phát trong giờ học trực tuyến (giây)"]))
    add([report.plays, report.items, round(report.minutes, 2), report.sessions, report.partial_plays,
         round(report.blackout_seconds, 3)])
    add([])
    add(_bold_row(totals, ["Chủ đề", "Số lượt phát", "Số tin bài", "Tổng thời lượng (phút)",
                           "Lượt phát không trọn vẹn", "Thời lượng không trọn vẹn (phút)", "Mã chủ đề"]))
    for t in report.topics:
        add([report.topic(t.category), t.plays, t.items, round(t.minutes, 2), t.partial_plays,
             round(t.partial_minutes, 2), t.category])
    add(_bold_row(totals, ["Tổng cộng", report.plays, report.items, round(report.minutes, 2),
                           report.partial_plays]))
    if report.period != "all":
        add([])
        add(_bold_row(totals, ["Kỳ", "Từ ngày", "Đến ngày", "Số lượt phát", "Thời lượng (phút)"]))
        for sub in report.sub_periods:
            add([sub.label, sub.first.isoformat(), sub.last.isoformat(), sub.plays, round(sub.minutes, 2)])
    add([])
    add(_bold_row(totals, ["Ngày", "Số buổi", "Số lượt phát", "Thời lượng (phút)"]))
    for d in report.days:
        add([d.day.isoformat(), d.sessions, d.plays, round(d.minutes, 2)])
    add([])
    add(_bold_row(totals, ["Phát trong giờ học trực tuyến", "Bắt đầu", "Kết thúc", "Số giây", "Loại", "Lý do",
                           "Khung giờ cấm"]))
    for e in report.exceptions:
        add([f"{e.title} ({report.topic(e.category)})", e.actual_start, e.actual_end, round(e.seconds, 3),
             KIND_VI[e.kind], e.reason, report.blackout_names.get(e.blackout, e.blackout)])
    add([])
    add(_bold_row(totals, ["Nhật ký phát sóng", "Toàn vẹn" if report.integrity.ok else "HỎNG / BROKEN",
                           "Số dòng", report.integrity.rows, "Dòng hỏng", report.integrity.first_bad_id]))

    failures = book.create_sheet("Sự cố")
    _widths(failures, [8, 30, 30, 22, 30, 30, 20, 30])
    failures.append(_bold_row(failures, ["ID", "Dự kiến", "Thực tế", "Buổi", "Chủ đề", "Tiêu đề", "Tình trạng",
                                         "Lý do"]))
    for f in report.failures:
        failures.append([f.id, f.planned_start, f.actual_start, report.slot_names.get(f.slot, f.slot),
                         report.topic(f.category), f.title,
                         STATUS_VI.get(f.status, f.status), f.reason])

    _item_sheets(book, items, report.topic)
    book.save(str(out))


def _item_sheets(book: Workbook, items: Iterable[LoggedItem], topic: Callable[[str], str]) -> None:
    sheet, count, part = None, ROWS_PER_SHEET, 0
    for item in items:
        if count == ROWS_PER_SHEET:
            part += 1
            sheet = book.create_sheet("Chi tiết" if part == 1 else f"Chi tiết ({part})")
            _widths(sheet, [9, 11, 9, 9, 10, 8, 30, 36, 30, 20, 12, 18, 24])
            sheet.append(_bold_row(sheet, ITEM_COLUMNS))
            count = 0
        sheet.append([item.id, item.day, item.start, item.end, round(item.seconds, 3), item.slot, topic(item.category),
                      item.title, item.file, item.sha256, LEVEL_VI.get(item.level, item.level),
                      STATUS_VI.get(item.status, item.status), item.reason])
        count += 1
    if part == 0:
        sheet = book.create_sheet("Chi tiết")
        _widths(sheet, [9, 11, 9, 9, 10, 8, 30, 36, 30, 20, 12, 18, 24])
        sheet.append(_bold_row(sheet, ITEM_COLUMNS))
        sheet.append(["Không có lượt phát nào trong kỳ. / No broadcasts were recorded."])


def render_logbook_xlsx(logbook: Logbook, slot_names: dict[str, str], out: str | Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sổ nhật ký")
    _widths(sheet, [12, 22, 10, 10, 6, 10, 10, 40, 30, 12, 18, 24, 26])
    title, subject = logbook_heading(logbook)
    sheet.append(_bold_row(sheet, [f"{title} — {logbook.station.name}"]))
    sheet.append([subject])
    if not logbook.integrity.ok:
        sheet.append(_bold_row(sheet, [integrity_alert(logbook.integrity, "sổ").text], RED))
    if not logbook.sessions:
        sheet.append(_bold_row(sheet, ["Trong tuần không ghi nhận buổi phát nào. / No broadcasts were recorded."],
                               RED))
    sheet.append(_bold_row(sheet, ["Ngày", "Buổi", "Bắt đầu", "Kết thúc", "STT", "Giờ phát", "Đến", "Nội dung",
                                   "Chủ đề", "Thời lượng (giây)", "Tình trạng", "Người duyệt", "Ghi chú"]))
    for session in logbook.sessions:
        for n, item in enumerate(session.items, 1):
            sheet.append([session.day.isoformat(), session_label(session, slot_names), session.start, session.end,
                          n, item.start, item.end, item.title, logbook.topic(item.category), round(item.seconds, 1),
                          STATUS_VI.get(item.status, item.status), logbook.approver(item.sha256),
                          "; ".join(x for x in (LEVEL_VI[item.level] if item.level != "normal" else "",
                                                item.reason) if x)])
    book.save(str(out))
