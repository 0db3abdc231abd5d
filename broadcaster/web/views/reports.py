"""Báo cáo / reports: the results report for a period in json/csv/xlsx/docx/pdf, and the weekly logbook;
written by the same functions as `python main.py report` and `logbook`."""

from __future__ import annotations

import calendar
import tempfile
from datetime import date
from pathlib import Path

from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import render

from broadcaster.asrun.logbook import parse_iso_week
from broadcaster.commands.report import LOGBOOK_FORMATS, REPORT_FORMATS, write_logbook, write_report
from broadcaster.web import station_view


def reports(request):
    st = station_view.station()
    today = station_view.now(st).date()
    year, week, _ = today.isocalendar()
    return render(request, "web/reports.html", {
        "formats": REPORT_FORMATS, "logbook_formats": LOGBOOK_FORMATS, "month": f"{today:%Y-%m}",
        "week": f"{year}-W{week:02d}", "has_log": st.paths.asrun_log.exists()})


def _month(text: str) -> tuple[date, date] | None:
    try:
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        return None


def download_report(request):
    st = station_view.station()
    fmt = request.GET.get("format", "")
    span = _month(request.GET.get("month", ""))
    if request.GET.get("from") and request.GET.get("to"):
        try:
            span = date.fromisoformat(request.GET["from"]), date.fromisoformat(request.GET["to"])
        except ValueError:
            span = None
    if fmt not in REPORT_FORMATS or span is None or span[1] < span[0]:
        return HttpResponseBadRequest("format json|csv|xlsx|docx|pdf and month=YYYY-MM (or from/to) / "
                                      "định dạng và tháng không hợp lệ")
    period = request.GET.get("period", "all")
    period = period if period in ("all", "day", "week", "month") else "all"
    out = _scratch(st, f"bao-cao-{span[0]}-{span[1]}.{fmt}")
    write_report(st, st.paths.asrun_log, span[0], span[1], period, fmt, out)
    return FileResponse(open(out, "rb"), as_attachment=True, filename=out.name)  # noqa: SIM115


def download_logbook(request):
    st = station_view.station()
    fmt = request.GET.get("format", "docx")
    try:
        year, week = parse_iso_week(request.GET.get("week", ""))
    except ValueError:
        return HttpResponseBadRequest("week=YYYY-Www / tuần không hợp lệ")
    if fmt not in LOGBOOK_FORMATS:
        return HttpResponseBadRequest("format docx|pdf|xlsx")
    out = _scratch(st, f"so-nhat-ky-{year}-W{week:02d}.{fmt}")
    write_logbook(st, st.paths.asrun_log, year, week, fmt, out)
    return FileResponse(open(out, "rb"), as_attachment=True, filename=out.name)  # noqa: SIM115


def _scratch(st, name: str) -> Path:
    """A private folder for one download; the file is unlinked once opened (the response holds it)."""
    folder = Path(tempfile.mkdtemp(prefix="report-", dir=_downloads(st)))
    return folder / name


def _downloads(st) -> Path:
    folder = st.paths.state / "web-downloads"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.iterdir())[:-20]:  # keep the last few, drop the rest
        for f in old.iterdir():
            f.unlink(missing_ok=True)
        old.rmdir()
    return folder
