"""What the district's clip report says as a document (PDF, DOCX): per clip, by topic name, and per commune.

The figures are the collector's (feed/report.py); this only lays them out for the officer who files them, with
topics named from the district's own `topics:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from broadcaster.feed.report import DistrictReport
from broadcaster.reports.outline import (
    Document,
    Header,
    Para,
    Signature,
    Table,
    Title,
    short_name,
    vi_date,
    vi_long_date,
    vi_number,
)
from broadcaster.station.config import Identity, topic_name


def district_document(report: DistrictReport, district: Identity | None, topics: Mapping[str, str] | None,
                      issued: date) -> Document:
    doc = Document(landscape=True)
    name = (district.district or district.name) if district else ""
    span = (f"từ ngày {vi_date(date.fromisoformat(report.date_from))} "
            f"đến ngày {vi_date(date.fromisoformat(report.date_to))}")
    doc.add(Header(parent_body=f"UBND {name.upper()}" if name else "UBND HUYỆN", body="ĐÀI PHÁT THANH",
                   number="Số: ......./BC-ĐPT",
                   place_date=f"{short_name(name, ('Huyện', 'Thị xã', 'Thành phố', 'Quận'))}, {vi_long_date(issued)}"
                   if name else vi_long_date(issued).capitalize()),
            Title("BÁO CÁO", f"Kết quả tiếp nhận và phát tin bài của huyện tại các xã {span}"))

    doc.add(Para("I. THEO TIN BÀI", "heading"))
    if report.clips:
        rows = []
        for n, c in enumerate(report.clips, 1):
            rows.append([str(n), c.title, topic_name(topics, c.category) if c.category else "", str(c.targeted),
                         vi_number(c.delivered), vi_number(c.rejected), vi_number(c.plays), vi_number(c.minutes, 1),
                         ", ".join(c.not_delivered)])
        doc.add(Table(["STT", "Tin bài", "Chủ đề", "Số xã gửi", "Đã nhận", "Từ chối", "Lượt phát",
                       "Thời lượng (phút)", "Xã chưa nhận"], rows, [1.1, 4.5, 4.2, 1.6, 1.5, 1.5, 1.6, 2, 3.5]))
    else:
        doc.add(Para("Không có tin bài nào trong kỳ."))

    doc.add(Para("II. THEO XÃ", "heading"))
    if report.communes:
        doc.add(Table(["STT", "Xã", "Tin bài đã nhận", "Lượt phát tin bài của huyện", "Thời lượng (phút)",
                       "Tổng lượt phát", "Số ngày báo cáo", "Lần cuối liên lạc"],
                      [[str(n), m.commune, vi_number(m.delivered), vi_number(m.plays), vi_number(m.minutes, 1),
                        vi_number(m.all_plays), vi_number(m.days_reported), m.last_heard or "—"]
                       for n, m in enumerate(report.communes, 1)], [1.1, 3.5, 2.2, 2.8, 2.2, 2.2, 2.2, 5]))
    doc.add(Para("Xã không báo cáo trong kỳ: " + (", ".join(report.not_reporting) or "không có") + "."))
    doc.add(Signature(["Sở Thông tin và Truyền thông (để b/c);", "UBND huyện (để b/c);", "Lưu: ĐPT."],
                      "TRƯỞNG ĐÀI"))
    return doc
