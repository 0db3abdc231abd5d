"""What the weekly logbook (sổ nhật ký chương trình phát thanh) says: per session, its date, start and end and
what aired in order, who approved each item, with items that failed or were skipped marked."""

from __future__ import annotations

from datetime import date

from broadcaster.asrun.logbook import Logbook, Session
from broadcaster.reports.outline import Document, Para, Signature, Table, Title, header_for, vi_date, vi_number
from broadcaster.reports.report_outline import LEVEL_VI, STATUS_VI, integrity_alert

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def logbook_heading(logbook: Logbook) -> tuple[str, str]:
    return ("SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH",
            f"Tuần {logbook.week:02d} năm {logbook.year} (từ ngày {vi_date(logbook.first)} "
            f"đến ngày {vi_date(logbook.last)})")


def session_label(session: Session, slot_names: dict[str, str]) -> str:
    if not session.slot:
        return "Phát ngoài buổi (khẩn cấp)"
    return slot_names.get(session.slot, session.slot)


def logbook_document(logbook: Logbook, slot_names: dict[str, str], issued: date | None = None) -> Document:
    doc = Document(landscape=True)
    title, subject = logbook_heading(logbook)
    doc.add(header_for(logbook.station, "NK-ĐTT", issued or date.today()), Title(title, subject))
    if not logbook.integrity.ok:
        doc.add(integrity_alert(logbook.integrity, "sổ"))
    if not logbook.sessions:
        doc.add(Para("Trong tuần không ghi nhận buổi phát nào: nhật ký phát sóng không có bản ghi nào. "
                     "/ No broadcasts were recorded this week.", "alert"))
    for session in logbook.sessions:
        sounded = sum(1 for i in session.items if i.status in ("aired", "partial"))
        doc.add(Para(f"{WEEKDAYS_VI[session.day.weekday()]}, {vi_date(session.day)} — "
                     f"{session_label(session, slot_names)}: {session.start} – {session.end}; "
                     f"{sounded} lượt phát, {vi_number(session.minutes, 1)} phút", "heading"),
                Table(["STT", "Giờ phát", "Đến", "Nội dung", "Chủ đề", "Thời lượng (giây)", "Tình trạng",
                       "Người duyệt", "Ghi chú"],
                      [[str(n), i.start, i.end, i.title, logbook.topic(i.category), vi_number(i.seconds, 0),
                        STATUS_VI.get(i.status, i.status), logbook.approver(i.sha256),
                        "; ".join(x for x in (LEVEL_VI.get(i.level, i.level) if i.level != "normal" else "",
                                              i.reason) if x)]
                       for n, i in enumerate(session.items, 1)], [1.2, 1.8, 1.8, 5.4, 2.3, 1.5, 2.2, 2.8, 3.3]))
    doc.add(Para(f"Nhật ký phát sóng: {vi_number(logbook.integrity.rows)} dòng, "
                 + ("chuỗi băm toàn vẹn." if logbook.integrity.ok else "CHUỖI BĂM HỎNG."), "note"),
            Signature(["Đài Phát thanh huyện (để kiểm tra);", "Lưu: ĐTT."], "TRƯỞNG ĐÀI"))
    return doc
