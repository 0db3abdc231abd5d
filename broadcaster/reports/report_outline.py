"""What the results report (báo cáo kết quả tuyên truyền) says, in Vietnamese, block by block.

A broken hash chain and an empty period are stated right under the title, on page 1, before any figure.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from broadcaster.asrun.figures import Report
from broadcaster.reports.chart import minutes_per_day_png
from broadcaster.reports.outline import (
    Chart,
    Document,
    Para,
    Signature,
    Table,
    Title,
    addressee,
    header_for,
    vi_date,
    vi_number,
)

STATUS_VI = {"aired": "Đã phát", "partial": "Phát không trọn vẹn", "failed": "Lỗi, không phát được",
             "skipped": "Không phát (bỏ qua)"}
LEVEL_VI = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}
KIND_VI = {"emergency": "Phát khẩn cấp", "fault": "Sự cố (vi phạm)"}
DAY_TABLE_MAX_DAYS = 31  # longer periods show sub-periods and the chart instead of a row per day
LISTED_ROWS_MAX = 200  # failures listed one by one in a document; the JSON and CSV carry them all


def minutes_text(minutes: float) -> str:
    return vi_number(minutes, 2)


def local_time(stamp: str | None, zone: ZoneInfo) -> str:
    if not stamp:
        return ""
    return datetime.fromisoformat(stamp).astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def integrity_alert(report_integrity, what: str = "báo cáo") -> Para:
    return Para(f"CẢNH BÁO: NHẬT KÝ PHÁT SÓNG KHÔNG TOÀN VẸN — chuỗi băm hỏng tại dòng "
                f"{report_integrity.first_bad_id} ({report_integrity.message}). Số liệu trong {what} này lấy từ "
                "nhật ký đó và phải được kiểm tra lại. / WARNING: the as-run log's hash chain is broken at row "
                f"{report_integrity.first_bad_id}.", "alert")


def report_document(report: Report, issued: date | None = None) -> Document:
    zone = ZoneInfo(report.timezone)
    doc = Document()
    span = f"từ ngày {vi_date(report.first)} đến ngày {vi_date(report.last)}"
    doc.add(header_for(report.station, "BC-ĐTT", issued or date.today()),
            Title("BÁO CÁO", f"Kết quả tuyên truyền trên hệ thống truyền thanh xã {span}"),
            Para(addressee(report.station), "center"))
    if not report.integrity.ok:
        doc.add(integrity_alert(report.integrity))
    if report.empty:
        doc.add(Para(f"Trong kỳ báo cáo ({span}) không ghi nhận buổi phát nào: nhật ký phát sóng không có lượt "
                     "phát nào. / No broadcasts were recorded in this period.", "alert"))
    intro = f"Thực hiện {report.ref}, " if report.ref else ""
    doc.add(Para(f"{intro}{report.station.name} báo cáo kết quả tuyên truyền {span} như sau (số liệu lấy từ nhật "
                 "ký phát sóng tự động của đài, chỉ tính những gì đã thực sự phát):"))

    doc.add(Para("I. KẾT QUẢ THỰC HIỆN", "heading"),
            Para(f"1. Tổng số lượt phát: {vi_number(report.plays)} lượt; số tin bài: {vi_number(report.items)}; "
                 f"tổng thời lượng: {minutes_text(report.minutes)} phút; số buổi phát: {vi_number(report.sessions)} "
                 f"buổi trong {report.days_on_air} ngày có phát."))
    if report.partial_plays:
        doc.add(Para(f"Ngoài ra có {vi_number(report.partial_plays)} lượt phát không trọn vẹn "
                     f"({minutes_text(sum(t.partial_minutes for t in report.topics))} phút), không tính vào số "
                     "lượt phát ở trên."))
    doc.add(Para("2. Kết quả theo chủ đề:"), topic_table(report))
    if report.period != "all":
        doc.add(Para("3. Kết quả theo kỳ:"), Table(
            ["Kỳ", "Từ ngày", "Đến ngày", "Số lượt phát", "Thời lượng (phút)"],
            [[s.label, vi_date(s.first), vi_date(s.last), vi_number(s.plays), minutes_text(s.minutes)]
             for s in report.sub_periods], [2, 2, 2, 2, 2]))
    if len(report.days) <= DAY_TABLE_MAX_DAYS:
        doc.add(Para(f"{4 if report.period != 'all' else 3}. Kết quả theo ngày:"), Table(
            ["Ngày", "Số buổi", "Số lượt phát", "Thời lượng (phút)", "Theo chủ đề (lượt)"],
            [[vi_date(d.day), vi_number(d.sessions), vi_number(d.plays), minutes_text(d.minutes),
              "; ".join(f"{report.topic(c)}: {p}" for c, (p, _) in d.by_topic.items())] for d in report.days],
            [2, 1.4, 1.6, 1.8, 5]))
    doc.add(Chart(minutes_per_day_png(report), "Biểu đồ: thời lượng phát theo ngày, theo chủ đề (phút)"))

    doc.add(Para("II. BẢO ĐẢM KHÔNG PHÁT TRONG GIỜ HỌC TRỰC TUYẾN", "heading"),
            Para(f"Tổng thời gian phát trong giờ học trực tuyến: {vi_number(report.blackout_seconds, 1)} giây."))
    if report.exceptions:
        doc.add(Para("Các trường hợp phát trong giờ học trực tuyến:"), Table(
            ["STT", "Thời gian phát", "Khung giờ cấm", "Giây trong khung", "Nội dung", "Loại", "Lý do"],
            [[str(i), f"{local_time(e.actual_start, zone)} – {local_time(e.actual_end, zone)[11:]}",
              report.blackout_names.get(e.blackout, e.blackout),
              vi_number(e.seconds, 1), f"{e.title} ({report.topic(e.category)})", KIND_VI[e.kind],
              e.reason or "(không ghi)"]
             for i, e in enumerate(report.exceptions, 1)], [1.3, 2.6, 3.2, 1.8, 2.6, 2.0, 3.0]))
    else:
        doc.add(Para("Không có lượt phát nào trong giờ học trực tuyến."))

    doc.add(Para("III. SỰ CỐ, LƯỢT PHÁT KHÔNG THỰC HIỆN ĐƯỢC", "heading"))
    if report.failures:
        counts = {s: sum(1 for f in report.failures if f.status == s) for s in ("failed", "skipped", "partial")}
        doc.add(Para("; ".join(f"{STATUS_VI[s]}: {n} lượt" for s, n in counts.items() if n) + "."))
        shown = report.failures[:LISTED_ROWS_MAX]
        doc.add(Table(["STT", "Thời gian (dự kiến / thực tế)", "Buổi", "Nội dung", "Tình trạng", "Lý do"],
                      [[str(i), local_time(f.actual_start or f.planned_start, zone),
                        report.slot_names.get(f.slot, f.slot),
                        f"{f.title} ({report.topic(f.category)})", STATUS_VI.get(f.status, f.status), f.reason]
                       for i, f in enumerate(shown, 1)], [1.3, 3, 1.5, 4, 2.2, 3.5]))
        if len(report.failures) > len(shown):
            doc.add(Para(f"(Chỉ liệt kê {len(shown)} trên {len(report.failures)} trường hợp; danh sách đầy đủ "
                         "trong bản JSON/CSV của báo cáo.)", "note"))
    else:
        doc.add(Para("Không có sự cố; mọi lượt phát trong nhật ký đều phát trọn vẹn."))

    if report.quota_misses:
        doc.add(Para("Những ngày chưa phát đủ số lượt tối thiểu theo kế hoạch tuyên truyền:"), Table(
            ["STT", "Ngày", "Chủ đề", "Đã phát", "Tối thiểu"],
            [[str(i), q.day.strftime("%d/%m/%Y"), report.topic(q.category), str(q.aired), str(q.minimum)]
             for i, q in enumerate(report.quota_misses[:LISTED_ROWS_MAX], 1)], [1.3, 3, 4, 2.5, 2.5]))

    doc.add(Para("IV. TÍNH TOÀN VẸN CỦA NHẬT KÝ PHÁT SÓNG", "heading"))
    if report.integrity.ok:
        doc.add(Para(f"Chuỗi băm của nhật ký phát sóng đã được kiểm tra: {vi_number(report.integrity.rows)} dòng, "
                     "toàn vẹn (không dòng nào bị sửa hoặc xóa)."))
    else:
        doc.add(integrity_alert(report.integrity))
    doc.add(Para("V. KHÓ KHĂN, ĐỀ XUẤT", "heading"),
            Para("......................................................................................"),
            Signature(["Như trên;", "UBND xã (để b/c);", "Lưu: ĐTT."], "TRƯỞNG ĐÀI"))
    if report.bulletins:
        doc.add(Para("PHỤ LỤC: THÔNG BÁO CỦA XÃ ĐÃ PHÁT VÀ NGƯỜI DUYỆT", "heading"), Table(
            ["STT", "Thông báo", "Số lượt phát", "Thời lượng (phút)", "Thời gian phát", "Người duyệt", "Duyệt lúc"],
            [[str(n), b.title + (" (khẩn cấp)" if b.emergency else ""), vi_number(b.plays), minutes_text(b.minutes),
              f"{_day_time(b.first_aired)} – {_day_time(b.last_aired)}", b.approved_by or "(không có bản ghi duyệt)",
              _day_time(b.approved_at)] for n, b in enumerate(report.bulletins, 1)],
            [1.3, 4.2, 1.5, 1.7, 3.3, 2.9, 2.6]))
    return doc


def _day_time(stamp: str) -> str:
    """'2021-02-22 05:30:00' or '2021-02-22T05:30:00+07:00' (station time) → '22/02/2021 05:30'."""
    if len(stamp) < 16:
        return stamp
    return f"{stamp[8:10]}/{stamp[5:7]}/{stamp[:4]} {stamp[11:16]}"


def topic_table(report: Report) -> Table:
    rows = [[str(i), report.topic(t.category), vi_number(t.plays), vi_number(t.items), minutes_text(t.minutes),
             vi_number(t.partial_plays)] for i, t in enumerate(report.topics, 1)]
    rows.append(["", "Tổng cộng", vi_number(report.plays), vi_number(report.items), minutes_text(report.minutes),
                 vi_number(report.partial_plays)])
    return Table(["STT", "Chủ đề", "Số lượt phát", "Số tin bài", "Tổng thời lượng (phút)",
                  "Lượt phát không trọn vẹn"], rows, [1.1, 5.2, 1.6, 1.4, 2.0, 1.6], total=True)
